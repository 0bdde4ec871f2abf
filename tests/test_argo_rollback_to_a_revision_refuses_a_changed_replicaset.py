"""A rollback to a chosen Argo Rollouts revision sends that revision's ReplicaSet template as it was when the
confirmation showed it: if the ReplicaSet's template changed in between (someone edited its image) or it is gone,
the rollback is refused with nothing sent and audited as refused; unchanged, it is sent as before."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monotui.config import Settings
from monotui.engine import revisions as engine_revisions
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.revisions import pick
from monotui.simulator.kube_api import KubeStandin, load_fixtures

from .argo_fixtures import fixtures_dir
from .test_revision_history import argo_source

NS = "jesse-test"


@pytest.fixture
def kube() -> Iterator[KubeStandin]:
    with KubeStandin(load_fixtures(fixtures_dir())) as server:
        yield server


def replica_set_of(revision: int) -> str:
    return next(o["metadata"]["name"] for o in load_fixtures(fixtures_dir()) if o["kind"] == "ReplicaSet"
                and o["metadata"].get("annotations", {}).get("rollout.argoproj.io/revision") == str(revision))


def template_patches(kube: KubeStandin) -> list[Any]:
    bodies = [json.loads(c.body) for c in kube.store.calls
              if c.method == "PATCH" and c.content_type == "application/json-patch+json"]
    return [op for body in bodies for op in body if op.get("path") == "/spec/template"]


def edit_image(obj: dict[str, Any]) -> None:
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = "argoproj/rollouts-demo:not-what-was-shown"


@pytest.mark.parametrize("meanwhile", ["edited", "deleted"])
async def test_a_replicaset_changed_under_the_dialog_is_refused_and_nothing_is_sent(
        meanwhile: str, kube: KubeStandin, tmp_path: Path, make_settings: Callable[..., Settings],
        audit_path: Path) -> None:
    async with Engine(make_settings(argo_source(kube, tmp_path))) as engine:
        await engine.refresh_once()
        (source, rollout), = engine.find(f"{NS}/canary-demo")
        chosen = pick((await engine_revisions.read(engine, source, rollout.id)).revisions, 29)
        assert chosen is not None and chosen.version == "asdf"
        plan = engine_revisions.plan_rollback_to(engine, source, rollout, chosen)
        if meanwhile == "edited":
            kube.store.modify("ReplicaSet", NS, replica_set_of(29), edit_image)
        else:
            kube.store.delete("ReplicaSet", NS, replica_set_of(29))
        outcome = await engine.execute(plan, "asdf was fine", confirmed_by="dialog")
    assert outcome.outcome == "refused", outcome.message()
    assert template_patches(kube) == []
    records = AuditLog(audit_path).read()
    assert [r["outcome"] for r in records] == ["intent", "refused"]
    assert all(r["target_revision"] == 29 and r["shown"]["to_version"] == "asdf" for r in records)


async def test_an_unchanged_replicaset_is_sent_as_confirmed(kube: KubeStandin, tmp_path: Path,
                                                           make_settings: Callable[..., Settings]) -> None:
    async with Engine(make_settings(argo_source(kube, tmp_path))) as engine:
        await engine.refresh_once()
        (source, rollout), = engine.find(f"{NS}/canary-demo")
        chosen = pick((await engine_revisions.read(engine, source, rollout.id)).revisions, 29)
        assert chosen is not None
        outcome = await engine.execute(engine_revisions.plan_rollback_to(engine, source, rollout, chosen))
    assert outcome.ok, outcome.message()
    [replaced] = template_patches(kube)
    assert replaced["value"]["spec"]["containers"][0]["image"] == "argoproj/rollouts-demo:asdf"


async def test_a_plain_rollback_is_pinned_to_what_the_stable_revision_ran_when_confirmed(
        kube: KubeStandin, tmp_path: Path, make_settings: Callable[..., Settings], audit_path: Path) -> None:
    """`b` (not from the history): the revision it goes back to is pinned the same way."""
    from monotui.action_kinds import ActionKind

    async with Engine(make_settings(argo_source(kube, tmp_path))) as engine:
        await engine.refresh_once()
        (source, rollout), = engine.find(f"{NS}/canary-demo")
        plan = engine.plan(source, rollout, ActionKind.ROLLBACK)
        assert plan.target_revision is not None and plan.pinned.target is not None
        kube.store.modify("ReplicaSet", NS, replica_set_of(plan.target_revision), edit_image)
        await engine.refresh_once()  # even once monotui has seen the edit: it is not what was confirmed
        outcome = await engine.execute(plan, None, confirmed_by="dialog")
    assert outcome.outcome == "refused", outcome.message()
    assert template_patches(kube) == []
    assert [r["outcome"] for r in AuditLog(audit_path).read()] == ["intent", "refused"]
