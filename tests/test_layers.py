"""The layers do not leak: everything below the UI imports without textual."""

from __future__ import annotations

import subprocess
import sys

import pytest

NON_UI = [
    "monotui.models",
    "monotui.config",
    "monotui.providers",
    "monotui.providers.http_deploy",
    "monotui.engine",
    "monotui.render.rollouts",
    "monotui.render.detail",
    "monotui.simulator.server",
    "monotui.cli",
    "monotui.cli_actions",
    "monotui.engine.names",
]


@pytest.mark.parametrize("module", NON_UI)
def test_imports_without_textual(module: str) -> None:
    code = f"import sys, {module}; bad = sorted(m for m in sys.modules if m.split('.')[0] == 'textual'); print(bad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"{module} pulled in textual: {out.stdout}"


def test_ui_does_not_build_http_requests() -> None:
    """UI modules never import httpx: they ask the engine."""
    from pathlib import Path

    import monotui.ui

    ui_dir = Path(monotui.ui.__file__).parent
    offenders = [p.name for p in ui_dir.rglob("*.py") if "httpx" in p.read_text()]
    assert offenders == []
