"""A freeze on Argo Rollouts, which has no server-side freeze: monotui pauses every progressing rollout (the
plugin's own pause, pinned), keeps the freeze in the state file beside the audit log so every monotui on this host
refuses promote and resume, and says plainly that other clients are not held. Against the Kubernetes API stand-in,
checked with kubectl."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from monotui.action_kinds import ActionKind
from monotui.config import build_settings
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.models import Phase
from monotui.simulator.kube_api import KubeStandin, StandinOptions, load_fixtures

from .argo_fixtures import fixtures_dir

API = "/apis/argoproj.io/v1alpha1/namespaces"


@pytest.fixture
def kube() -> Iterator[KubeStandin]:
    with KubeStandin(load_fixtures(fixtures_dir()), options=StandinOptions(bookmark_interval=0.2)) as server:
        yield server


def settings_for(kube: KubeStandin, tmp_path: Path, actor: str = "oncall@bastion-1") -> object:
    return build_settings({
        "sources": [{"name": "k8s", "kind": "argo-rollouts", "context": "standin", "timeout": 5,
                     "kubeconfig": str(kube.kubeconfig(tmp_path / "kubeconfig"))}],
        "actor": actor, "audit_log": str(tmp_path / "audit.log")})


def kubectl_paused(kube: KubeStandin, tmp_path: Path, namespace: str, name: str) -> bool:
    env = {"KUBECONFIG": str(kube.kubeconfig(tmp_path / "kubeconfig")), "HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin:/usr/local/bin"}
    got = subprocess.run(["kubectl", "get", "--raw", f"{API}/{namespace}/rollouts/{name}"], capture_output=True,
                         text=True, env=env, timeout=60)
    assert got.returncode == 0, got.stderr
    return bool(json.loads(got.stdout)["spec"].get("paused"))


def status_patches(kube: KubeStandin) -> list[str]:
    return [c.path for c in kube.store.calls if c.method == "PATCH" and c.path.endswith("/status")]


@pytest.mark.skipif(shutil.which("kubectl", path="/usr/bin:/bin:/usr/local/bin") is None, reason="needs kubectl")
async def test_argo_rollouts_are_paused_and_held_here_and_the_freeze_says_other_clients_are_not(
        kube: KubeStandin, tmp_path: Path) -> None:
    async with Engine(settings_for(kube, tmp_path)) as engine:  # type: ignore[arg-type]
        await engine.refresh_once()
        moving = sorted(r.id for _, r in engine.state.iter_rollouts() if r.phase is Phase.PROGRESSING)
        assert moving, "the fixtures have progressing rollouts"
        plan = engine.plan_freeze()
        assert sorted(p.rollout.id for p in plan.steps) == moving
        assert not plan.sources[0].server
        assert any("are not held" in line for line in plan.lines())
        result = await engine.execute_freeze(plan, "checkout errors", confirmed_by="yes-flag")
        assert result.ok, result.message()
        assert "frozen by monotui on this host" in result.message() and "are not held" in result.message()
        for rollout_id in moving:
            namespace, name = rollout_id.split("/")
            assert kubectl_paused(kube, tmp_path, namespace, name), rollout_id
        [hold] = engine.holds()
        assert not hold.server and hold.reason == "checkout errors"

    # another monotui on this host (same audit log folder) honours the freeze: promote is refused, nothing sent
    async with Engine(settings_for(kube, tmp_path, actor="bob@bastion-1")) as other:  # type: ignore[arg-type]
        await other.refresh_once()
        sent = len(status_patches(kube))
        target = next(r for _, r in other.state.iter_rollouts() if r.id == moving[0])
        outcome = await other.execute(other.plan("k8s", target, ActionKind.PROMOTE), "go")
        assert outcome.outcome == "refused" and "frozen since" in (outcome.error or "")
        assert "by oncall@bastion-1: checkout errors" in (outcome.error or "")
        assert len(status_patches(kube)) == sent, "nothing was sent"

        unfreeze = other.plan_unfreeze()
        assert sorted(p.rollout.id for p in unfreeze.steps) == moving, "what the freeze paused, from the state file"
        lifted = await other.execute_freeze(unfreeze, confirmed_by="yes-flag")
        assert lifted.ok, lifted.message()
        assert other.holds() == []
        for rollout_id in moving:
            namespace, name = rollout_id.split("/")
            assert not kubectl_paused(kube, tmp_path, namespace, name), rollout_id
    actions = [(r["action"], r["outcome"]) for r in AuditLog(tmp_path / "audit.log").read() if r["outcome"] != "intent"]
    assert ("freeze", "done") in actions and ("unfreeze", "done") in actions
    assert actions.count(("pause", "done")) == len(moving) and actions.count(("resume", "done")) == len(moving)
