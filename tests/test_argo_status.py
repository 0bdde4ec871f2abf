"""The Argo Rollouts status computation agrees with the kubectl plugin for every fixture rollout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monotui.providers.argo_rollouts import status as plugin
from monotui.simulator.kube_api import load_fixtures

from .argo_fixtures import PLUGIN_SHOWS, fixtures_dir


def scenario(folder: str) -> list[dict[str, Any]]:
    return load_fixtures(fixtures_dir() / folder)


def kind(objects: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == name]


@pytest.mark.parametrize(("folder", "name", "phase", "message", "strategy", "step", "set_w", "actual_w", "images"),
                         PLUGIN_SHOWS, ids=[f"{p[0]}/{p[1]}" for p in PLUGIN_SHOWS])
def test_fixture_rollout_as_the_plugin_shows_it(folder: str, name: str, phase: str, message: str, strategy: str,
                                                step: str | None, set_w: int | None, actual_w: int | None,
                                                images: list[str]) -> None:
    objects = scenario(folder)
    [ro] = [o for o in kind(objects, "Rollout") if o["metadata"]["name"] == name]
    assert plugin.rollout_phase(ro) == (phase, message)
    assert plugin.step_text(ro) == step
    if strategy == "canary":
        rs_infos = plugin.replica_set_info(ro, kind(objects, "ReplicaSet"))
        assert plugin.set_weight(ro) == set_w
        assert plugin.actual_weight(ro, rs_infos) == actual_w
    rs_infos = plugin.replica_set_info(ro, kind(objects, "ReplicaSet"))
    exp_rs = plugin.experiment_replica_sets(ro, kind(objects, "Experiment"), kind(objects, "ReplicaSet"))
    assert [str(i) for i in plugin.images(rs_infos, exp_rs)] == images


def test_revisions_as_the_plugin_lists_them() -> None:
    objects = scenario("canary")
    ro = kind(objects, "Rollout")[0]
    assert [r.revision for r in plugin.replica_set_info(ro, kind(objects, "ReplicaSet"))] == [31, 30, 29]
    bg = scenario("blue-green")
    assert [r.revision for r in plugin.replica_set_info(kind(bg, "Rollout")[0], kind(bg, "ReplicaSet"))] == [11, 10, 8]


def test_analysis_run_with_metric_values() -> None:
    objects = scenario("experiment-analysis")
    [run] = plugin.analysis_runs(kind(objects, "Rollout")[0], kind(objects, "AnalysisRun"))
    assert (run.phase, run.revision) == ("Inconclusive", 2)
    [metric] = run.metrics
    assert (metric.name, metric.successful, metric.failed, metric.inconclusive, metric.error) == (
        "random-fail", 4, 4, 1, 1)


# The rules the fixtures do not reach (a controller that sets status.phase, unpausing, spec not observed…)


def rollout(**status: Any) -> dict[str, Any]:
    return {"metadata": {"generation": 3}, "spec": {"replicas": 2, "strategy": {"canary": {"steps": [
        {"setWeight": 10}, {"pause": {"duration": "1m30s"}}, {"setWeight": 50}]}}},
        "status": {"observedGeneration": "3", **status}}


def test_controller_phase_is_shown_as_is() -> None:
    assert plugin.rollout_phase(rollout(phase="Paused", message="CanaryPauseStep")) == ("Paused", "CanaryPauseStep")


def test_spec_not_yet_observed_comes_first() -> None:
    ro = rollout(phase="Healthy")
    ro["metadata"]["generation"] = 4
    assert plugin.rollout_phase(ro) == ("Progressing", "waiting for rollout spec update to be observed")


def test_unpausing() -> None:
    assert plugin.rollout_phase(rollout(controllerPause=True, phase="Paused")) == (
        "Progressing", "waiting for rollout to unpause")


def test_manual_pause_and_restart() -> None:
    ro = rollout()
    ro["spec"]["paused"] = True
    assert plugin.calculate_phase(ro) == ("Paused", "manually paused")
    ro["spec"]["paused"] = False
    ro["spec"]["restartAt"] = "2026-01-01T00:00:00Z"
    assert plugin.calculate_phase(ro) == ("Progressing", "rollout is restarting")


def test_healthy_when_fully_promoted() -> None:
    ro = rollout(updatedReplicas=2, availableReplicas=2, replicas=2, stableRS="abc", currentPodHash="abc")
    assert plugin.calculate_phase(ro) == ("Healthy", "")


def test_set_weight_rules() -> None:
    assert plugin.set_weight(rollout(currentStepIndex=1)) == 10  # nearest setWeight at or before the step
    assert plugin.set_weight(rollout(currentStepIndex=3)) == 100  # past the last step
    assert plugin.set_weight(rollout(currentStepIndex=2, abort=True)) == 0
    routed = rollout(currentStepIndex=5)
    routed["spec"]["strategy"]["canary"]["trafficRouting"] = {"maxTrafficWeight": 1000}
    assert plugin.set_weight(routed) == 1000


def test_pause_durations() -> None:
    assert plugin.pause_seconds("1m30s") == 90 and plugin.pause_seconds(20) == 20
    assert plugin.pause_seconds(None) is None and plugin.pause_seconds("soon") is None


def test_odd_shapes_do_not_raise(tmp_path: Path) -> None:
    for odd in ({}, {"status": []}, {"spec": {"strategy": "x"}}, {"status": {"currentStepIndex": "2"}},
                {"metadata": None, "status": {"conditions": [None, 3]}}):
        plugin.rollout_phase(odd)
        plugin.set_weight(odd)
        plugin.actual_weight(odd, [])
        plugin.step_text(odd)


# ---- the three display details the plugin's tests pin down (argo-rollouts commit 9f8d111d8) -----------------


def named(objects: list[dict[str, Any]], kind_name: str, name: str) -> dict[str, Any]:
    [obj] = [o for o in kind(objects, kind_name) if o["metadata"]["name"] == name]
    return obj


def shown_images(objects: list[dict[str, Any]], ro: dict[str, Any]) -> list[str]:
    replica_sets = kind(objects, "ReplicaSet")
    exp_rs = plugin.experiment_replica_sets(ro, kind(objects, "Experiment"), replica_sets)
    return [str(i) for i in plugin.images(plugin.replica_set_info(ro, replica_sets), exp_rs)]


def test_image_tags_in_role_order_when_the_preview_label_is_deleted() -> None:
    """cmd/get/get_test.go TestGetBlueGreenRolloutScaleDownDelay deletes the rollouts-pod-template-hash label of
    the preview ReplicaSet (ReplicaSets[2]): the plugin shows `blue (stable, active)` and `green` untagged. The order
    is the one `Images` (info/rollout_info.go) appends tags in: canary, stable, active, preview, ping, pong."""
    objects = scenario("blue-green")
    del named(objects, "ReplicaSet", "bluegreen-demo-74b948fccb")["metadata"]["labels"]["rollouts-pod-template-hash"]
    ro = kind(objects, "Rollout")[0]
    assert shown_images(objects, ro) == ["argoproj/rollouts-demo:blue (stable, active)", "argoproj/rollouts-demo:green"]


def test_an_image_run_by_two_replica_sets_gets_its_tags_merged_and_sorted() -> None:
    """info/rollout_info.go mergeImageAndTags → mergeTags: the second ReplicaSet running an image merges its tags
    into the first's and sorts them (sort.Strings). Derived from the blue-green fixture: the preview ReplicaSet
    runs the active one's image."""
    objects = scenario("blue-green")
    preview = named(objects, "ReplicaSet", "bluegreen-demo-74b948fccb")
    preview["spec"]["template"]["spec"]["containers"][0]["image"] = "argoproj/rollouts-demo:blue"
    ro = kind(objects, "Rollout")[0]
    assert shown_images(objects, ro) == ["argoproj/rollouts-demo:blue (active, preview, stable)"]


def with_max_weight(objects: list[dict[str, Any]], name: str, max_weight: Any, **status: Any) -> dict[str, Any]:
    ro = named(objects, "Rollout", name)
    canary_spec = ro["spec"]["strategy"]["canary"]
    canary_spec["trafficRouting"]["maxTrafficWeight"] = max_weight
    canary_spec["steps"][0]["setWeight"] = 500
    ro["status"].update(status)
    return ro


def test_weights_above_100_with_max_traffic_weight() -> None:
    """utils/replicaset/canary.go GetCurrentSetWeight and info/rollout_info.go NewRolloutInfo, with
    utils/weightutil MaxTrafficWeight: weights count up to maxTrafficWeight, never clamped to 100. From the fixture
    of info_test.go TestActualWeightWithoutExistingWeight (canary-demo-weights-na: no routed weight, so ActualWeight
    is SetWeight) with maxTrafficWeight 1000 and a first step of setWeight 500: 500/500; past the last step,
    both are the max weight, 1000. TestActualWeightWithExistingWeight (canary-demo-weights): the routed weight."""
    objects = scenario("canary")
    replica_sets = kind(objects, "ReplicaSet")
    ro = with_max_weight(objects, "canary-demo-weights-na", 1000)
    assert plugin.max_weight(ro) == 1000
    assert (plugin.set_weight(ro), plugin.actual_weight(ro, plugin.replica_set_info(ro, replica_sets))) == (500, 500)
    ro["status"]["currentStepIndex"] = 8
    assert (plugin.set_weight(ro), plugin.actual_weight(ro, plugin.replica_set_info(ro, replica_sets))) == (
        1000, 1000)
    routed = with_max_weight(objects, "canary-demo-weights", 1000)
    routed["status"]["canary"]["weights"]["canary"]["weight"] = 250
    assert (plugin.set_weight(routed), plugin.actual_weight(routed, plugin.replica_set_info(routed, replica_sets))) \
        == (500, 250)


@pytest.mark.parametrize(("max_weight", "expected"), [(0, 0), (-5, -5), ("1000", 1000), ("lots", 100), (None, 100)])
def test_max_traffic_weight_zero_negative_or_odd(max_weight: Any, expected: int) -> None:
    """weightutil.MaxTrafficWeight takes maxTrafficWeight as written when it is set (0 and below included; the
    plugin's validation rejects their setWeight steps, not the field) and 100 when it is absent (null here). Past
    the last step both weights are that maximum, whatever it is; nothing raises."""
    objects = scenario("canary")
    ro = with_max_weight(objects, "canary-demo-weights-na", max_weight, currentStepIndex=8)
    if max_weight is None:
        del ro["spec"]["strategy"]["canary"]["trafficRouting"]["maxTrafficWeight"]
    infos = plugin.replica_set_info(ro, kind(objects, "ReplicaSet"))
    assert (plugin.max_weight(ro), plugin.set_weight(ro), plugin.actual_weight(ro, infos)) == (
        expected, expected, expected)


@pytest.mark.parametrize(("folder", "images"), [
    ("canary", ["argoproj/rollouts-demo:does-not-exist", "argoproj/rollouts-demo:green"]),
    ("blue-green", ["argoproj/rollouts-demo:blue", "argoproj/rollouts-demo:green"]),
])
def test_no_stable_tag_without_a_strategy(folder: str, images: list[str]) -> None:
    """info/replicaset_info.go GetReplicaSetInfo sets Stable (and canary, active, preview) only inside
    `if ro.Spec.Strategy.Canary != nil` / `if ro.Spec.Strategy.BlueGreen != nil`: a rollout with neither (which the
    controller rejects as InvalidSpec) has no tagged ReplicaSet, though status.stableRS still names one."""
    objects = scenario(folder)
    ro = kind(objects, "Rollout")[0]
    ro["spec"]["strategy"] = {}
    assert ro["status"]["stableRS"]
    infos = plugin.replica_set_info(ro, kind(objects, "ReplicaSet"))
    assert [i.tags for i in infos] == [[], [], []]
    assert shown_images(objects, ro) == images
