"""The layers do not leak: everything below the UI imports without textual, and below the renderers without rich."""

from __future__ import annotations

import subprocess
import sys


def non_ui_modules() -> list[str]:
    """Every module of the package outside `monotui.ui` and the UI's door to Textual's internals
    (`monotui.compat.textual`), generated, so a new module cannot be forgotten."""
    import pkgutil

    import monotui

    names = [m.name for m in pkgutil.walk_packages(monotui.__path__, "monotui.")]
    return sorted(n for n in names
                  if not n.startswith("monotui.ui") and n not in ("monotui.__main__", "monotui.compat.textual"))


def test_the_module_list_is_generated() -> None:
    modules = non_ui_modules()
    assert {"monotui.engine.core", "monotui.providers.http_deploy", "monotui.cli"} <= set(modules)
    assert not any(m.startswith("monotui.ui") for m in modules)


def test_nothing_below_the_ui_imports_textual() -> None:
    """Import every non-UI module in one fresh interpreter; the first one after which textual is loaded is named."""
    code = ("import importlib, sys\n"
            f"for m in {non_ui_modules()!r}:\n"
            "    importlib.import_module(m)\n"
            "    if any(k.split('.')[0] == 'textual' for k in sys.modules):\n"
            "        print(m); break\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "", f"{out.stdout.strip()} pulled in textual"


def below_rendering_modules() -> list[str]:
    """The modules under the renderers: models, config, providers, the engine and the pure helpers."""
    below = ("monotui.models", "monotui.config", "monotui.providers", "monotui.engine", "monotui.text",
             "monotui.formats", "monotui.names")
    return [m for m in non_ui_modules() if m.startswith(below)]


def test_the_engine_core_loads_neither_rich_nor_textual() -> None:
    code = ("import sys, monotui.engine.core\n"
            "print(sorted({k.split('.')[0] for k in sys.modules} & {'rich', 'textual'}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_nothing_below_the_renderers_imports_rich() -> None:
    """Import every module below the renderers in one fresh interpreter; the first one after which rich (or
    textual, or a rendering module) is loaded is named. httpx's own command line (`httpx._main`, which imports
    rich when rich is installed) is kept out: it is not ours, and monotui never runs it."""
    modules = below_rendering_modules()
    assert {"monotui.engine.core", "monotui.engine.actions", "monotui.text", "monotui.formats"} <= set(modules)
    code = ("import importlib, sys\n"
            "sys.modules['httpx._main'] = None  # httpx falls back to a stub `main` without it\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module(m)\n"
            "    if any(k.split('.')[0] in ('rich', 'textual') or k.startswith(('monotui.render', 'monotui.ui'))\n"
            "           for k in sys.modules):\n"
            "        print(m); break\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "", f"{out.stdout.strip()} pulled in rich, textual or a renderer"


def test_the_import_contracts_hold_for_the_layers_below_the_ui() -> None:
    """import-linter's contracts (pyproject `[tool.importlinter]`) for models, config, providers, the engine and
    the simulator are kept, and the engine has no import circle (type-only imports included)."""
    import shutil
    from pathlib import Path

    import monotui

    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    root = Path(monotui.__file__).parent.parent
    out = subprocess.run([lint], capture_output=True, text=True, timeout=120, cwd=root)
    for contract in ("import no UI KEPT", "The simulator imports no client code KEPT",
                     "No import circle inside the engine KEPT"):
        assert contract in " ".join(out.stdout.split()), out.stdout


def test_providers_and_engine_choose_by_capability_not_kind_name() -> None:
    """Behaviour follows what a provider implements, never `kind == "prometheus"` (the factory maps kinds)."""
    import re
    from pathlib import Path

    import monotui

    root = Path(monotui.__file__).parent
    kinds = "http|argo-rollouts|prometheus|alertmanager|unleash"
    # a source's or config's kind compared with a kind name (ProviderError.kind == "http" is an error kind)
    owner = r"(?:s|source|src|config|cfg|c|settings\.source\([^)]*\))"
    pattern = re.compile(rf"""\b{owner}\.kind\s*==\s*["']({kinds})["']""")
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.name != "factory.py" and pattern.search(p.read_text())]
    assert offenders == []


def test_ui_does_not_build_http_requests() -> None:
    """UI modules never import httpx: they ask the engine."""
    from pathlib import Path

    import monotui.ui

    ui_dir = Path(monotui.ui.__file__).parent
    offenders = [p.name for p in ui_dir.rglob("*.py") if "httpx" in p.read_text()]
    assert offenders == []
