"""Promote, promote --full and undo send exactly what the kubectl-argo-rollouts plugin sends (its Go code at the
fixtures' commit, pkg/kubectl-argo-rollouts/cmd/{promote,undo}), against the loopback Kubernetes API stand-in:
an inconclusive step analysis, the order of promote --full's two patches under RBAC, the fallback for controllers
without a status subresource, and undo's revision 0 and skip."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monotui.action_kinds import ActionKind
from monotui.config import ArgoRolloutsSourceConfig
from monotui.engine.core import outcome_of
from monotui.models import Rollout
from monotui.providers.argo_rollouts import patches as plugin_patches
from monotui.providers.argo_rollouts.provider import ArgoRolloutsProvider
from monotui.providers.base import Pin, ProviderError
from monotui.simulator.kube_api import KubeStandin, StandinOptions, load_fixtures

from .argo_fixtures import fixtures_dir

API = "/apis/argoproj.io/v1alpha1/namespaces/jesse-test/rollouts"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


def standin(**options: Any) -> KubeStandin:
    return KubeStandin(load_fixtures(fixtures_dir() / "canary") + load_fixtures(fixtures_dir() / "blue-green"),
                       options=StandinOptions(bookmark_interval=0.2, **options))


@pytest.fixture
def kube() -> Iterator[KubeStandin]:
    with standin() as server:
        yield server


def sent(kube: KubeStandin) -> list[tuple[str, str, Any]]:
    """Every PATCH as (path, content type, body) without monotui's resourceVersion precondition."""
    out = []
    for call in kube.store.calls:
        if call.method != "PATCH" or b"monotui.dev/last-action" in call.body:  # the actor, after the action
            continue
        body = json.loads(call.body)
        if isinstance(body, list):
            body = [op for op in body if op.get("path") != "/metadata/resourceVersion"]
        else:
            body.pop("metadata", None)
        out.append((call.path, call.content_type, body))
    return out


async def act(kube: KubeStandin, tmp_path: Path, name: str, action: ActionKind,
              change: Callable[[dict[str, Any]], None] | None = None, revision: int | None = None) -> Rollout:
    """Play the controller with `change`, then let monotui show the rollout and act on it as confirmed."""
    if change is not None:
        kube.store.modify("Rollout", "jesse-test", name, change)
    config = ArgoRolloutsSourceConfig(name="k8s", kind="argo-rollouts", context="standin", timeout=5,
                                      kubeconfig=kube.kubeconfig(tmp_path / "kubeconfig"))
    provider = ArgoRolloutsProvider(config)
    try:
        rollout = next(r for r in (await provider.poll()).rollouts or [] if r.id == f"jesse-test/{name}")
        return await provider.act(rollout, action, actor="a", reason=None, revision=revision,
                                  idempotency_key="k", pin=Pin.of(rollout))
    finally:
        await provider.aclose()


def stored(kube: KubeStandin, name: str) -> dict[str, Any]:
    obj = kube.store.get("Rollout", "jesse-test", name)
    assert obj is not None
    return obj


def inconclusive(holder: str, key: str, step: int | None = 3) -> Callable[[dict[str, Any]], None]:
    """The controller paused the rollout on an Inconclusive analysis (`holder.key` in the status)."""
    def change(obj: dict[str, Any]) -> None:
        st = obj["status"]
        st.setdefault(holder, {})[key] = {"name": "an-analysis", "status": "Inconclusive"}
        st["controllerPause"] = True
        st["pauseConditions"] = [{"reason": "InconclusiveAnalysisRun", "startTime": "2026-12-07T10:00:00Z"}]
        if step is not None:
            st["currentStepIndex"] = step
    return change


# ---- item 18: promote on an inconclusive analysis -------------------------------------------------------------


async def test_promote_on_an_inconclusive_step_analysis_unpauses_the_controller_and_moves_on(
        kube: KubeStandin, tmp_path: Path) -> None:
    """The plugin's `isInconclusive` case: clear the pause, `controllerPause: false` and the next step, else the
    controller pauses again on the same step and promote does nothing."""
    await act(kube, tmp_path, "canary-demo", ActionKind.PROMOTE,
              inconclusive("canary", "currentStepAnalysisRunStatus", step=3))
    assert sent(kube) == [(f"{API}/canary-demo/status", MERGE,
                           {"status": {"pauseConditions": None, "controllerPause": False, "currentStepIndex": 4}})]
    st = stored(kube, "canary-demo")["status"]
    assert (st["currentStepIndex"], st["controllerPause"], "pauseConditions" in st) == (4, False, False)


async def test_promote_on_an_inconclusive_last_step_never_counts_past_the_end(
        kube: KubeStandin, tmp_path: Path) -> None:
    await act(kube, tmp_path, "canary-demo", ActionKind.PROMOTE,
              inconclusive("canary", "currentStepAnalysisRunStatus", step=8))  # 8 steps: already past the end
    assert sent(kube)[0][2]["status"]["currentStepIndex"] == 8


@pytest.mark.parametrize(("name", "holder", "key"), [
    ("canary-demo", "canary", "currentBackgroundAnalysisRunStatus"),
    ("bluegreen-demo", "blueGreen", "prePromotionAnalysisRunStatus"),
], ids=["background", "blue-green"])
async def test_promote_on_another_inconclusive_analysis_only_clears_the_pause(
        kube: KubeStandin, tmp_path: Path, name: str, holder: str, key: str) -> None:
    """A background or blue-green analysis is not the plugin's inconclusive case: it sends no `controllerPause`
    and moves no step."""
    await act(kube, tmp_path, name, ActionKind.PROMOTE, inconclusive(holder, key, step=None))
    assert sent(kube) == [(f"{API}/{name}/status", MERGE, {"status": {"pauseConditions": None}})]


# ---- item 19: promote --full's order --------------------------------------------------------------------------


def paused(obj: dict[str, Any]) -> None:
    obj["spec"]["paused"] = True


async def test_promote_full_sends_the_status_patch_first(kube: KubeStandin, tmp_path: Path) -> None:
    await act(kube, tmp_path, "canary-demo", ActionKind.PROMOTE_FULL, paused)
    assert sent(kube) == [(f"{API}/canary-demo/status", MERGE, {"status": {"promoteFull": True}}),
                          (f"{API}/canary-demo", MERGE, {"spec": {"paused": False}})]
    after = stored(kube, "canary-demo")
    assert after["status"]["promoteFull"] is True and after["spec"]["paused"] is False


async def test_promote_full_refused_on_status_changes_nothing(tmp_path: Path) -> None:
    """RBAC refuses `rollouts/status`: as the plugin, nothing was unpaused and the outcome is refused, not half
    done."""
    with standin(forbidden_patches=frozenset({"rollouts/status"})) as kube:
        with pytest.raises(ProviderError) as info:
            await act(kube, tmp_path, "canary-demo", ActionKind.PROMOTE_FULL, paused)
        assert [path for path, _, _ in sent(kube)] == [f"{API}/canary-demo/status"]
        assert stored(kube, "canary-demo")["spec"]["paused"] is True
    assert info.value.status == 403 and outcome_of(info.value) == "refused", info.value.message
    assert "half done" not in info.value.message and 'cannot patch resource "rollouts/status"' in info.value.message


async def test_promote_full_whose_unpause_is_refused_is_half_done(tmp_path: Path) -> None:
    """The status patch applied, the unpause was refused: the action acted in part, never "refused"."""
    with standin(forbidden_patches=frozenset({"rollouts"})) as kube:
        with pytest.raises(ProviderError) as info:
            await act(kube, tmp_path, "canary-demo", ActionKind.PROMOTE_FULL, paused)
        after = stored(kube, "canary-demo")
    assert after["status"]["promoteFull"] is True and after["spec"]["paused"] is True
    assert outcome_of(info.value) == "unknown" and "half done" in info.value.message, info.value.message


# ---- item 20: no status subresource (controllers before v0.10) -------------------------------------------------


@pytest.mark.parametrize(("name", "action", "change", "unified"), [
    ("canary-demo", ActionKind.PROMOTE, paused,
     {"spec": {"paused": False}, "status": {"pauseConditions": None, "currentStepIndex": 1}}),
    ("bluegreen-demo", ActionKind.PROMOTE, None, {"spec": {"paused": False}, "status": {"pauseConditions": None}}),
    ("canary-demo", ActionKind.PROMOTE_FULL, paused, {"spec": {"paused": False}, "status": {"promoteFull": True}}),
], ids=["promote-canary", "promote-blue-green", "promote-full"])
async def test_promote_falls_back_to_the_rollout_when_status_answers_404(
        tmp_path: Path, name: str, action: ActionKind, change: Any, unified: dict[str, Any]) -> None:
    """`/status` answers 404: the plugin sends its unified patch to the rollout itself instead, and nothing
    after it. The first request that applies still carries the confirmed resourceVersion."""
    with standin(without_status_subresource=frozenset({"rollouts"})) as kube:
        if change is not None:
            kube.store.modify("Rollout", "jesse-test", name, change)
        version = stored(kube, name)["metadata"]["resourceVersion"]
        await act(kube, tmp_path, name, action)
        assert sent(kube) == [(f"{API}/{name}/status", sent(kube)[0][1], sent(kube)[0][2]),
                              (f"{API}/{name}", MERGE, unified)]
        fallback = [json.loads(c.body) for c in kube.store.calls
                    if c.method == "PATCH" and b"monotui.dev/last-action" not in c.body][1]
        assert fallback["metadata"]["resourceVersion"] == version
        after = stored(kube, name)
        for key, value in unified["status"].items():
            assert after["status"].get(key) == value, key
        assert after["spec"].get("paused") is False


# ---- item 21: undo ----------------------------------------------------------------------------------------------


def replica_set(kube: KubeStandin, name: str) -> dict[str, Any]:
    obj = kube.store.get("ReplicaSet", "jesse-test", name)
    assert obj is not None
    return obj


async def test_undo_counts_a_replicaset_without_revision_as_revision_0(kube: KubeStandin, tmp_path: Path) -> None:
    """Go reads a missing revision annotation as 0: with the canary (31) and an unannotated stable ReplicaSet,
    undo returns to the stable one."""
    kube.store.delete("ReplicaSet", "jesse-test", "canary-demo-859c99b45c")  # revision 29
    kube.store.modify("ReplicaSet", "jesse-test", "canary-demo-877894d5b",
                      lambda o: o["metadata"]["annotations"].pop("rollout.argoproj.io/revision"))
    await act(kube, tmp_path, "canary-demo", ActionKind.ROLLBACK)
    template = replica_set(kube, "canary-demo-877894d5b")["spec"]["template"]
    del template["metadata"]["labels"]["rollouts-pod-template-hash"]
    assert sent(kube) == [(f"{API}/canary-demo", JSON_PATCH,
                           [{"op": "replace", "path": "/spec/template", "value": template}])]


async def test_undo_sends_nothing_when_the_template_already_matches(kube: KubeStandin, tmp_path: Path) -> None:
    """The plugin compares the rollout's template with the target's (without the hash label, unset fields
    ignored) and skips the replace when they match."""
    target = replica_set(kube, "canary-demo-877894d5b")["spec"]["template"]  # revision 30, the undo default

    def restored(obj: dict[str, Any]) -> None:
        template = json.loads(json.dumps(target))
        del template["metadata"]["labels"]["rollouts-pod-template-hash"]
        template["spec"]["containers"][0]["name"] = ""  # an empty string is unset for DeepDerivative
        obj["spec"]["template"] = template

    with pytest.raises(ProviderError, match=r"skipped rollback \(current template already matches revision 30\)"):
        await act(kube, tmp_path, "canary-demo", ActionKind.ROLLBACK, restored)
    assert sent(kube) == []


def test_templates_compare_as_deep_derivative() -> None:
    rs = {"metadata": {"creationTimestamp": None, "labels": {"app": "a"}},
          "spec": {"containers": [{"name": "c", "image": "i:1", "resources": {}, "ports": [{"containerPort": 80}]}]}}
    same = {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}}
    assert plugin_patches.derivative(same, rs)
    assert plugin_patches.derivative({**same, "spec": {"containers": [{"image": "", "resources": {}}]}}, rs)
    assert not plugin_patches.derivative({**same, "spec": {"containers": [{"image": "i:2"}]}}, rs)
    assert not plugin_patches.derivative({"metadata": {"labels": {"app": "a", "x": "y"}}}, rs)
    assert not plugin_patches.derivative({"spec": {"containers": [{}, {}]}}, rs)  # more items than the target
    assert not plugin_patches.derivative({"spec": {"containers": [{"ports": [{"containerPort": 80.0}]}]}}, rs)
    assert not plugin_patches.derivative({"metadata": {"annotations": None}}, rs)  # a key the target lacks
    assert not plugin_patches.derivative({"metadata": {"annotations": {}}}, rs)
    assert plugin_patches.derivative({"metadata": {"creationTimestamp": "", "labels": {}}}, rs) is False  # "" ≠ null
