"""The optional parts of monotui and the extra that installs each: a command or source whose extra is missing says
which `pip install 'monotui[EXTRA]'` to run (exit 2), never a traceback.

The base install runs the TUI, `demo`, `simulate`, `status`, the actions, and the deploy API, Prometheus,
Alertmanager and Unleash sources. Looking for a module here does not import it (nothing heavy loads).
"""

from __future__ import annotations

import importlib.util

# extra -> (module, the distribution that provides it)
EXTRAS: dict[str, tuple[tuple[str, str], ...]] = {
    "k8s": (("kr8s", "kr8s"), ("yaml", "pyyaml"), ("jsonpatch", "jsonpatch")),
    "serve": (("textual_serve", "textual-serve"), ("aiohttp", "aiohttp")),
}


class MissingExtra(Exception):
    """Raised where a feature's extra is not installed; its message says what to install."""


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or blocked package is as good as absent
        return False


def install_hint(extra: str) -> str:
    return (f"pip install 'monotui[{extra}]' (installed with pipx: pipx install --force 'monotui[{extra}]'; "
            f"with uv: uv tool install 'monotui[{extra}]')")


def missing(extra: str, what: str) -> str | None:
    """None when `extra` is installed; else one line: what needs it, what is missing, the command to run."""
    absent = [dist for module, dist in EXTRAS[extra] if not _importable(module)]
    if not absent:
        return None
    return f"{what} needs the {extra} extra ({', '.join(absent)} not installed): {install_hint(extra)}"


def require(extra: str, what: str) -> None:
    """Raise `MissingExtra` when `extra` is not installed."""
    if problem := missing(extra, what):
        raise MissingExtra(problem)
