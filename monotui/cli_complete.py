"""Shell completion of SERVICE arguments (`monotui rollback ca<Tab>`, `freeze --service …`) in bash, zsh and fish,
through click's completion protocol (`monotui completion SHELL` prints the script).

Fast and offline-tolerant: the names come from the configured sources, polled once with a deadline of
POLL_DEADLINE_S seconds, and are kept in a cache file next to the audit log (`completion-names.json`). A cache
younger than FRESH_S seconds answers without asking the sources; when no source answers in time, the cache,
however old, answers (and counts as fresh again: the next Tab does not wait for the deadline again); with neither,
nothing is completed. Completion never prints an error: a broken config
completes nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.shell_completion import CompletionItem

if TYPE_CHECKING:
    from monotui.config import Settings

POLL_DEADLINE_S = 1.5
FRESH_S = 30.0
CACHE_NAME = "completion-names.json"


def _config_given(ctx: click.Context) -> str | None:
    for context in (ctx, *_parents(ctx)):
        value = context.params.get("config")
        if value:
            return str(value[0] if isinstance(value, tuple | list) else value)
    return None


def _parents(ctx: click.Context) -> list[click.Context]:
    out, parent = [], ctx.parent
    while parent is not None:
        out.append(parent)
        parent = parent.parent
    return out


def cache_path(settings: Settings) -> Path:
    return settings.audit_log.expanduser().parent / CACHE_NAME


def _read_cache(path: Path) -> tuple[float, list[str]] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return float(data["time"]), [str(n) for n in data["services"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_cache(path: Path, names: list[str]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(json.dumps({"time": time.time(), "services": names}), encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        pass  # completion without a cache still completes


async def _poll(settings: Settings) -> list[str] | None:
    from monotui.engine.core import Engine

    engine = Engine(settings)
    try:
        updates = await asyncio.wait_for(engine.refresh_once(), POLL_DEADLINE_S)
    except TimeoutError:
        return None
    finally:
        await engine.aclose()
    if not any(u.ok for u in updates):
        return None
    return sorted({view.rollout.service for view in engine.state.views()})


def service_names(settings: Settings) -> list[str]:
    """The configured sources' service names: a fresh cache, else one poll, else any cache."""
    path = cache_path(settings)
    cached = _read_cache(path)
    if cached is not None and time.time() - cached[0] < FRESH_S:
        return cached[1]
    names = asyncio.run(_poll(settings))
    if names is not None:
        _write_cache(path, names)
        return names
    if cached is None:
        return []
    _write_cache(path, cached[1])  # offline: the names known, without waiting at every Tab
    return cached[1]


def complete_service(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    try:
        from monotui.config import load_settings

        settings = load_settings(_config_given(ctx))
        names = service_names(settings) if settings.sources else []
    except Exception:  # a completion never fails loudly: the shell would print it in the middle of the line
        return []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]
