"""Pods and logs against the Kubernetes API stand-in, with the real kubectl agreeing: the pods built from the
fixtures' ReplicaSets (`kubectl get pods -A`, `-l`), the rollout's instances as the Argo Rollouts provider reads
them (ready, restarts, node), and the canary's logs through kr8s as `kubectl logs` (and `-f`) reads them."""

from __future__ import annotations

import asyncio
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monotui.engine.logs import LogRequest
from monotui.providers.argo_rollouts.provider import ArgoRolloutsProvider
from monotui.simulator.kube_api import KubeStandin, StandinOptions, load_fixtures
from monotui.simulator.kube_pods import with_pods

from .argo_fixtures import fixtures_dir
from .test_argo_provider import source

NS = "jesse-test"
CANARY_POD = "canary-demo-65fb5ffc84-9wf5r"
TIME = re.compile(r"^\d\d:\d\d:\d\d ")  # the log view writes when each line was written first


@pytest.fixture
def kube() -> Iterator[KubeStandin]:
    with KubeStandin(with_pods(load_fixtures(fixtures_dir())),
                     options=StandinOptions(bookmark_interval=0.2)) as server:
        yield server


def kubectl(kubeconfig: Path, *args: str) -> str:
    done = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), *args], capture_output=True, text=True,
                          timeout=60, check=True)
    return done.stdout


async def test_the_instances_agree_with_kubectl_get_pods(kube: KubeStandin, tmp_path: Path) -> None:
    kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig")
    rows = {}
    for line in kubectl(kubeconfig, "get", "pods", "-A", "--no-headers").splitlines():
        ns, name, ready, status, restarts, _ = line.split(None, 5)
        rows[(ns, name)] = (ready, status, restarts)
    provider = ArgoRolloutsProvider(source(kubeconfig))
    try:
        result = await provider.poll()
    finally:
        await provider.aclose()
    rollout = next(r for r in result.rollouts or [] if r.id == f"{NS}/canary-demo")
    assert [i.revision for i in rollout.instances] == [31] + [30] * 5  # the canary's pod, then the stable's
    checked = 0
    for r in result.rollouts or []:
        namespace = r.id.partition("/")[0]
        for i in r.instances:
            ready, status, restarts = rows[(namespace, i.name)]
            assert (f"{i.ready}/{i.containers}", i.status or i.phase, str(i.restarts)) == (ready, status, restarts)
            checked += 1
    assert checked >= 20
    canary = rollout.instances[0]
    assert (canary.name, canary.status, canary.ready) == (CANARY_POD, "ImagePullBackOff", 0)
    # a label selector, as kube-apiserver applies it
    selected = kubectl(kubeconfig, "get", "pods", "-n", NS, "-l", "rollouts-pod-template-hash=877894d5b",
                       "-o", "name").split()
    assert sorted(selected) == sorted(f"pod/{i.name}" for i in rollout.instances if i.revision == 30)


async def test_built_pods_restart_where_their_replica_set_is_not_ready(tmp_path: Path) -> None:
    objects = with_pods(load_fixtures(fixtures_dir() / "rollout-aborted"))
    rs = next(o for o in objects if o["kind"] == "ReplicaSet" and o["status"].get("replicas"))
    rs["status"]["readyReplicas"] = 0
    rs["status"]["availableReplicas"] = 0
    objects = [o for o in objects if o["kind"] != "Pod"]
    with KubeStandin(with_pods(objects)) as kube:
        kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig")
        out = kubectl(kubeconfig, "get", "pods", "-A", "--no-headers")
        assert "CrashLoopBackOff" in out and " 0/1 " in out
        provider = ArgoRolloutsProvider(source(kubeconfig))
        try:
            result = await provider.poll()
        finally:
            await provider.aclose()
        instances = [i for r in result.rollouts or [] for i in r.instances]
        assert instances and all(i.restarts == 3 and i.status == "CrashLoopBackOff" for i in instances)


async def test_canary_logs_through_kr8s_as_kubectl_reads_them(kube: KubeStandin, tmp_path: Path) -> None:
    kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig")
    provider = ArgoRolloutsProvider(source(kubeconfig))
    try:
        result = await provider.poll()
        rollout = next(r for r in result.rollouts or [] if r.id == f"{NS}/canary-demo")
        lines = [line async for line in provider.logs(rollout, LogRequest(follow=False))]
        expected = kubectl(kubeconfig, "logs", "-n", NS, "-l", "rollouts-pod-template-hash=65fb5ffc84",
                           "--prefix").splitlines()
        assert [f"[pod/{line.instance}/{line.container}] {line.message}" for line in lines] == expected
        assert any("ERROR" in line.message for line in lines)
        assert {line.revision for line in lines} == {31}
        tail = [line async for line in provider.logs(rollout, LogRequest(tail=1, follow=False))]
        assert [line.message for line in tail] == [lines[-1].message]
        stable = [line async for line in provider.logs(rollout, LogRequest(which="stable", follow=False))]
        assert {line.instance for line in stable} == {i.name for i in rollout.instances if i.revision == 30}

        # following: a line written now arrives within a second
        got: list[str] = []

        async def follow() -> None:
            async for line in provider.logs(rollout, LogRequest(tail=0, follow=True)):
                got.append(line.message)
                if "fresh-4410" in line.message:
                    return

        task = asyncio.create_task(follow())
        await asyncio.sleep(0.5)  # the stream is open (nothing to wait on: it sends nothing until a line comes)
        written = time.monotonic()
        kube.store.pod_logs.write(NS, CANARY_POD, "canary-demo", "ERROR fresh-4410")
        await asyncio.wait_for(task, 10)
        assert time.monotonic() - written <= 1.0
        assert got == ["ERROR fresh-4410"]
    finally:
        await provider.aclose()


def test_kubectl_logs_follow_and_options(kube: KubeStandin, tmp_path: Path) -> None:
    kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig")
    base = ["kubectl", "--kubeconfig", str(kubeconfig), "logs", "-n", NS, CANARY_POD]
    assert subprocess.run([*base, "--tail", "1"], capture_output=True, text=True, timeout=60,
                          check=True).stdout.startswith("ERROR")
    assert subprocess.run([*base, "-c", "canary-demo", "--since", "1h"], capture_output=True, text=True,
                          timeout=60, check=True).stdout == ""  # the fixture's lines are years old
    wrong = subprocess.run([*base, "-c", "nope"], capture_output=True, text=True, timeout=60)
    assert wrong.returncode != 0 and "container nope is not valid" in wrong.stderr
    follower = subprocess.Popen([*base, "-f", "--tail", "0"], stdout=subprocess.PIPE, text=True)
    try:
        def later() -> None:
            time.sleep(1.0)
            kube.store.pod_logs.write(NS, CANARY_POD, "canary-demo", "ERROR followed-9920")
        threading.Thread(target=later, daemon=True).start()
        assert follower.stdout is not None
        assert follower.stdout.readline().strip() == "ERROR followed-9920"
    finally:
        follower.terminate()
        follower.wait(30)


async def test_l_on_an_argo_row_follows_the_canary_pods(kube: KubeStandin, tmp_path: Path,
                                                         make_settings: Any) -> None:
    from monotui.engine.core import Engine
    from monotui.ui.screens.logs import LogScreen

    from .conftest import wait_until
    from .ui_helpers import cell, make_app, panel_text, rows_loaded, select

    kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig")
    engine = Engine(make_settings({"name": "k8s", "kind": "argo-rollouts", "kubeconfig": str(kubeconfig),
                                   "context": "standin", "timeout": 5}))
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app)
        key = f"k8s/{NS}/canary-demo"
        select(app, key)
        await pilot.pause()
        await wait_until(lambda: CANARY_POD in panel_text(app, "detail"), timeout=20, what="the pods")
        detail = panel_text(app, "detail")
        assert "r31 canary 0/1 ready" in detail and "r30 stable 5/5 ready" in detail
        assert "ImagePullBackOff" in detail
        assert "⚠0/1" in cell(app, key, "status")
        await pilot.press("l")
        await wait_until(lambda: isinstance(app.screen, LogScreen), timeout=20, what="the log view")
        screen = app.screen
        assert isinstance(screen, LogScreen)

        def shown() -> list[str]:
            return [TIME.sub("", str(line)) for line in screen.log_widget.lines]  # each line after its time

        await wait_until(lambda: any("readiness probe failed" in line for line in shown()), timeout=20,
                         what="the canary pod's lines")
        assert all(line.startswith(f"[pod/{CANARY_POD}/canary-demo] ") for line in shown())
        written = time.monotonic()
        kube.store.pod_logs.write(NS, CANARY_POD, "canary-demo", "ERROR [red]literal[/red] 6612")
        await wait_until(lambda: any(line.endswith("ERROR [red]literal[/red] 6612") for line in shown()),
                         timeout=10, step=0.01, what="the new line")
        assert time.monotonic() - written <= 1.0
    await engine.aclose()


async def test_c_in_the_log_view_shows_one_container_then_the_other(tmp_path: Path, make_settings: Any) -> None:
    from monotui.engine.core import Engine
    from monotui.ui.screens.logs import LogScreen

    from .conftest import wait_until
    from .ui_helpers import make_app, rows_loaded, select

    objects = [o for o in load_fixtures(fixtures_dir() / "canary")
               if not (o["kind"] == "Pod" and o["metadata"]["name"] == CANARY_POD)]
    for o in objects:
        if o["kind"] == "ReplicaSet" and o["metadata"]["name"] == "canary-demo-65fb5ffc84":
            o["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "envoy:v1"})
    with KubeStandin(with_pods(objects)) as kube:
        kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig")
        pod = next(p["metadata"]["name"] for p in kube.store.objects["Pod"].values()
                   if p["metadata"]["name"].startswith("canary-demo-65fb5ffc84-"))
        kube.store.pod_logs.write(NS, pod, "sidecar", "sidecar says 1")
        kube.store.pod_logs.write(NS, pod, "canary-demo", "app says 1")
        engine = Engine(make_settings({"name": "k8s", "kind": "argo-rollouts", "kubeconfig": str(kubeconfig),
                                       "context": "standin", "timeout": 5}))
        app = make_app(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await rows_loaded(app)
            select(app, f"k8s/{NS}/canary-demo")
            await pilot.press("l")
            await wait_until(lambda: isinstance(app.screen, LogScreen), timeout=20, what="the log view")
            screen = app.screen
            assert isinstance(screen, LogScreen)

            def shown() -> list[str]:
                return [TIME.sub("", str(line)) for line in screen.log_widget.lines]  # each line after its time

            await wait_until(lambda: {"sidecar says 1", "app says 1"} <= {line.split("] ", 1)[-1] for line in shown()},
                             timeout=20, what="both containers")
            await pilot.press("c")
            await wait_until(lambda: shown() == [f"[pod/{pod}/canary-demo] app says 1"], timeout=20,
                             what="the app container alone")
            await pilot.press("c")
            await wait_until(lambda: shown() == [f"[pod/{pod}/sidecar] sidecar says 1"], timeout=20,
                             what="the sidecar alone")
            assert "-c sidecar" in str(screen.title_line.content)
        await engine.aclose()
