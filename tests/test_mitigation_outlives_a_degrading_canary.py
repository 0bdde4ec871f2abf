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
from monotui.config import build_settings
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.models import Phase, Strategy
from monotui.simulator.kube_api import KubeStandin, load_fixtures
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.confirm import ConfirmActionScreen

from .argo_fixtures import fixtures_dir
from .conftest import ACTOR, wait_until
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


async def confirmed_then_degraded(sim: SimulatorServer, engine_for: Callable[..., Engine], kind: ActionKind,
                                  ) -> tuple[Any, Any]:
    """The action planned (as confirmed) on a progressing bad canary, sent once monotui saw it degrade."""
    bad_canary_progressing(sim)
    async with engine_for(source(sim.url)) as engine:
        await engine.refresh_once()
        rollout = engine.state.rollout("prod", "cart-api")
        assert rollout is not None and rollout.phase is Phase.PROGRESSING
        plan = engine.plan("prod", rollout, kind)
        until_degraded(sim)
        await engine.refresh_once()  # monotui has seen it degrade before Enter
        return plan, await engine.execute(plan)


async def test_a_rollback_confirmed_while_progressing_is_sent_after_the_canary_degrades(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    plan, outcome = await confirmed_then_degraded(sim, engine_for, ActionKind.ROLLBACK)
    assert outcome.outcome == "done", outcome.error
    [posted] = sim.state.mutating_requests()
    assert json.loads(posted.body)["revision"] == plan.to_revision.revision
    assert sim.world.rollout("cart-api").revision == plan.to_revision.revision


async def test_an_abort_confirmed_while_progressing_is_sent_after_the_canary_degrades(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    _, outcome = await confirmed_then_degraded(sim, engine_for, ActionKind.ABORT)
    assert outcome.outcome == "done", outcome.error
    assert sim.world.rollout("cart-api").phase is Phase.ABORTED


async def test_a_pause_confirmed_at_one_weight_is_refused_at_another(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    _, outcome = await confirmed_then_degraded(sim, engine_for, ActionKind.PAUSE)
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


# ---- Argo Rollouts: the PATCH is conditional on the latest object that shows the confirmed revision -------------

def argo_engine(kube: KubeStandin, tmp_path: Path) -> Engine:
    return Engine(build_settings({
        "sources": [{"name": "k8s", "kind": "argo-rollouts", "kubeconfig": str(kube.kubeconfig(tmp_path / "kc")),
                     "timeout": 5.0}],
        "actor": ACTOR, "audit_log": str(tmp_path / "audit.log")}))


def controller_moves_on(kube: KubeStandin) -> None:
    kube.store.modify("Rollout", "jesse-test", "canary-demo",
                      lambda o: o["status"].update(message="analysis failed", currentStepIndex=0))


async def test_an_argo_abort_is_sent_after_the_controller_updated_the_rollout(tmp_path: Path) -> None:
    with KubeStandin(load_fixtures(fixtures_dir() / "canary")) as kube:
        async with argo_engine(kube, tmp_path) as engine:
            await engine.refresh_once()
            [(_, rollout)] = engine.find("canary-demo")
            plan = engine.plan("k8s", rollout, ActionKind.ABORT)
            controller_moves_on(kube)
            await engine.refresh_once()  # monotui saw the update: same revision
            outcome = await engine.execute(plan)
        assert outcome.outcome == "done", outcome.error
        after = kube.store.get("Rollout", "jesse-test", "canary-demo")
        assert after is not None and after["status"].get("abort") is True


async def test_an_argo_abort_is_refused_when_the_change_was_not_seen_yet(tmp_path: Path) -> None:
    with KubeStandin(load_fixtures(fixtures_dir() / "canary")) as kube:
        async with argo_engine(kube, tmp_path) as engine:
            await engine.refresh_once()  # a list: no watch runs, so the cache cannot see the next change
            [(_, rollout)] = engine.find("canary-demo")
            plan = engine.plan("k8s", rollout, ActionKind.ABORT)
            controller_moves_on(kube)
            outcome = await engine.execute(plan)
        assert outcome.outcome == "refused" and "the object has been modified" in (outcome.error or "")
        after = kube.store.get("Rollout", "jesse-test", "canary-demo")
        assert after is not None and after["status"].get("abort") is not True, "nothing was changed"
