"""A bad canary is flagged while it is still Progressing and turns Degraded seconds later, when its analysis fails —
often while the operator's roll-back confirmation is open. Roll back and abort keep their target through that
(their effect, "all traffic moves to r12", is the same), so `s`, Tab, Enter in real time rolls the release back
instead of refusing it; a new revision still refuses them, and an action whose confirmation describes where the
rollout stands (pause: "stays at 20% of traffic") is still refused when that moved."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from monotui.action_kinds import ActionKind
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.models import Phase, Strategy
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.confirm import ConfirmActionScreen

from .conftest import wait_until
from .ui_helpers import make_app, rows_loaded, select, settle, static_text


def source(url: str, **extra: Any) -> dict[str, Any]:
    return {"name": "prod", "kind": "http", "url": url, "poll_interval": 60.0, "timeout": 5.0, **extra}


def bad_canary_progressing(sim: SimulatorServer, service: str = "cart-api") -> None:
    sim.world.deploy(service, strategy=Strategy.CANARY, bad=True)
    for _ in range(400):
        if sim.world.rollout(service).current_step == 1:
            return
        sim.world.step()
    raise AssertionError("could not stage the canary")


def until_degraded(sim: SimulatorServer, service: str = "cart-api") -> None:
    for _ in range(2000):
        if sim.world.rollout(service).phase is Phase.DEGRADED:
            return
        sim.world.step()
    raise AssertionError("the bad canary never failed its analysis")


async def planned(engine: Engine, kind: ActionKind, service: str = "cart-api") -> Any:
    await engine.refresh_once()
    rollout = engine.state.rollout("prod", service)
    assert rollout is not None and rollout.phase is Phase.PROGRESSING
    return engine.plan("prod", rollout, kind)


async def test_a_rollback_confirmed_while_progressing_is_sent_after_the_canary_degrades(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    bad_canary_progressing(sim)
    async with engine_for(source(sim.url)) as engine:
        plan = await planned(engine, ActionKind.ROLLBACK)
        until_degraded(sim)
        await engine.refresh_once()  # monotui has seen it degrade before Enter
        outcome = await engine.execute(plan)
    assert outcome.outcome == "done", outcome.error
    [posted] = sim.state.mutating_requests()
    assert json.loads(posted.body)["revision"] == plan.to_revision.revision
    assert sim.world.rollout("cart-api").revision == plan.to_revision.revision


async def test_an_abort_confirmed_while_progressing_is_sent_after_the_canary_degrades(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    bad_canary_progressing(sim)
    async with engine_for(source(sim.url)) as engine:
        plan = await planned(engine, ActionKind.ABORT)
        until_degraded(sim)
        await engine.refresh_once()
        outcome = await engine.execute(plan)
    assert outcome.outcome == "done", outcome.error
    assert sim.world.rollout("cart-api").phase is Phase.ABORTED


async def test_a_pause_confirmed_at_one_weight_is_refused_at_another(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    bad_canary_progressing(sim)
    async with engine_for(source(sim.url)) as engine:
        plan = await planned(engine, ActionKind.PAUSE)
        until_degraded(sim)
        await engine.refresh_once()
        outcome = await engine.execute(plan)
    assert outcome.outcome == "refused" and "not Progressing" in (outcome.error or "")
    assert sim.state.mutating_requests() == []


async def test_the_open_rollback_dialog_stays_confirmable_as_the_canary_degrades(
        sim: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    bad_canary_progressing(sim)
    app = make_app(engine_for(source(sim.url, poll_interval=0.2)))
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app)
        select(app, "prod/cart-api")
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmActionScreen)
        until_degraded(sim)
        await wait_until(lambda: getattr(app.engine.state.rollout("prod", "cart-api"), "phase", None)
                         is Phase.DEGRADED, what="the app saw it degrade")
        await settle(pilot)
        assert "TARGET CHANGED" not in static_text(app, "#target-changed")
        assert not app.screen.query_one("#confirm").disabled
        await pilot.press("tab", "enter")
        await wait_until(lambda: [r["outcome"] for r in AuditLog(audit_path).read()] == ["intent", "done"],
                         what="the rollback done")
    assert sim.world.rollout("cart-api").phase is not Phase.DEGRADED
