"""A rollout's revisions, newest first, with how each ended, from the deploy API (the simulator's
GET /v1/rollouts/{id}/revisions) and from Argo Rollouts ReplicaSets (the Kubernetes stand-in, with the real kubectl
listing the same ReplicaSets); `monotui history` prints them, and a rollback to a chosen older revision is pinned to it
(the request names it) and audited."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monotui.action_kinds import ActionKind
from monotui.cli import main
from monotui.config import Settings
from monotui.engine import revisions as engine_revisions
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.revisions import Ending, pick
from monotui.simulator.kube_api import KubeStandin, load_fixtures
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World

from .argo_fixtures import fixtures_dir
from .conftest import ACTOR, make_world

SERVICE = "checkout-api"


def staged_world() -> World:
    """checkout-api: r10-r12 from before the start (r12 stable), r13 aborted, r14 and r15 promoted, then r15 rolled
    back to r14."""
    world = make_world(names=(SERVICE,), initial_deploys=0)
    world.deploy(SERVICE, bad=True, message="Cache price lookups for 30s")
    world.act(SERVICE, ActionKind.ABORT, "dana", "errors at 10%")
    world.deploy(SERVICE)
    world.act(SERVICE, ActionKind.PROMOTE_FULL, "dana")
    world.step(5)
    world.deploy(SERVICE)
    world.act(SERVICE, ActionKind.PROMOTE_FULL, "dana")
    world.step(5)
    world.act(SERVICE, ActionKind.ROLLBACK, "erin", "p99 doubled", revision=14)
    return world


@pytest.fixture
def staged() -> Iterator[SimulatorServer]:
    with SimulatorServer(staged_world(), tick_interval=None) as server:
        yield server


async def test_the_deploy_api_lists_revisions_with_how_each_ended(
        staged: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    async with engine_for(staged.url) as engine:
        await engine.refresh_once()
        listed = (await engine_revisions.read(engine, "prod", SERVICE)).revisions
    assert [r.revision for r in listed] == [15, 14, 13, 12, 11, 10]  # newest first
    ended = {r.revision: r.ended for r in listed}
    assert ended == {15: Ending.ROLLED_BACK, 14: Ending.LIVE, 13: Ending.ABORTED, 12: Ending.PROMOTED,
                     11: Ending.PROMOTED, 10: Ending.PROMOTED}
    r15, r14, r13 = listed[:3]
    assert r15.end_reason == "p99 doubled" and r15.ended_by == "erin" and r15.live_until is not None
    assert r13.end_reason == "errors at 10%" and r13.ended_by == "dana" and r13.commit_message == \
        "Cache price lookups for 30s"
    assert r14.stable and r14.current and r14.live_until is None
    assert all(r.commit and r.author and r.images and r.live_from for r in listed)
    assert r15.changes is not None and r15.changes.commit_range == f"{r14.commit}..{r15.commit}"


def test_history_prints_every_revision_and_how_it_ended(staged: SimulatorServer, tmp_path: Path,
                                                        audit_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "monotui.toml"
    path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n'
                    f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{staged.url}"\ntimeout = 2\n')
    assert main(["history", SERVICE, "--config", str(path)]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("r1")}
    assert "rolled back" in rows["r15"] and "live (stable current)" in rows["r14"] and "aborted" in rows["r13"]
    assert "promoted" in rows["r12"]
    assert "why: p99 doubled (by erin)" in out

    assert main(["history", SERVICE, "--json", "--config", str(path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["service"] == SERVICE and len(data["revisions"]) == 6
    assert [r["ended"] for r in data["revisions"][:3]] == ["rolled_back", "live", "aborted"]

    assert main(["history", "nope", "--config", str(path)]) == 1


async def test_a_rollback_to_a_chosen_older_revision_is_pinned_and_audited(
        staged: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    async with engine_for(staged.url) as engine:
        await engine.refresh_once()
        (source, rollout), = engine.find(SERVICE)
        listed = (await engine_revisions.read(engine, source, rollout.id)).revisions
        chosen = pick(listed, 12)
        assert chosen is not None and rollout.rollback_to is not None and rollout.rollback_to.revision != 12
        plan = engine_revisions.plan_rollback_to(engine, source, rollout, chosen)
        assert plan.target_revision == 12 and f"r12 ({chosen.version})" in plan.summary()
        outcome = await engine.execute(plan, "back to the last good one", confirmed_by="prompt")
    assert outcome.ok, outcome.message()
    posted = [r for r in staged.state.mutating_requests() if r.path.endswith("/actions/rollback")]
    assert len(posted) == 1
    assert json.loads(posted[0].body) | {} == {"actor": ACTOR, "reason": "back to the last good one",
                                              "revision": 12, "expected_revision": 14}
    assert staged.world.rollout(SERVICE).revision == 12
    records = AuditLog(audit_path).read()
    assert [r["outcome"] for r in records] == ["intent", "done"]
    assert all(r["target_revision"] == 12 and r["to_revision"] == 12 and r["action"] == "rollback"
               and r["shown"]["to_version"] == chosen.version for r in records)


async def test_a_rollback_pinned_to_a_revision_is_refused_in_read_only_mode(
        staged: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    async with engine_for(staged.url, read_only=True) as engine:
        await engine.refresh_once()
        (source, rollout), = engine.find(SERVICE)
        chosen = pick((await engine_revisions.read(engine, source, rollout.id)).revisions, 12)
        assert chosen is not None
        outcome = await engine.execute(engine_revisions.plan_rollback_to(engine, source, rollout, chosen))
    assert outcome.outcome == "refused" and not staged.state.mutating_requests()
    assert [r["outcome"] for r in AuditLog(audit_path).read()] == ["refused"]


# ---- Argo Rollouts: the ReplicaSets ------------------------------------------------------------------------------


@pytest.fixture
def kube() -> Iterator[KubeStandin]:
    with KubeStandin(load_fixtures(fixtures_dir())) as server:
        yield server


def argo_source(kube: KubeStandin, tmp_path: Path) -> dict[str, Any]:
    return {"name": "k8s", "kind": "argo-rollouts", "context": "standin", "timeout": 5,
            "kubeconfig": str(kube.kubeconfig(tmp_path / "kubeconfig"))}


def kubectl_json(kube: KubeStandin, tmp_path: Path, *args: str) -> Any:
    assert shutil.which("kubectl"), "kubectl is missing: .ci/run installs it (apt-get install kubernetes-client)"
    env = {"KUBECONFIG": str(kube.kubeconfig(tmp_path / "kubectl.kubeconfig")), "HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin:/usr/local/bin"}
    done = subprocess.run(["kubectl", *args, "-o", "json"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_argo_revisions_are_the_replicasets_kubectl_lists(
        kube: KubeStandin, tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    async with Engine(make_settings(argo_source(kube, tmp_path))) as engine:
        await engine.refresh_once()
        listed = (await engine_revisions.read(engine, "k8s", "jesse-test/canary-demo")).revisions
    rollout = kubectl_json(kube, tmp_path, "get", "rollouts.argoproj.io", "-n", "jesse-test", "canary-demo")
    sets = kubectl_json(kube, tmp_path, "get", "replicasets", "-n", "jesse-test")["items"]
    owned = {int(rs["metadata"]["annotations"]["rollout.argoproj.io/revision"]):
             (rs["metadata"]["labels"]["rollouts-pod-template-hash"],
              [c["image"] for c in rs["spec"]["template"]["spec"]["containers"]])
             for rs in sets if any(o["uid"] == rollout["metadata"]["uid"] for o in rs["metadata"]["ownerReferences"])}
    assert len(listed) >= 3
    assert {r.revision: (r.pod_template_hash, r.images) for r in listed} == owned
    r31, r30, r29 = listed[:3]
    assert (r31.revision, r30.revision, r29.revision) == (31, 30, 29)
    assert r30.stable and r30.ended is Ending.LIVE and "was r26, r28" in r30.end_reason
    assert r31.current and r31.ended is Ending.LIVE and "ProgressDeadlineExceeded" in r31.end_reason
    assert r29.ended is Ending.ROLLED_BACK and "rolled back to r30" in r29.end_reason
    assert r31.template["image[canary-demo]"] == "argoproj/rollouts-demo:does-not-exist"


async def test_an_aborted_argo_rollout_says_its_current_revision_was_aborted(
        kube: KubeStandin, tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    async with Engine(make_settings(argo_source(kube, tmp_path))) as engine:
        await engine.refresh_once()
        (source, rollout), = engine.find("rollout-background-analysis")
        listed = (await engine_revisions.read(engine, source, rollout.id)).revisions
    assert [r.revision for r in listed] == [2, 1]
    assert listed[0].ended is Ending.ABORTED and 'metric "web" assessed Failed' in listed[0].end_reason
    assert listed[1].stable and listed[1].ended is Ending.LIVE


async def test_an_argo_rollback_to_a_chosen_older_revision_sends_its_template_and_is_audited(
        kube: KubeStandin, tmp_path: Path, make_settings: Callable[..., Settings], audit_path: Path) -> None:
    async with Engine(make_settings(argo_source(kube, tmp_path))) as engine:
        await engine.refresh_once()
        (source, rollout), = engine.find("jesse-test/canary-demo")
        chosen = pick((await engine_revisions.read(engine, source, rollout.id)).revisions, 29)
        assert chosen is not None and rollout.rollback_to is not None and rollout.rollback_to.revision == 30
        plan = engine_revisions.plan_rollback_to(engine, source, rollout, chosen)
        outcome = await engine.execute(plan, "asdf was fine", confirmed_by="prompt")
    assert outcome.ok, outcome.message()
    patches = [json.loads(c.body) for c in kube.store.calls
               if c.method == "PATCH" and c.content_type == "application/json-patch+json"]
    replaced = [op for body in patches for op in body if op.get("path") == "/spec/template"]
    assert len(replaced) == 1
    assert replaced[0]["value"]["spec"]["containers"][0]["image"] == "argoproj/rollouts-demo:asdf"
    records = AuditLog(audit_path).read()
    assert [r["outcome"] for r in records] == ["intent", "done"]
    assert all(r["target_revision"] == 29 and r["shown"]["to_version"] == "asdf" for r in records)


def test_server_text_in_the_history_is_printed_inert(tmp_path: Path, audit_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    world = make_world(names=(SERVICE,), initial_deploys=0)
    world.deploy(SERVICE, message="\x1b]8;;https://evil.example\x1b\\click me\x1b]8;;\x1b\\ [red]x[/]",
                 author="mallory\u202e")
    with SimulatorServer(world, tick_interval=None) as sim:
        path = tmp_path / "monotui.toml"
        path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n'
                        f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{sim.url}"\ntimeout = 2\n')
        for extra in ([], ["--json"]):
            assert main(["history", SERVICE, *extra, "--config", str(path)]) == 0
            out = capsys.readouterr().out
            assert "\x1b" not in out and "\u202e" not in out
            assert "[red]x[/]" in out  # as typed, never markup


async def test_a_revision_that_cannot_be_read_says_so_and_the_others_are_shown() -> None:
    import httpx

    from monotui.config import HttpSourceConfig
    from monotui.providers.http_deploy import HttpDeployProvider

    body = {"rollout_id": "cart-api", "revisions": [
        {"revision": 3, "ended": "exploded"}, {"revision": "two"},
        {"revision": 1, "version": "v1", "ended": "promoted", "images": ["cart:v1"]}]}

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/rollouts/cart-api/revisions"
        return httpx.Response(200, json=body)

    config = HttpSourceConfig(name="prod", kind="http", url="http://127.0.0.1:9")
    provider = HttpDeployProvider(config, transport=httpx.MockTransport(answer))
    try:
        found = await provider.revisions("cart-api")
    finally:
        await provider.aclose()
    assert [r.revision for r in found.revisions] == [3, 1]
    assert found.revisions[0].ended is Ending.UNKNOWN and found.revisions[0].end_reason.startswith("cannot be read: ")
    assert "ended" in found.revisions[0].end_reason
    assert found.revisions[1].ended is Ending.PROMOTED and found.revisions[1].images == ["cart:v1"]
