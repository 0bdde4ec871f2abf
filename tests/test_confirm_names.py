"""The confirmation dialog compares a typed name as it looks: a look-alike of a protected service (a zero-width
space in its name) is protected, and typing the name a person can see confirms it."""

from __future__ import annotations

from pathlib import Path

from monotui.config import build_settings
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.models import Phase, Strategy
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.confirm import ConfirmActionScreen

from .conftest import ACTOR, make_world
from .ui_helpers import make_app, row_text, rows_loaded, select, settle, static_text

IMPOSTOR = "ledger-api\u200b"


async def test_a_look_alike_of_a_protected_service_needs_the_visible_name(audit_path: Path) -> None:
    world = make_world(names=(IMPOSTOR,))
    world.deploy(IMPOSTOR, strategy=Strategy.CANARY)
    with SimulatorServer(world, tick_interval=None) as sim:
        settings = build_settings({
            "sources": [{"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 30, "timeout": 2.0}],
            "actor": ACTOR, "audit_log": str(audit_path), "protected_services": ["ledger-api"]})
        app = make_app(Engine(settings))
        async with app.run_test(size=(120, 35)) as pilot:
            await rows_loaded(app)
            assert "ledger-api<U+200B>" in row_text(app, f"prod/{IMPOSTOR}")[0], "the table shows the impostor"
            select(app, f"prod/{IMPOSTOR}")
            await pilot.press("p")
            await settle(pilot)
            assert "type" in static_text(app, "#protected-hint").lower(), "the look-alike is protected"
            assert "ledger-api<U+200B>" in static_text(app, "#confirm-plan"), "and the dialog names it visibly"
            app.screen.query_one("#typed-name").focus()
            await pilot.pause()
            await pilot.press(*"ledger-api", "enter", "enter")
            await settle(pilot)
            assert not isinstance(app.screen, ConfirmActionScreen)
        assert world.rollout(IMPOSTOR).phase is Phase.PAUSED
    [record] = AuditLog(audit_path).outcomes()
    assert (record["outcome"], record["confirmed_by"]) == ("done", "typed-name")
