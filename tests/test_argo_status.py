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
