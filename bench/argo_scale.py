"""Argo Rollouts at scale: N rollouts in M namespaces in the Kubernetes API stand-in, shown in a headless app.

Prints JSON: seconds from app start to the first full table, and from a MODIFIED event in the stand-in to the
changed cell on screen (median and worst of several), plus the same for the engine alone (no UI); and, in the same
run, the floor: `kubectl get rollouts.argoproj.io -A -o json` against the same stand-in, from process start to
exit, beside `monotui status --json` on the same source, from process start to exit (medians of `--runs`), with
their ratios.

    python -m bench.argo_scale [--rollouts 2000] [--namespaces 50] [--samples 10] [--runs 3] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import emit, smoke
from bench.terminal import bench_env, config_file
from monotui.config import build_settings
from monotui.engine.core import Engine
from monotui.render.rollouts import COLUMN_LABELS
from monotui.simulator.kube_api import KubeStandin, StandinOptions, synthetic


async def wait_for(predicate: Any, timeout: float = 120.0, step: float = 0.001) -> float:
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("benchmark condition not reached")
        await asyncio.sleep(step)
    return time.perf_counter() - start


def settings_for(kube: KubeStandin, folder: Path) -> Any:
    return build_settings({
        "sources": [{"name": "k8s", "kind": "argo-rollouts", "context": "standin", "timeout": 60,
                     "kubeconfig": str(kube.kubeconfig(folder / "kubeconfig"))}],
        "audit_log": str(folder / "audit.log"), "actor": "bench@localhost"})


def bump(kube: KubeStandin, namespace: str, name: str, value: int) -> None:
    kube.store.modify("Rollout", namespace, name, lambda o: o["status"].update(currentStepIndex=value % 5))


def column_index(table: Any, label: str) -> int:
    """Where the column headed `label` is now (columns move as the table gains some)."""
    for i, key in enumerate(table.shown_columns):
        if COLUMN_LABELS[key] == label:
            return i
    raise LookupError(f"no column {label!r} in the table")


async def measure_app(kube: KubeStandin, folder: Path, count: int, samples: int) -> dict[str, Any]:
    from monotui.ui.app import MonotuiApp

    app = MonotuiApp(Engine(settings_for(kube, folder)))
    start = time.perf_counter()
    async with app.run_test(size=(160, 50)) as pilot:
        first_table = await wait_for(lambda: app.rollouts.table.row_count == count) + 0  # from entering run_test
        first_table = time.perf_counter() - start
        await pilot.pause(0.5)
        step = column_index(app.rollouts.table, "Step")
        latencies = []
        for i in range(samples):
            ns, name = f"team-{i % 50:02d}", f"svc-{i:05d}"
            key = f"k8s/{ns}/{name}"
            before = app.rollouts.table.get_row(key)[step].plain
            t0 = time.perf_counter()
            bump(kube, ns, name, i + 3)
            latencies.append(await wait_for(lambda k=key, b=before: app.rollouts.table.get_row(k)[step].plain != b) + 0)
            latencies[-1] = time.perf_counter() - t0
            await pilot.pause(0.05)
    return {"first_full_table_s": round(first_table, 3),
            "modified_to_screen_ms_median": round(statistics.median(latencies) * 1000, 1),
            "modified_to_screen_ms_max": round(max(latencies) * 1000, 1)}


async def measure_engine(kube: KubeStandin, folder: Path, count: int, samples: int) -> dict[str, Any]:
    async with Engine(settings_for(kube, folder)) as engine:
        updates = 0

        async def consume() -> None:
            nonlocal updates
            async for _ in engine.updates("k8s"):
                updates += 1

        start = time.perf_counter()
        task = asyncio.create_task(consume())
        first = await wait_for(lambda: len(engine.state.sources["k8s"].rollouts) == count)
        first = time.perf_counter() - start
        latencies = []
        for i in range(samples):
            ns, name = f"team-{i % 50:02d}", f"svc-{i:05d}"
            before = engine.state.rollout("k8s", f"{ns}/{name}").current_step  # type: ignore[union-attr]
            t0 = time.perf_counter()
            bump(kube, ns, name, (before or 0) + 1)
            await wait_for(lambda n=ns, m=name, b=before: engine.state.rollout("k8s", f"{n}/{m}").current_step != b)
            latencies.append(time.perf_counter() - t0)
        task.cancel()
    return {"first_full_state_s": round(first, 3),
            "modified_to_state_ms_median": round(statistics.median(latencies) * 1000, 1)}


def wall(command: list[str], env: dict[str, str], runs: int) -> float:
    """Median seconds of `command` from start to exit (it must succeed), its output thrown away."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True, timeout=300)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def one_shot(kube: KubeStandin, folder: Path, runs: int) -> dict[str, Any]:
    """`kubectl get rollouts -A -o json` (the floor) and `monotui status --json`, alternated, from process start."""
    kubeconfig = kube.kubeconfig(folder / "kubeconfig")
    env = {**bench_env(folder), "KUBECONFIG": str(kubeconfig), "HOME": str(folder), "NO_COLOR": "1"}
    config = config_file(folder, [{"name": "k8s", "kind": "argo-rollouts", "context": "standin", "timeout": 60,
                                   "kubeconfig": str(kubeconfig)}])
    if not shutil.which("kubectl"):
        return {"error": "kubectl is not installed: no floor"}
    floor = wall(["kubectl", "--context", "standin", "get", "rollouts.argoproj.io", "-A", "-o", "json"], env, runs)
    status = wall([sys.executable, "-m", "monotui", "--config", str(config), "status", "--json"], env, runs)
    return {"kubectl_get_s": round(floor, 3), "status_json_s": round(status, 3),
            "ratio_status_json_to_kubectl": round(status / floor, 2), "load": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rollouts", type=int, default=2000)
    parser.add_argument("--namespaces", type=int, default=50)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3, help="runs of kubectl and status --json (medians)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds (MONOTUI_BENCH_SMOKE=1)")
    args = parser.parse_args()
    if smoke(args):
        args.rollouts, args.namespaces, args.samples, args.runs = 50, 5, 2, 1
    objects = synthetic(args.rollouts, args.namespaces)
    out: dict[str, Any] = {"rollouts": args.rollouts, "namespaces": args.namespaces}
    with tempfile.TemporaryDirectory() as tmp, KubeStandin(objects, options=StandinOptions(bookmark_interval=30)) \
            as kube:
        out["engine"] = asyncio.run(measure_engine(kube, Path(tmp), args.rollouts, args.samples))
    with tempfile.TemporaryDirectory() as tmp, KubeStandin(objects, options=StandinOptions(bookmark_interval=30)) \
            as kube:
        out["app"] = asyncio.run(measure_app(kube, Path(tmp), args.rollouts, args.samples))
    with tempfile.TemporaryDirectory() as tmp, KubeStandin(objects, options=StandinOptions(bookmark_interval=30)) \
            as kube:
        out["one_shot"] = one_shot(kube, Path(tmp), args.runs)
    floor = out["one_shot"].get("kubectl_get_s")
    if floor:  # the app's table is timed in-process from the app's start: no imports, no process start
        out["ratio_app_first_table_to_kubectl"] = round(out["app"]["first_full_table_s"] / floor, 2)
    out["targets"] = {"first_full_table_s": 3.0, "modified_to_screen_ms": 200}
    emit("argo_scale", out)


if __name__ == "__main__":
    main()
