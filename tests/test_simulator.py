"""The simulated production behaves like a deploy system: deterministic, progressing, going bad, obeying actions."""

from __future__ import annotations

import re

import httpx
import pytest

from monotui.action_kinds import ActionKind
from monotui.models import EventKind, Phase, Strategy
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import ActionConflict, SimConfig, World

from .conftest import START, make_world


def run(world: World, seconds: float) -> None:
    for _ in range(int(seconds / world.config.tick)):
        world.step()


def test_same_seed_same_production() -> None:
    a, b = World(SimConfig(seed=9, deploy_interval=2), start=START), World(SimConfig(seed=9, deploy_interval=2),
                                                                             start=START)
    run(a, 120)
    run(b, 120)
    assert a.rollouts() == b.rollouts()
    assert list(a.events) == list(b.events)
    c = World(SimConfig(seed=10, deploy_interval=2), start=START)
    run(c, 120)
    assert c.rollouts() != a.rollouts()


def test_default_demo_has_deploys_in_flight_and_one_going_bad() -> None:
    world = World(SimConfig(), start=START)
    phases = [r.phase for r in world.rollouts()]
    assert phases.count(Phase.PROGRESSING) == 3
    run(world, 40)
    assert any(r.phase is Phase.DEGRADED for r in world.rollouts())


def test_canary_advances_through_weights_and_pauses_to_healthy(world: World) -> None:
    rollout = world.deploy("cart-api", strategy=Strategy.CANARY)
    assert (rollout.phase, rollout.current_step, rollout.set_weight) == (Phase.PROGRESSING, 0, 0)
    seen_weights = set()
    for _ in range(200):
        world.step()
        r = world.rollout("cart-api")
        seen_weights.add(r.set_weight)
        if r.phase is Phase.HEALTHY:
            break
    assert r.phase is Phase.HEALTHY and r.set_weight == r.actual_weight == 100
    assert {10, 25, 50, 75} <= seen_weights
    assert r.stable is not None and r.stable.revision == r.revision
    kinds = [e.kind for e in world.events if e.service == "cart-api"]
    assert kinds[0] is EventKind.DEPLOY_STARTED and kinds[-1] is EventKind.COMPLETED


def test_bad_release_error_rate_rises_with_traffic_and_ends_degraded(world: World) -> None:
    world.deploy("cart-api", bad=True, strategy=Strategy.CANARY)
    ratios = []
    for _ in range(100):
        world.step()
        ratios.append(next(h.error_ratio for h in world.health() if h.service == "cart-api"))
        if world.rollout("cart-api").phase is Phase.DEGRADED:
            break
    rollout = world.rollout("cart-api")
    assert rollout.phase is Phase.DEGRADED
    assert "analysis failed" in rollout.message
    assert ratios[-1] > 0.05 > ratios[0]
    run(world, 30)
    assert world.rollout("cart-api").phase is Phase.DEGRADED  # nobody acted: it stays Degraded


def test_automatic_rollback_when_configured() -> None:
    world = make_world(auto_rollback=True)
    before = world.rollout("cart-api").revision
    world.deploy("cart-api", bad=True, strategy=Strategy.CANARY)
    run(world, 30)
    rollout = world.rollout("cart-api")
    assert rollout.phase is Phase.HEALTHY and rollout.revision == before and rollout.rolled_back_at is not None


def test_manual_gate_waits_for_a_human(world: World) -> None:
    world.deploy("cart-api", strategy=Strategy.CANARY, manual_gate=True)
    run(world, 60)
    rollout = world.rollout("cart-api")
    assert rollout.phase is Phase.PAUSED and "waiting" in (rollout.pause_reason or "")
    run(world, 60)
    assert world.rollout("cart-api").current_step == rollout.current_step
    world.act("cart-api", ActionKind.RESUME, "alice")
    run(world, 60)
    assert world.rollout("cart-api").phase is Phase.HEALTHY


def test_pause_stops_progress_and_promote_advances(world: World) -> None:
    world.deploy("cart-api", strategy=Strategy.CANARY)
    run(world, 1)
    world.act("cart-api", ActionKind.PAUSE, "alice", "looking")
    step = world.rollout("cart-api").current_step
    run(world, 30)
    paused = world.rollout("cart-api")
    assert paused.phase is Phase.PAUSED and paused.current_step == step and "alice" in (paused.pause_reason or "")
    promoted, _ = world.act("cart-api", ActionKind.PROMOTE, "alice")
    assert promoted.current_step == (step or 0) + 1 and promoted.phase is Phase.PROGRESSING


def test_abort_and_rollback_return_traffic_to_stable(world: World) -> None:
    stable = world.rollout("cart-api").revision
    world.deploy("cart-api", bad=True, strategy=Strategy.CANARY)
    run(world, 4)
    aborted, event = world.act("cart-api", ActionKind.ABORT, "alice")
    assert aborted.phase is Phase.ABORTED and aborted.actual_weight == 0 and event.kind is EventKind.ABORTED
    run(world, 2)
    assert next(h for h in world.health() if h.service == "cart-api").error_ratio < 0.02
    rolled, _ = world.act("cart-api", ActionKind.ROLLBACK, "alice")
    assert rolled.revision == stable and rolled.phase is Phase.HEALTHY


def test_rollback_of_a_healthy_release_goes_to_the_previous_one(world: World) -> None:
    rollout = world.rollout("cart-api")
    assert rollout.rollback_to is not None and rollout.rollback_to.revision == rollout.revision - 1
    rolled, _ = world.act("cart-api", ActionKind.ROLLBACK, "alice", revision=rollout.revision - 2)
    assert rolled.revision == rollout.revision - 2


@pytest.mark.parametrize("action", [ActionKind.PROMOTE, ActionKind.PAUSE, ActionKind.RESUME, ActionKind.ABORT,
                                    ActionKind.PROMOTE_FULL])
def test_actions_that_do_not_fit_a_healthy_rollout_conflict(world: World, action: ActionKind) -> None:
    with pytest.raises(ActionConflict, match="Healthy"):
        world.act("cart-api", action, "alice")


def test_metrics_are_prometheus_text(sim: SimulatorServer) -> None:
    sim.world.step()
    text = httpx.get(f"{sim.url}/metrics").text
    sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})? -?[0-9.e+]+$')
    for line in text.splitlines():
        assert line.startswith("# ") or sample.match(line), line
    assert 'http_requests_total{service="cart-api",code="500"}' in text
    assert 'http_request_duration_seconds_bucket{service="cart-api",le="+Inf"}' in text
    assert "# TYPE http_request_duration_seconds histogram" in text


def test_openapi_document_is_served_and_lists_every_operation(sim: SimulatorServer) -> None:
    doc = httpx.get(f"{sim.url}/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {"/v1/rollouts", "/v1/rollouts/{rollout_id}",
                                 "/v1/rollouts/{rollout_id}/actions/{action}", "/v1/rollouts/{rollout_id}/revisions",
                                 "/v1/health", "/v1/events",
                                 "/v1/changes/rollouts", "/v1/changes/health", "/v1/freeze",
                                 "/v1/rollouts/{rollout_id}/logs"}
    for name in ("Rollout", "ServiceHealth", "Event", "ActionRequest", "ApiError", "RolloutChanges", "HealthChanges"):
        assert name in doc["components"]["schemas"]


def test_five_thousand_services() -> None:
    world = World(SimConfig(services=5000, seed=1, deploy_interval=0.01), start=START)
    world.step()
    assert len({r.service for r in world.rollouts()}) == 5000


def test_a_large_production_samples_its_health_in_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past HEALTH_SAMPLES_PER_TICK services a tick samples that many, in turn, each over the time since its last
    sample: a tick of 100,000 services stays shorter than a tick, and every service's health still moves."""
    monkeypatch.setattr("monotui.simulator.world.HEALTH_SAMPLES_PER_TICK", 4)
    world = World(SimConfig(services=10, seed=1, deploy_interval=0), start=START)
    points = {h.service: len(h.series.error_ratio) for h in world.health()}
    world.step()
    sampled = {h.service for h in world.health() if len(h.series.error_ratio) > points[h.service]}
    assert len(sampled) == 4
    world.step()
    world.step()  # three ticks: every one of the 10 sampled once, none twice (its time would be counted twice)
    after = {h.service: len(h.series.error_ratio) - points[h.service] for h in world.health()}
    assert sorted(after.values()) == [1] * 10
    served = {name: sum(svc.requests.values()) for name, svc in world.services.items()}
    for _ in range(3):
        world.step()
    for svc in world.services.values():  # each over three ticks' time (1.5 s), not one tick's
        assert sum(svc.requests.values()) - served[svc.name] == pytest.approx(svc.rps * 3 * world.config.tick)
    assert {h.series.interval_s for h in world.health()} == {3 * world.config.tick}
