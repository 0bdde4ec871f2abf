"""Numbers the plugin reads as numbers, negative ones too, are never taken for absent; and the other readings the
plugin makes: a routed weight without a canary entry is 0, `restartAt` is compared as an instant. Each case
is the plugin's fixture changed as noted, read as `kubectl argo rollouts get` (v1.9) reads it."""

from __future__ import annotations

import copy
from typing import Any

from monotui.config import ArgoRolloutsSourceConfig
from monotui.models import Phase, Rollout
from monotui.providers.argo_rollouts import status as plugin
from monotui.providers.argo_rollouts.provider import ArgoRolloutsProvider
from monotui.simulator.kube_api import load_fixtures

from .argo_fixtures import fixtures_dir

REVISION = "rollout.argoproj.io/revision"


def canary_objects() -> list[dict[str, Any]]:
    return load_fixtures(fixtures_dir() / "canary")


def shown(objects: list[dict[str, Any]], name: str) -> Rollout:
    provider = ArgoRolloutsProvider(ArgoRolloutsSourceConfig(name="k", kind="argo-rollouts"))
    for obj in objects:
        if obj["kind"] in provider.cache.objects:
            provider.cache.put(obj["kind"], obj)
    [ro] = [o for o in objects if o["kind"] == "Rollout" and o["metadata"]["name"] == name]
    return provider.row(ro)


def healthy(**status: Any) -> dict[str, Any]:
    """A fully promoted canary as a controller before 1.0 leaves it (no status.phase): Healthy."""
    return {"metadata": {"generation": 3}, "spec": {"replicas": 2, "strategy": {"canary": {"steps": [
        {"setWeight": 10}]}}}, "status": {"observedGeneration": "3", "updatedReplicas": 2, "availableReplicas": 2,
                                          "replicas": 2, "stableRS": "abc", "currentPodHash": "abc", **status}}


def test_an_observed_generation_of_minus_one_is_not_yet_observed() -> None:
    """Go's Atoi reads "-1": not a v0.9 hash but a generation below metadata.generation."""
    ro = healthy(observedGeneration="-1", phase="Healthy")
    assert plugin.rollout_phase(ro) == ("Progressing", "waiting for rollout spec update to be observed")
    objects = canary_objects()
    [fixture] = [o for o in objects if o["kind"] == "Rollout" and o["metadata"]["name"] == "canary-demo"]
    fixture["status"]["observedGeneration"] = "-1"
    r = shown(objects, "canary-demo")
    assert (r.phase, r.message) == (Phase.PROGRESSING, "waiting for rollout spec update to be observed")
    # not a number at all (a v0.9 hash): observed, as before
    assert plugin.rollout_phase(healthy(observedGeneration="7d9f6c8b5")) == ("Healthy", "")


def test_a_negative_revision_is_kept() -> None:
    objects = canary_objects()
    [stable] = [o for o in objects if o["metadata"]["name"] == "canary-demo-877894d5b"]
    stable["metadata"]["annotations"][REVISION] = "-2"
    [ro] = [o for o in objects if o["kind"] == "Rollout" and o["metadata"]["name"] == "canary-demo"]
    infos = plugin.replica_set_info(ro, [o for o in objects if o["kind"] == "ReplicaSet"])
    assert [(i.name, i.revision) for i in infos] == [
        ("canary-demo-65fb5ffc84", 31), ("canary-demo-859c99b45c", 29), ("canary-demo-877894d5b", -2)]
    r = shown(objects, "canary-demo")
    assert r.stable is not None and (r.stable.revision, r.stable.version) == (-2, "green")
    # no annotation, or one that is not a number: the plugin's parseRevision reads 0
    assert plugin.revision_of({"metadata": {}}) == 0 and plugin.revision_of(
        {"metadata": {"annotations": {REVISION: "x"}}}) == 0


def test_routed_weights_without_a_canary_entry_are_0() -> None:
    """`status.canary.weights` present: the plugin prints `Weights.Canary.Weight`, 0 when there is no canary
    entry; only without `weights` does it fall back to the set weight."""
    objects = canary_objects()
    [ro] = [o for o in objects if o["kind"] == "Rollout" and o["metadata"]["name"] == "canary-demo-weights"]
    no_entry = copy.deepcopy(ro)
    del no_entry["status"]["canary"]["weights"]["canary"]
    rs_infos = plugin.replica_set_info(ro, [o for o in objects if o["kind"] == "ReplicaSet"])
    assert plugin.actual_weight(no_entry, rs_infos) == 0
    no_weights = copy.deepcopy(ro)
    del no_weights["status"]["canary"]["weights"]
    assert plugin.actual_weight(no_weights, rs_infos) == plugin.set_weight(ro) == 20
    ro["status"]["canary"]["weights"].pop("canary")
    r = shown(objects, "canary-demo-weights")
    assert (r.set_weight, r.actual_weight) == (20, 0)


def test_restart_at_is_compared_as_an_instant() -> None:
    same = healthy(restartedAt="2026-01-01T00:00:00Z")
    same["spec"]["restartAt"] = "2026-01-01T01:00:00+01:00"
    assert plugin.calculate_phase(same) == ("Healthy", "")
    later = healthy(restartedAt="2026-01-01T00:00:00Z")
    later["spec"]["restartAt"] = "2026-01-01T00:00:01Z"
    assert plugin.calculate_phase(later) == ("Progressing", "rollout is restarting")
    never = healthy()
    never["spec"]["restartAt"] = "2026-01-01T00:00:00Z"
    assert plugin.calculate_phase(never) == ("Progressing", "rollout is restarting")
