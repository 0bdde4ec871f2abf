"""Argo Rollouts knows who did it: every action monotui sends also writes the actor and reason on the Rollout (the
`monotui.dev/last-action` annotation) and as a core/v1 Event that `kubectl get events` lists; another monotui (a
second operator) reads them back and names the actor in its events and in its confirmation's warning."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monotui.action_kinds import ActionKind
from monotui.config import build_settings
from monotui.engine.core import Engine
from monotui.engine.others import acted_by_others
from monotui.models import EventKind
from monotui.providers.argo_rollouts.actors import ANNOTATION
from monotui.simulator.kube_api import KubeStandin, StandinOptions, load_fixtures

from .argo_fixtures import fixtures_dir
from .conftest import ACTOR, wait_until

ALICE = "alice@bastion-2"


@pytest.fixture
def kube() -> Iterator[KubeStandin]:
    with KubeStandin(load_fixtures(fixtures_dir() / "canary"),
                     options=StandinOptions(bookmark_interval=0.2)) as server:
        yield server


def engine(kube: KubeStandin, tmp_path: Path, actor: str) -> Engine:
    folder = tmp_path / actor
    folder.mkdir(exist_ok=True)
    return Engine(build_settings({
        "sources": [{"name": "k8s", "kind": "argo-rollouts", "kubeconfig": str(kube.kubeconfig(folder / "kubeconfig")),
                     "timeout": 2.0}],
        "actor": actor, "audit_log": str(folder / "audit.log")}))


def kubectl(kube: KubeStandin, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert shutil.which("kubectl"), "kubectl is missing: .ci/run installs it (apt-get install kubernetes-client)"
    env = {"KUBECONFIG": str(kube.kubeconfig(tmp_path / "kubeconfig")), "HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin:/usr/local/bin"}
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, env=env, timeout=60)


async def pause(kube: KubeStandin, tmp_path: Path, actor: str, reason: str) -> None:
    async with engine(kube, tmp_path, actor) as alice:
        await alice.refresh_once()
        [(source, rollout)] = alice.find("canary-demo")
        outcome = await alice.execute(alice.plan(source, rollout, ActionKind.PAUSE), reason, confirmed_by="dialog")
        assert outcome.ok, outcome.message()


async def test_a_pause_is_recorded_on_the_rollout_and_as_an_event_kubectl_lists(
        kube: KubeStandin, tmp_path: Path) -> None:
    await pause(kube, tmp_path, ALICE, "investigating")
    stored = kube.store.get("Rollout", "jesse-test", "canary-demo")
    assert stored is not None and stored["spec"]["paused"] is True
    note = json.loads(stored["metadata"]["annotations"][ANNOTATION])
    assert (note["actor"], note["action"], note["reason"]) == (ALICE, "pause", "investigating")
    assert datetime.fromisoformat(note["time"].replace("Z", "+00:00")) <= datetime.now(UTC)

    shown = kubectl(kube, tmp_path, "get", "events", "-A")
    assert shown.returncode == 0, shown.stderr
    [header, line] = shown.stdout.splitlines()
    assert header.split()[:5] == ["NAMESPACE", "LAST", "SEEN", "TYPE", "REASON"]
    assert line.split()[:5] == ["jesse-test", line.split()[1], "Normal", "MonotuiPause", "rollout/canary-demo"]
    assert line.endswith(f"paused by {ALICE}: investigating")

    listed = kubectl(kube, tmp_path, "get", "events", "-A", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    [event] = json.loads(listed.stdout)["items"]
    assert event["apiVersion"] == "v1" and event["kind"] == "Event"
    assert event["involvedObject"]["kind"] == "Rollout" and event["involvedObject"]["name"] == "canary-demo"
    assert event["involvedObject"]["uid"] == stored["metadata"]["uid"]
    assert event["source"]["component"] == "monotui" and event["reason"] == "MonotuiPause"
    assert event["metadata"]["name"] == note["event"]  # the annotation names the Event it stands beside


async def test_another_monotui_names_the_actor_in_its_events_and_its_warning(
        kube: KubeStandin, tmp_path: Path) -> None:
    await pause(kube, tmp_path, ALICE, "investigating")
    async with engine(kube, tmp_path, ACTOR) as me:
        await me.refresh_once()
        [(source, mine)] = me.find("canary-demo")
        events = [e for e in me.state.recent_events(source, "canary-demo") if e.event.actor]
        assert len(events) == 1, "the Event and the annotation say the same thing: shown once"
        assert (events[0].event.kind, events[0].event.actor) == (EventKind.PAUSED, ALICE)
        [warning] = acted_by_others(me.state.recent_events(source), source=source, rollout_id=mine.id,
                                    me=ACTOR, now=datetime.now(UTC))
        assert warning.startswith(f"{ALICE} paused this ") and warning.endswith(" ago: 'investigating'")
        await me.refresh_once()  # read again: nothing shown twice
        assert len([e for e in me.state.recent_events(source, "canary-demo") if e.event.actor]) == 1


async def test_a_watching_monotui_sees_a_colleagues_action_as_it_happens(kube: KubeStandin, tmp_path: Path) -> None:
    async with engine(kube, tmp_path, ACTOR) as me:
        updates: list[Any] = []

        async def watch() -> None:
            async for update in me.updates("k8s"):
                updates.append(update)

        task = asyncio.create_task(watch())
        try:
            await wait_until(lambda: bool(me.find("canary-demo")), timeout=30, what="the first snapshot")
            await pause(kube, tmp_path, ALICE, "error spike")
            await wait_until(lambda: any(e.event.actor == ALICE for e in me.state.recent_events("k8s")),
                             timeout=15, what="the colleague's pause")
            [(_, mine)] = me.find("canary-demo")
            [warning] = acted_by_others(me.state.recent_events("k8s"), source="k8s", rollout_id=mine.id, me=ACTOR,
                                        now=datetime.now(UTC))
            assert warning.endswith(" ago: 'error spike'")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_without_the_right_to_create_events_the_action_happens_and_the_annotation_names_the_actor(
        tmp_path: Path) -> None:
    with KubeStandin(load_fixtures(fixtures_dir() / "canary"),
                     options=StandinOptions(forbidden_verbs=frozenset({"create"}))) as kube:
        await pause(kube, tmp_path, ALICE, "investigating")
        assert kube.store.objects["Event"] == {}, "no Event was created"
        async with engine(kube, tmp_path, ACTOR) as me:
            await me.refresh_once()
            [(source, mine)] = me.find("canary-demo")
            [warning] = acted_by_others(me.state.recent_events(source), source=source, rollout_id=mine.id,
                                        me=ACTOR, now=datetime.now(UTC))
            assert warning.startswith(f"{ALICE} paused this ")


async def test_without_the_right_to_read_events_the_rollouts_are_shown_and_the_annotation_names_the_actor(
        tmp_path: Path) -> None:
    with KubeStandin(load_fixtures(fixtures_dir() / "canary")) as kube:
        await pause(kube, tmp_path, ALICE, "investigating")
        kube.options.forbidden_resources = frozenset({"events"})
        async with engine(kube, tmp_path, ACTOR) as me:
            [update] = await me.refresh_once()
            assert update.ok, update.error
            [(source, mine)] = me.find("canary-demo")
            [warning] = acted_by_others(me.state.recent_events(source), source=source, rollout_id=mine.id,
                                        me=ACTOR, now=datetime.now(UTC))
            assert warning.startswith(f"{ALICE} paused this ") and warning.endswith("'investigating'")
