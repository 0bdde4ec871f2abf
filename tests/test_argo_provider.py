"""The Argo Rollouts source against a loopback Kubernetes API stand-in serving the plugin's fixtures: what it
shows, the exact requests each action sends, live updates by watch, credentials, and kubectl against the
stand-in."""

from __future__ import annotations

import asyncio
import json
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monotui.action_kinds import ActionKind
from monotui.config import ArgoRolloutsSourceConfig, build_settings
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.models import Phase
from monotui.providers.argo_rollouts.provider import ArgoRolloutsProvider
from monotui.providers.base import Pin, ProviderError
from monotui.simulator.kube_api import KubeStandin, StandinOptions, load_fixtures

from .argo_fixtures import PLUGIN_SHOWS, fixtures_dir
from .conftest import wait_until

API = "/apis/argoproj.io/v1alpha1/namespaces"


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeStandin]:
    with KubeStandin(load_fixtures(fixtures_dir()), options=StandinOptions(bookmark_interval=0.2)) as server:
        yield server


def source(kubeconfig: Path, **extra: Any) -> ArgoRolloutsSourceConfig:
    return ArgoRolloutsSourceConfig(name="k8s", kind="argo-rollouts", kubeconfig=kubeconfig, context="standin",
                                    timeout=5, **extra)


def unpinned(body: Any) -> tuple[Any, str | None]:
    """A PATCH body without monotui's resourceVersion precondition (the rest is what the plugin sends)."""
    if isinstance(body, list):
        pins = [op for op in body if op.get("path") == "/metadata/resourceVersion"]
        return [op for op in body if op not in pins], (pins[0]["value"] if pins else None)
    meta = body.get("metadata") or {}
    version = meta.pop("resourceVersion", None)
    if not meta:
        body.pop("metadata", None)
    return body, version


def patches(kube: KubeStandin) -> list[tuple[str, str, str, Any]]:
    """Every PATCH sent, as the plugin would send it (see `pins` for the preconditions monotui adds)."""
    return [(c.method, c.path, c.content_type, unpinned(json.loads(c.body))[0])
            for c in kube.store.calls if c.method == "PATCH" and b"monotui.dev/last-action" not in c.body]


def pins(kube: KubeStandin) -> list[str | None]:
    return [unpinned(json.loads(c.body))[1] for c in kube.store.calls
            if c.method == "PATCH" and b"monotui.dev/last-action" not in c.body]


def lists(kube: KubeStandin) -> int:
    return sum(1 for c in kube.store.calls if c.method == "GET" and "watch=1" not in c.query)


async def test_every_fixture_rollout_is_shown_as_the_plugin_shows_it(kube: KubeStandin, tmp_path: Path) -> None:
    provider = ArgoRolloutsProvider(source(kube.kubeconfig(tmp_path / "kubeconfig")))
    result = await provider.poll()
    await provider.aclose()
    assert result.rollouts is not None and len(result.rollouts) == len(PLUGIN_SHOWS)
    shown = {(r.environment, r.service): r for r in result.rollouts}
    for folder, name, phase, message, strategy, step, set_w, actual_w, images in PLUGIN_SHOWS:
        namespace = "jesse-test-experiment-step" if folder == "experiment-step" else (
            "default" if folder.startswith("rollout-") else "jesse-test")
        r = shown[(f"standin/{namespace}", name)]
        assert (r.phase.value, r.message, r.strategy.value) == (phase, message, strategy), name
        steps_text = f"{r.current_step}/{len(r.steps)}" if r.steps and r.current_step is not None else None
        assert steps_text == step, name
        if strategy == "canary":
            assert (r.set_weight, r.actual_weight) == (set_w, actual_w), name
        assert [f"{i.image} ({', '.join(i.tags)})" if i.tags else i.image for i in r.images] == images, name
    canary = shown[("standin/jesse-test", "canary-demo")]
    assert (canary.revision, canary.version) == (31, "does-not-exist")
    assert canary.stable is not None and (canary.stable.revision, canary.stable.version) == (30, "green")
    assert canary.rollback_to is not None and canary.rollback_to.revision == 30
    aborted = shown[("standin/default", "rollout-background-analysis")]
    assert aborted.errors == ['metric "web" assessed Failed due to failed (1) > failureLimit (0)']
    analysed = shown[("standin/jesse-test", "rollout-experiment-analysis")]
    assert analysed.analysis[0].phase == "Inconclusive" and analysed.analysis[0].metrics[0].failed == 4


ACTIONS = [
    # rollout (namespace/name), action, the requests the plugin sends
    ("jesse-test/canary-demo", ActionKind.PAUSE,
     [("", "application/merge-patch+json", {"spec": {"paused": True}})]),
    ("jesse-test/canary-demo", ActionKind.PROMOTE,
     [("/status", "application/merge-patch+json", {"status": {"pauseConditions": None, "currentStepIndex": 1}})]),
    ("jesse-test/bluegreen-demo", ActionKind.PROMOTE,
     [("/status", "application/merge-patch+json", {"status": {"pauseConditions": None}})]),
    # paused by InconclusiveAnalysisRun, but not by its current step's analysis (no
    # currentStepAnalysisRunStatus): the plugin only clears the pause conditions
    ("jesse-test/rollout-experiment-analysis", ActionKind.PROMOTE,
     [("/status", "application/merge-patch+json", {"status": {"pauseConditions": None}})]),
    ("jesse-test/canary-demo", ActionKind.PROMOTE_FULL,
     [("/status", "application/merge-patch+json", {"status": {"promoteFull": True}})]),
    ("jesse-test/canary-demo", ActionKind.ABORT,
     [("/status", "application/merge-patch+json", {"status": {"abort": True}})]),
    ("default/rollout-background-analysis", ActionKind.RETRY,
     [("/status", "application/merge-patch+json", {"status": {"abort": False}})]),
    ("jesse-test/canary-demo", ActionKind.RESUME,
     [("", "application/merge-patch+json", {"spec": {"paused": False}})]),
]


@pytest.mark.parametrize(("target", "action", "expected"), ACTIONS,
                         ids=[f"{a[1].value}:{a[0].split('/')[1]}" for a in ACTIONS])
async def test_each_action_sends_what_the_plugin_sends(kube: KubeStandin, tmp_path: Path, target: str,
                                                       action: ActionKind, expected: list[Any]) -> None:
    provider = ArgoRolloutsProvider(source(kube.kubeconfig(tmp_path / "kubeconfig")))
    result = await provider.poll()
    rollout = next(r for r in result.rollouts or [] if r.id == target)
    namespace, name = target.split("/")
    before = kube.store.get("Rollout", namespace, name)
    assert before is not None
    await provider.act(rollout, action, actor="a", reason=None, revision=None, idempotency_key="k",
                       pin=Pin.of(rollout))
    await provider.aclose()
    assert patches(kube) == [("PATCH", f"{API}/{namespace}/rollouts/{name}{sub}", ctype, body)
                             for sub, ctype, body in expected]
    # the first PATCH is conditional on the version that was shown; the ones after it follow from it
    assert pins(kube) == [before["metadata"]["resourceVersion"]] + [None] * (len(expected) - 1)


async def test_promote_of_a_manually_paused_rollout_also_unpauses(kube: KubeStandin, tmp_path: Path) -> None:
    kube.store.modify("Rollout", "jesse-test", "canary-demo", lambda o: o["spec"].update(paused=True))
    provider = ArgoRolloutsProvider(source(kube.kubeconfig(tmp_path / "kubeconfig")))
    rollout = next(r for r in (await provider.poll()).rollouts or [] if r.id == "jesse-test/canary-demo")
    assert rollout.pause_reason == "manually paused"  # the phase stays Degraded: that condition comes first
    after = await provider.act(rollout, ActionKind.PROMOTE, actor="a", reason=None, revision=None,
                               idempotency_key="k", pin=Pin.of(rollout))
    await provider.act(after, ActionKind.PROMOTE_FULL, actor="a", reason=None, revision=None, idempotency_key="k2",
                       pin=Pin.of(after))  # confirmed on what the promote left
    await provider.aclose()
    base = f"{API}/jesse-test/rollouts/canary-demo"
    merge = "application/merge-patch+json"
    assert patches(kube) == [
        ("PATCH", f"{base}/status", merge, {"status": {"pauseConditions": None, "currentStepIndex": 1}}),
        ("PATCH", base, merge, {"spec": {"paused": False}}),
        # promote --full: the spec was unpaused by the promote above, so only the status patch
        ("PATCH", f"{base}/status", merge, {"status": {"promoteFull": True}}),
    ]


async def test_restart_sets_restart_at(kube: KubeStandin, tmp_path: Path) -> None:
    provider = ArgoRolloutsProvider(source(kube.kubeconfig(tmp_path / "kubeconfig")))
    rollout = next(r for r in (await provider.poll()).rollouts or [] if r.id == "jesse-test/canary-demo")
    await provider.act(rollout, ActionKind.RESTART, actor="a", reason=None, revision=None, idempotency_key="k",
                       pin=Pin.of(rollout))
    await provider.aclose()
    [(_, path, ctype, body)] = patches(kube)
    assert path == f"{API}/jesse-test/rollouts/canary-demo" and ctype == "application/merge-patch+json"
    assert list(body) == ["spec"] and list(body["spec"]) == ["restartAt"]
    assert body["spec"]["restartAt"].endswith("Z") and len(body["spec"]["restartAt"]) == 20


async def test_rollback_lists_replicasets_by_selector_and_json_patches_the_template(
        kube: KubeStandin, tmp_path: Path) -> None:
    provider = ArgoRolloutsProvider(source(kube.kubeconfig(tmp_path / "kubeconfig")))
    rollout = next(r for r in (await provider.poll()).rollouts or [] if r.id == "jesse-test/canary-demo")
    assert rollout.rollback_to is not None and rollout.rollback_to.version == "green"
    await provider.act(rollout, ActionKind.ROLLBACK, actor="a", reason=None, revision=None, idempotency_key="k",
                       pin=Pin.of(rollout))
    await provider.aclose()
    selector_lists = [c for c in kube.store.calls if c.path == "/apis/apps/v1/namespaces/jesse-test/replicasets"]
    assert selector_lists and "labelSelector=app%3Dcanary-demo" in selector_lists[-1].query
    [(_, path, ctype, body)] = patches(kube)
    assert (path, ctype) == (f"{API}/jesse-test/rollouts/canary-demo", "application/json-patch+json")
    stable_rs = kube.store.get("ReplicaSet", "jesse-test", "canary-demo-877894d5b")
    assert stable_rs is not None
    expected = json.loads(json.dumps(stable_rs["spec"]["template"]))
    del expected["metadata"]["labels"]["rollouts-pod-template-hash"]
    assert body == [{"op": "replace", "path": "/spec/template", "value": expected}]
    after = kube.store.get("Rollout", "jesse-test", "canary-demo")
    assert after is not None and after["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":green")


async def test_rollback_to_a_given_revision(kube: KubeStandin, tmp_path: Path) -> None:
    provider = ArgoRolloutsProvider(source(kube.kubeconfig(tmp_path / "kubeconfig")))
    rollout = next(r for r in (await provider.poll()).rollouts or [] if r.id == "jesse-test/canary-demo")
    rolled = await provider.act(rollout, ActionKind.ROLLBACK, actor="a", reason=None, revision=29,
                                idempotency_key="k", pin=Pin.of(rollout))
    with pytest.raises(ProviderError, match="unable to find specified revision 7"):
        await provider.act(rolled, ActionKind.ROLLBACK, actor="a", reason=None, revision=7, idempotency_key="k",
                           pin=Pin.of(rolled))
    await provider.aclose()
    after = kube.store.get("Rollout", "jesse-test", "canary-demo")
    assert after is not None and after["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":asdf")


async def test_api_errors_carry_the_servers_message(kube: KubeStandin, tmp_path: Path) -> None:
    provider = ArgoRolloutsProvider(source(kube.kubeconfig(tmp_path / "kubeconfig")))
    rollout = next(r for r in (await provider.poll()).rollouts or [] if r.id == "jesse-test/canary-demo")
    kube.store.delete("Rollout", "jesse-test", "canary-demo")
    with pytest.raises(ProviderError) as info:
        await provider.act(rollout, ActionKind.PAUSE, actor="a", reason=None, revision=None, idempotency_key="k",
                           pin=Pin.of(rollout))
    await provider.aclose()
    assert info.value.status == 404 and 'rollouts.argoproj.io "canary-demo" not found' in info.value.message


async def test_a_403_is_audited_as_refused_with_the_servers_message(tmp_path: Path) -> None:
    options = StandinOptions(forbidden_verbs=frozenset({"patch"}))
    with KubeStandin(load_fixtures(fixtures_dir() / "canary"), options=options) as server:
        settings = build_settings({
            "sources": [{"name": "k8s", "kind": "argo-rollouts", "context": "standin",
                         "kubeconfig": str(server.kubeconfig(tmp_path / "kubeconfig"))}],
            "actor": "oncall@bastion", "audit_log": str(tmp_path / "audit.log")})
        async with Engine(settings) as engine:
            await engine.refresh_once()
            [(_, rollout)] = engine.find("canary-demo")
            outcome = await engine.execute(engine.plan("k8s", rollout, ActionKind.ABORT))
    assert outcome.outcome == "refused" and "cannot patch resource" in (outcome.error or "")
    [record] = AuditLog(tmp_path / "audit.log").outcomes()
    assert (record["outcome"], record["environment"]) == ("refused", "standin/jesse-test")


async def test_watch_updates_a_row_without_a_new_list(kube: KubeStandin, tmp_path: Path) -> None:
    settings = build_settings({
        "sources": [{"name": "k8s", "kind": "argo-rollouts", "context": "standin",
                     "kubeconfig": str(kube.kubeconfig(tmp_path / "kubeconfig"))}],
        "audit_log": str(tmp_path / "audit.log")})
    async with Engine(settings) as engine:
        updates: list[Any] = []

        async def consume() -> None:
            async for update in engine.updates("k8s"):
                updates.append(update)

        task = asyncio.create_task(consume())
        await wait_until(lambda: len(engine.state.views()) == len(PLUGIN_SHOWS))
        listed = lists(kube)

        def pause(obj: dict[str, Any]) -> None:
            obj["status"]["phase"] = "Paused"
            obj["status"]["message"] = "CanaryPauseStep"

        kube.store.modify("Rollout", "default", "rollout-invalid", pause)
        await wait_until(lambda: engine.state.rollout("k8s", "default/rollout-invalid").phase is Phase.PAUSED)
        # a ReplicaSet change reaches its rollout too
        kube.store.modify("ReplicaSet", "jesse-test", "canary-demo-65fb5ffc84",
                          lambda o: o["status"].update(availableReplicas=1))
        await wait_until(lambda: engine.state.rollout("k8s", "jesse-test/canary-demo").actual_weight == 20)
        assert lists(kube) == listed, "no list request: the watch delivered the change"
        changes = [e.event.message for e in engine.state.recent_events(service="rollout-invalid")]
        assert changes == ["Degraded → Paused: CanaryPauseStep"], "the change shows in the events panel"
        task.cancel()


async def test_watch_resumes_and_lists_again_after_410(tmp_path: Path) -> None:
    options = StandinOptions(bookmark_interval=0.1, max_watch_seconds=0.5)
    with KubeStandin(load_fixtures(fixtures_dir() / "canary"), options=options) as server:
        provider = ArgoRolloutsProvider(source(server.kubeconfig(tmp_path / "kubeconfig")))
        results: list[Any] = []

        async def consume() -> None:
            async for result in provider.watch():
                results.append(result)

        task = asyncio.create_task(consume())
        await wait_until(lambda: bool(results))
        assert results[0].rollouts and not results[0].partial
        lists_before = provider.list_requests
        watches = sum(1 for c in server.store.calls if "watch=1" in c.query)
        await wait_until(lambda: sum(1 for c in server.store.calls if "watch=1" in c.query) >= watches + 4)
        assert provider.list_requests == lists_before, "the server ended the watches; they resumed, no relist"
        server.store.compact()  # now resuming gets 410 Expired: the provider lists each kind again
        await wait_until(lambda: provider.list_requests >= lists_before + 4)
        server.store.modify("Rollout", "jesse-test", "canary-demo", lambda o: o["status"].update(abort=True))
        await wait_until(lambda: any(r.id == "jesse-test/canary-demo" and r.set_weight == 0
                                     for res in results[1:] for r in res.rollouts or []))
        assert provider.list_requests > lists_before
        task.cancel()
        await provider.aclose()


async def test_bearer_token_from_kubeconfig(tmp_path: Path) -> None:
    options = StandinOptions(token="t0ken")
    with KubeStandin(load_fixtures(fixtures_dir() / "blue-green"), options=options) as server:
        anonymous = ArgoRolloutsProvider(source(server.kubeconfig(tmp_path / "anon")))
        with pytest.raises(ProviderError) as info:
            await anonymous.poll()
        assert info.value.status == 401
        await anonymous.aclose()
        provider = ArgoRolloutsProvider(source(server.kubeconfig(tmp_path / "kc", token="t0ken")))
        assert [r.service for r in (await provider.poll()).rollouts or []] == ["bluegreen-demo"]
        await provider.aclose()


async def test_exec_credential_plugin(tmp_path: Path) -> None:
    script = tmp_path / "credential-helper"
    script.write_text(f"#!{sys.executable}\nimport json\nprint(json.dumps({{'apiVersion': "
                      "'client.authentication.k8s.io/v1beta1', 'kind': 'ExecCredential', "
                      "'status': {'token': 'from-exec'}}))\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    with KubeStandin(load_fixtures(fixtures_dir() / "blue-green"), options=StandinOptions(token="from-exec")) as server:
        provider = ArgoRolloutsProvider(source(server.kubeconfig(tmp_path / "kc", exec_command=[str(script)])))
        assert [r.service for r in (await provider.poll()).rollouts or []] == ["bluegreen-demo"]
        await provider.aclose()


def test_namespaces_limit_what_is_listed(kube: KubeStandin, tmp_path: Path) -> None:
    provider = ArgoRolloutsProvider(source(kube.kubeconfig(tmp_path / "kc"), namespaces=["default"]))
    result = asyncio.run(provider.poll())
    asyncio.run(provider.aclose())
    assert sorted(r.service for r in result.rollouts or []) == ["rollout-background-analysis", "rollout-invalid"]
    assert all("/namespaces/default/" in c.path for c in kube.store.calls if c.method == "GET" and "/apis/" in c.path)


def test_kubectl_speaks_to_the_standin(kube: KubeStandin, tmp_path: Path) -> None:
    assert shutil.which("kubectl"), "kubectl is missing: .ci/run installs it (apt-get install kubernetes-client)"
    kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig", namespace="jesse-test")
    env = {"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin:/usr/local/bin"}
    raw = subprocess.run(["kubectl", "get", "--raw", f"{API}/jesse-test/rollouts/bluegreen-demo"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert raw.returncode == 0, raw.stderr
    assert json.loads(raw.stdout)["status"]["pauseConditions"][0]["reason"] == "BlueGreenPause"
    missing = subprocess.run(["kubectl", "get", "--raw", f"{API}/jesse-test/rollouts/nope"],
                             capture_output=True, text=True, env=env, timeout=60)
    assert missing.returncode != 0 and "not found" in missing.stderr
    patched = subprocess.run(["kubectl", "patch", "rollouts.argoproj.io", "bluegreen-demo", "--type", "merge",
                              "-p", '{"spec":{"paused":true}}'], capture_output=True, text=True, env=env, timeout=60)
    assert patched.returncode == 0, patched.stderr
    assert "patched" in patched.stdout
    after = kube.store.get("Rollout", "jesse-test", "bluegreen-demo")
    assert after is not None and after["spec"]["paused"] is True
    assert after["metadata"]["generation"] == 411


async def test_the_tui_shows_argo_rollouts_and_acts_as_the_plugin(kube: KubeStandin, tmp_path: Path) -> None:
    """`monotui --config C` with an argo-rollouts source on the stand-in: rows as the plugin shows them, the
    context/namespace in the table and the confirmation, and the plugin's request on confirm."""
    from monotui.ui.app import MonotuiApp
    from monotui.ui.screens.confirm import ConfirmActionScreen

    from .ui_helpers import cell, rows_loaded, select, settle, static_text

    settings = build_settings({
        "sources": [{"name": "k8s", "kind": "argo-rollouts", "context": "standin",
                     "kubeconfig": str(kube.kubeconfig(tmp_path / "kubeconfig"))}],
        "actor": "oncall@bastion", "audit_log": str(tmp_path / "audit.log")})
    app = MonotuiApp(Engine(settings))
    async with app.run_test(size=(160, 40)) as pilot:
        await rows_loaded(app, len(PLUGIN_SHOWS))
        key = "k8s/jesse-test/bluegreen-demo"
        assert app.rollouts.table._order[0] == key, "paused for a human comes first"
        assert (cell(app, key, "status"), cell(app, key, "where")) == ("‖ Paused", "standin/jesse-test")
        assert cell(app, "k8s/jesse-test/canary-demo", "step") == "0/8"
        assert cell(app, "k8s/jesse-test/canary-demo", "weight") == "20/0%"
        select(app, key)
        await pilot.pause()
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmActionScreen)
        plan = static_text(app, "#confirm-plan")
        assert "bluegreen-demo" in plan and "standin/jesse-test" in plan and "source k8s" in plan
        await pilot.press("tab", "enter")
        await settle(pilot, 0.3)
        # retry is offered only where it fits: the aborted rollout
        select(app, "k8s/default/rollout-background-analysis")
        await pilot.pause()
        assert app.rollouts.check_action("rollout", ("retry",)) is True
        select(app, "k8s/jesse-test/canary-demo")
        await pilot.pause()
        assert app.rollouts.check_action("rollout", ("retry",)) is None
    assert patches(kube) == [("PATCH", f"{API}/jesse-test/rollouts/bluegreen-demo/status",
                              "application/merge-patch+json", {"status": {"pauseConditions": None}})]
    [record] = AuditLog(tmp_path / "audit.log").outcomes()
    assert (record["action"], record["outcome"], record["environment"]) == ("promote", "done", "standin/jesse-test")
