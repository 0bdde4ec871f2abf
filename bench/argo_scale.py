"""Argo Rollouts at scale: N rollouts in M namespaces in the Kubernetes API stand-in, shown in a headless app.

Prints JSON: seconds from app start to the first full table, and from a MODIFIED event in the stand-in to the
changed cell on screen (median and worst of several), plus the same for the engine alone (no UI).

    python -m bench.argo_scale [--rollouts 2000] [--namespaces 50] [--samples 10] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import emit, smoke
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rollouts", type=int, default=2000)
    parser.add_argument("--namespaces", type=int, default=50)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds (MONOTUI_BENCH_SMOKE=1)")
    args = parser.parse_args()
    if smoke(args):
        args.rollouts, args.namespaces, args.samples = 50, 5, 2
    objects = synthetic(args.rollouts, args.namespaces)
    out: dict[str, Any] = {"rollouts": args.rollouts, "namespaces": args.namespaces}
    with tempfile.TemporaryDirectory() as tmp, KubeStandin(objects, options=StandinOptions(bookmark_interval=30)) \
            as kube:
        out["engine"] = asyncio.run(measure_engine(kube, Path(tmp), args.rollouts, args.samples))
    with tempfile.TemporaryDirectory() as tmp, KubeStandin(objects, options=StandinOptions(bookmark_interval=30)) \
            as kube:
        out["app"] = asyncio.run(measure_app(kube, Path(tmp), args.rollouts, args.samples))
    out["targets"] = {"first_full_table_s": 3.0, "modified_to_screen_ms": 200}
    emit("argo_scale", out)


if __name__ == "__main__":
    main()
