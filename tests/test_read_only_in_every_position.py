"""Read-only mode holds wherever it is given (any position on the command line, the environment) and in the TUI
no key, no suspect key and no palette command sends anything."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from monotui.action_kinds import ROLLOUT_ACTIONS
from monotui.cli import main
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.models import Phase
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.confirm import ConfirmActionScreen

from .conftest import ACTOR
from .test_action_safety import canary, source
from .ui_helpers import make_app, rows_loaded, select, settle


def _config(tmp_path: Path, url: str, audit_path: Path) -> str:
    path = tmp_path / "monotui.toml"
    path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n'
                    f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{url}"\ntimeout = 2\n')
    return str(path)


@pytest.mark.parametrize("form", [
    ["pause", "--read-only", "cart-api", "--yes", "--config", "{c}"],
    ["pause", "cart-api", "-y", "--config", "{c}", "--read-only"],
    ["--read-only", "--config", "{c}", "pause", "cart-api", "-y"],
    ["--read-only", "pause", "cart-api", "--yes", "--config={c}"],
    ["pause", "cart-api", "--yes", "--config", "{c}", "--", "--read-only"],  # usage error, nothing sent
    ["pause", "cart-api", "--yes", "--config", "{c}", "--read-o"],  # no prefix matching: usage error
])
def test_read_only_cannot_be_dropped_in_any_cli_position(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                                         form: list[str]) -> None:
    canary(sim)
    path = _config(tmp_path, sim.url, audit_path)
    code = main([arg.format(c=path) for arg in form])
    assert code in (1, 2)
    assert sim.state.mutating_requests() == []
    assert sim.world.rollout("cart-api").phase is Phase.PROGRESSING


def test_read_only_from_the_environment_sends_nothing(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    canary(sim)
    monkeypatch.setenv("MONOTUI_READ_ONLY", "1")
    assert main(["pause", "cart-api", "--yes", "--config", _config(tmp_path, sim.url, audit_path)]) == 1
    assert sim.state.mutating_requests() == []


async def test_no_key_sends_anything_in_read_only_mode(sim: SimulatorServer, engine_for: Callable[..., Engine],
                                                       audit_path: Path) -> None:
    """Every action key, the suspect key `s`, and the command palette (ctrl+p, typing an action) in read-only."""
    canary(sim)
    app = make_app(engine_for({**source(sim.url), "poll_interval": 0.2}, read_only=True))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        select(app, "prod/cart-api")
        for spec in ROLLOUT_ACTIONS:
            await pilot.press(spec.key)
            await settle(pilot)
            assert not isinstance(app.screen, ConfirmActionScreen)
            await pilot.press("tab", "enter", "enter")
            await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Pause", "enter")
        await settle(pilot, 0.3)
        await pilot.press("tab", "enter", "enter")
        await settle(pilot)
    assert sim.state.mutating_requests() == []
    assert [r["outcome"] for r in AuditLog(audit_path).read() if r["outcome"] != "refused"] == []
