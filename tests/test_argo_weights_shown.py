"""What the screen shows for Argo Rollouts weights above 100 (maxTrafficWeight), odd maxTrafficWeights and a
rollout without a strategy: the plugin's fixtures, changed as noted, on the Kubernetes API stand-in."""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec import ValidationError, convert

from monotui.action_kinds import ActionKind
from monotui.config import ArgoRolloutsSourceConfig, build_settings
from monotui.engine.actions import plan_action
from monotui.engine.attention import Attention
from monotui.engine.core import Engine
from monotui.engine.state import RolloutView
from monotui.formats import share_number
from monotui.models import Rollout
from monotui.providers.argo_rollouts.provider import ArgoRolloutsProvider
from monotui.render.detail import steps_text, weights_text
from monotui.render.rollouts import weight_text
from monotui.simulator.kube_api import KubeStandin, load_fixtures

from .argo_fixtures import fixtures_dir
from .conftest import wait_until


def routed(max_weight: Any, first_weight: int | None = None, **status: Any) -> Any:
    def change(ro: dict[str, Any]) -> None:
        canary = ro["spec"]["strategy"]["canary"]
        canary.setdefault("trafficRouting", {})["maxTrafficWeight"] = max_weight
        if first_weight is not None:
            canary["steps"][0]["setWeight"] = first_weight
        ro["status"].update(status)
    return change


@pytest.fixture
def kube() -> Iterator[KubeStandin]:
    with KubeStandin(load_fixtures(fixtures_dir() / "canary") + load_fixtures(fixtures_dir() / "blue-green")) as server:
        store = server.store
        # the fixture of info_test.go TestActualWeightWithoutExistingWeight, counting weights to 1000
        store.modify("Rollout", "jesse-test", "canary-demo-weights-na", routed(1000, 500))
        # maxTrafficWeight 0 at the first step (setWeight 20, routed weight 20), and -5 past the last step
        store.modify("Rollout", "jesse-test", "canary-demo-weights", routed(0))
        store.modify("Rollout", "jesse-test", "canary-demo-workloadRef", routed(-5, currentStepIndex=8))
        # neither canary nor blueGreen (GetReplicaSetInfo tags nothing stable)
        store.modify("Rollout", "jesse-test", "bluegreen-demo", lambda ro: ro["spec"].update(strategy={}))
        yield server


def source(kube: KubeStandin, tmp_path: Path) -> ArgoRolloutsSourceConfig:
    return ArgoRolloutsSourceConfig(name="k8s", kind="argo-rollouts", context="standin", timeout=5,
                                    kubeconfig=kube.kubeconfig(tmp_path / "kubeconfig"))


async def test_weights_as_the_plugin_computes_them_with_their_share(kube: KubeStandin, tmp_path: Path) -> None:
    """The plugin's SetWeight/ActualWeight (info/rollout_info.go NewRolloutInfo): 500/500 of a maxTrafficWeight of
    1000, not clamped to 100; the share of traffic, 50%, where monotui prints a percentage (the pause plan, the
    steps). maxTrafficWeight 0 or -5 gives no share, and nothing divides by it."""
    provider = ArgoRolloutsProvider(source(kube, tmp_path))
    shown = {r.service: r for r in (await provider.poll()).rollouts or []}
    await provider.aclose()
    r = shown["canary-demo-weights-na"]
    assert (r.set_weight, r.actual_weight, r.max_weight, r.share(r.actual_weight)) == (500, 500, 1000, 50.0)
    assert [s.weight for s in r.steps if s.weight is not None] == [500, 40, 60, 80]
    assert weights_text(r) == "weight 500 set / 500 actual of 1000 (50% / 50% of traffic)"
    assert steps_text(r).plain.split()[:4] == ["▸", "50%", "·", "pause"]
    assert plan_action("k8s", r, ActionKind.PAUSE).effect.endswith("stays at 50% of traffic until resumed")
    zero = shown["canary-demo-weights"]
    assert (zero.set_weight, zero.actual_weight, zero.max_weight, zero.share(20)) == (20, 20, 0, None)
    assert weights_text(zero) == "weight 20 set / 20 actual of 0 (no share of traffic)"
    assert plan_action("k8s", zero, ActionKind.RESUME).effect.endswith("continues from weight 20")
    negative = shown["canary-demo-workloadRef"]
    # past the last step the plugin shows the max weight, -5; a weight below 0 is shown as 0
    assert (negative.set_weight, negative.actual_weight, negative.max_weight) == (0, 0, -5)
    assert shown["canary-demo"].max_weight == 100, "no maxTrafficWeight: 100"


async def test_no_stable_revision_or_tag_without_a_strategy(kube: KubeStandin, tmp_path: Path) -> None:
    """info/replicaset_info.go GetReplicaSetInfo: without canary or blueGreen no ReplicaSet is stable (nor active,
    nor preview), so no image is tagged and no stable revision is named."""
    provider = ArgoRolloutsProvider(source(kube, tmp_path))
    shown = {r.service: r for r in (await provider.poll()).rollouts or []}
    await provider.aclose()
    r = shown["bluegreen-demo"]
    assert r.stable is None
    assert [(i.image, i.tags) for i in r.images] == [("argoproj/rollouts-demo:blue", []),
                                                      ("argoproj/rollouts-demo:green", [])]


async def test_the_screen_shows_shares_of_traffic(kube: KubeStandin, tmp_path: Path) -> None:
    """The Weight column is set/actual share of traffic in % (50/50% for the plugin's 500/500 of 1000); the bare
    weights when maxTrafficWeight gives no share; the detail panel has the plugin's weights and the share."""
    from monotui.ui.app import MonotuiApp

    from .ui_helpers import cell, panel_text, rows_loaded, select

    settings = build_settings({
        "sources": [{"name": "k8s", "kind": "argo-rollouts", "context": "standin",
                     "kubeconfig": str(kube.kubeconfig(tmp_path / "kubeconfig"))}],
        "audit_log": str(tmp_path / "audit.log")})
    app = MonotuiApp(Engine(settings))
    async with app.run_test(size=(160, 50)):
        await rows_loaded(app, 7)
        assert cell(app, "k8s/jesse-test/canary-demo-weights-na", "weight") == "50/50%"
        assert cell(app, "k8s/jesse-test/canary-demo-weights", "weight") == "20/20"
        assert cell(app, "k8s/jesse-test/canary-demo-workloadRef", "weight") == "0/0"
        assert cell(app, "k8s/jesse-test/canary-demo", "weight") == "20/0%"
        # no strategy: the plugin prints neither strategy nor weights; monotui's row is a canary without steps
        no_strategy = "k8s/jesse-test/bluegreen-demo"
        assert [cell(app, no_strategy, c) for c in ("strategy", "step", "weight")] == ["canary", "-", "100/100%"]
        select(app, "k8s/jesse-test/canary-demo-weights-na")
        await wait_until(lambda: panel_text(app, "detail").startswith("canary-demo-weights-na"))
        detail = panel_text(app, "detail")
        assert "weight 500 set / 500 actual of 1000 (50% / 50% of traffic)" in detail
        assert "▸ 50%" in detail
        select(app, "k8s/jesse-test/bluegreen-demo")
        await wait_until(lambda: panel_text(app, "detail").startswith("bluegreen-demo"))
        detail = panel_text(app, "detail")
        assert "argoproj/rollouts-demo:blue" in detail and "(stable" not in detail
        assert not any(line.startswith("Stable") for line in detail.splitlines())


@functools.cache
def weights_fixture() -> dict[str, Any]:
    [ro] = [o for o in load_fixtures(fixtures_dir() / "canary") if o["metadata"]["name"] == "canary-demo-weights"]
    return ro


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(max_weight=st.none() | st.integers(-2**31, 2**31) | st.sampled_from([0, -1, 1, 100, 1000, "1000", "x"]),
       set_weight=st.integers(-10, 2**31), routed=st.none() | st.integers(-10, 2**31),
       index=st.integers(0, 9), available=st.integers(0, 6))
def test_any_max_traffic_weight_is_shown_without_raising(max_weight: Any, set_weight: int, routed: int | None,
                                                          index: int, available: int) -> None:
    """Whatever maxTrafficWeight, setWeight, routed weight and step: the row, the detail panel and the action
    plans render, and the shares stay within 0–100% (no division by a zero or negative maximum)."""
    ro = copy.deepcopy(weights_fixture())
    canary = ro["spec"]["strategy"]["canary"]
    if max_weight is not None:
        canary["trafficRouting"]["maxTrafficWeight"] = max_weight
    canary["steps"][0]["setWeight"] = set_weight
    ro["status"].update(currentStepIndex=index, availableReplicas=available)
    if routed is None:
        del ro["status"]["canary"]["weights"]
    else:
        ro["status"]["canary"]["weights"]["canary"]["weight"] = routed
    provider = ArgoRolloutsProvider(ArgoRolloutsSourceConfig(name="k", kind="argo-rollouts"))
    provider.cache.put("Rollout", ro)
    r = provider.to_rollout(ro)
    shares = [r.share(w) for w in (r.set_weight, r.actual_weight)]
    if r.max_weight <= 0:
        assert shares == [None, None]
    else:
        assert all(s is not None and 0 <= s <= 100 for s in shares)
    weights_text(r), steps_text(r), weight_text(RolloutView("k", r, None, Attention.PROGRESSING, False, False))
    for kind in (ActionKind.PAUSE, ActionKind.RESUME):
        plan_action("k", r, kind)


def test_weights_beyond_max_weight_are_bad_input() -> None:
    """The deploy API contract: weights count up to max_weight (100 unless stated); a weight above it is rejected
    with a clear error; a share is printed to one decimal."""
    base = {"id": "a", "service": "a", "environment": "e", "strategy": "canary", "phase": "Progressing",
            "revision": 2, "version": "v2", "started_at": "2026-11-26T09:00:00Z"}
    with pytest.raises(ValidationError, match="a weight of 150 is more than max_weight 100"):
        convert({**base, "set_weight": 150}, Rollout)
    with pytest.raises(ValidationError, match="a weight of 1500 is more than max_weight 1000"):
        convert({**base, "max_weight": 1000, "steps": [{"weight": 1500}]}, Rollout)
    r = convert({**base, "max_weight": 1000, "set_weight": 333, "actual_weight": 1}, Rollout)
    assert weight_text(RolloutView("k", r, None, Attention.PROGRESSING, False, False)) == "33.3/0.1%"
    assert convert({**base, "max_weight": 3, "set_weight": 1}, Rollout).share(1) == pytest.approx(33.33, 0.01)
    assert [share_number(s) for s in (100 / 3, 0.01, 0, 99.99, 100)] == ["33.3", "<0.1", "0", ">99.9", "100"]
