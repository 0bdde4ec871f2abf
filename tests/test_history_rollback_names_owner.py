"""Rolling back from the history screen (`h`, an older revision, Enter) at 80×24: its confirmation says who owns
the service and who is on call, as `b`'s does (it said "owner: unknown (no team configured)")."""

from __future__ import annotations

from pathlib import Path

from monotui.config import build_settings
from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.confirm import ConfirmActionScreen
from monotui.ui.screens.history import HistoryScreen

from .conftest import ACTOR, wait_until
from .ui_helpers import make_app, rows_loaded, screen_lines, select, settle, static_text


async def test_history_rollback_confirmation_names_the_owner_at_80x24(sim: SimulatorServer, audit_path: Path) -> None:
    settings = build_settings({
        "sources": [{"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 30, "timeout": 2.0}],
        "actor": ACTOR, "audit_log": str(audit_path),
        "services": {"cart-api": {"team": "payments-team", "on_call": "alice"}}})
    app = make_app(Engine(settings))
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app)
        select(app, "prod/cart-api")
        await pilot.press("h")
        await wait_until(lambda: isinstance(app.screen, HistoryScreen) and len(app.screen.revisions) > 1,
                         timeout=20, what="the history and its revisions")
        await pilot.press("j", "enter")  # an older revision
        await wait_until(lambda: isinstance(app.screen, ConfirmActionScreen), what="the roll-back dialog")
        await settle(pilot)
        assert static_text(app, "#confirm-owner") == "owner: payments-team, on call: alice"
        assert any("owner: payments-team, on call: alice" in line for line in screen_lines(app))
        await pilot.press("escape")
