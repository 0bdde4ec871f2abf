""""What changed?": a rollout that changed just before its service's health breached is a suspect, sorted first,
with the evidence; one key rolls it back; an optional guard pauses a suspect canary by itself (audited)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from monotui.engine.attention import Attention
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.models import Phase, Strategy
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World
from monotui.ui.screens.confirm import ConfirmActionScreen

from .conftest import ACTOR, make_world
from .ui_helpers import make_app, panel_text, rows_loaded, settle, static_text


def go_bad(world: World, service: str = "cart-api") -> None:
    """Deploy a bad canary and step until its errors cross 5% while it is still progressing."""
    world.deploy(service, bad=True, strategy=Strategy.CANARY)
    for _ in range(100):
        world.step()
        health = next(h for h in world.health() if h.service == service)
        if health.error_ratio >= 0.05:
            assert world.rollout(service).phase is Phase.PROGRESSING
            return
    raise AssertionError("the bad canary never breached")


async def test_a_rollout_that_changed_before_the_breach_is_a_suspect_with_evidence(
        engine_for: Callable[..., Engine]) -> None:
    world = make_world(initial_deploys=0)
    with SimulatorServer(world, tick_interval=None) as sim:
        async with engine_for(sim.url) as engine:
            await engine.refresh_once()
            assert not any(v.evidence for v in engine.state.views())
            go_bad(world)
            await engine.refresh_once()
            views = engine.state.views()
    first = views[0]
    assert first.rollout.service == "cart-api" and first.attention is Attention.SUSPECT
    ev = first.evidence
    assert ev is not None and ev.figure == "error ratio"
    assert ev.before is not None and ev.before < 0.01 and ev.now >= 0.05
    assert ev.changed_at >= first.rollout.started_at
    assert [v for v in views if v.evidence] == [first], "only the rollout that changed is a suspect"


async def test_one_key_rolls_the_suspect_back_through_the_confirmation(engine_for: Callable[..., Engine],
                                                                       audit_path: Path) -> None:
    world = make_world(initial_deploys=0)
    with SimulatorServer(world, tick_interval=None) as sim:
        before = world.rollout("cart-api").revision
        go_bad(world)
        app = make_app(engine_for({"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 60}))
        async with app.run_test(size=(120, 35)) as pilot:
            await rows_loaded(app)
            app.rollouts.table.move_cursor(row=app.rollouts.table.row_count - 1)  # the cursor is elsewhere
            await pilot.pause()
            await pilot.press("s")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmActionScreen)
            plan = static_text(app, "#confirm-plan")
            assert "cart-api" in plan and f"r{before + 1}" in plan and f"r{before}" in plan
            assert "SUSPECT" in panel_text(app, "detail")
            await pilot.press("tab", "enter")
            await settle(pilot, 0.3)
        [posted] = sim.state.mutating_requests()
        assert posted.path == "/v1/rollouts/cart-api/actions/rollback"
        assert world.rollout("cart-api").revision == before
    [record] = AuditLog(audit_path).outcomes()
    assert (record["action"], record["outcome"], record["automatic"]) == ("rollback", "done", False)


async def test_the_guard_pauses_a_suspect_canary_once_and_audits_it_as_automatic(
        engine_for: Callable[..., Engine], audit_path: Path) -> None:
    world = make_world(initial_deploys=0)
    with SimulatorServer(world, tick_interval=None) as sim:
        async with engine_for(sim.url, auto_pause_suspects=["cart-api"]) as engine:
            await engine.refresh_once()
            go_bad(world)
            await engine.refresh_once()
            first = await engine.run_guards()
            again = await engine.run_guards()
            events = [e.event for e in engine.state.recent_events(service="cart-api")]
        assert [o.outcome for o in first] == ["done"] and again == []
        assert world.rollout("cart-api").phase is Phase.PAUSED
        assert json.loads(sim.state.mutating_requests()[0].body)["reason"].startswith("automatic:")
        assert any("monotui guard" in e.actor for e in events), "shown in the events panel"
    [record] = AuditLog(audit_path).outcomes()
    assert (record["action"], record["automatic"], record["actor"]) == ("pause", True, ACTOR)


async def test_without_the_guard_nothing_is_paused(engine_for: Callable[..., Engine]) -> None:
    world = make_world(initial_deploys=0)
    with SimulatorServer(world, tick_interval=None) as sim:
        async with engine_for(sim.url) as engine:
            await engine.refresh_once()
            go_bad(world)
            await engine.refresh_once()
            assert await engine.run_guards() == []
        assert sim.state.mutating_requests() == []
