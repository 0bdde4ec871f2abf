"""Every monotui benchmark: `python -m bench.run` (add `--quick` for a short run, `--only NAME` for some, `--smoke` for
a run of seconds at tiny sizes whose figures mean nothing but show that every figure still works).

Prints one JSON line per figure as soon as it is measured (flushed, so a failure later loses nothing). Each figure
comes with a baseline measured in the same run, because these machines are noisy: the ratio is what holds. Figures
are medians; the simulator runs in its own process with deploys on unless a figure says otherwise. Benchmarks are
not tests; nothing here asserts. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.common import DEMO_DEPLOY_INTERVAL, SimProcess, emit, key_to_frame, median, p95, rss_mb, settings, smoke
from bench.feed import change_feed
from bench.viewers import viewers
from monotui.engine.core import Engine
from monotui.providers.http_deploy import HttpDeployProvider
from monotui.simulator.world import SimConfig, World

ROOT = Path(__file__).resolve().parent.parent


def frozen_world(services: int, **kwargs: Any) -> World:
    return World(SimConfig(services=services, seed=1, deploy_interval=0, **kwargs))


# ---- 1. one refresh ---------------------------------------------------------------------------------------


def refresh(sizes: list[int], repeat: int) -> dict[str, Any]:
    """A full refresh (everything listed again) and an unchanged one, against the simulator in its own process.
    No new deploys here (the first three may still move), so that "unchanged" is mostly what it says; health
    still moves every tick, as in production."""
    out: dict[str, Any] = {}
    for n in sizes:
        with SimProcess(n, deploy_interval=0) as sim, tempfile.TemporaryDirectory() as tmp:
            config = settings(sim.url, folder=Path(tmp)).sources[0]
            out[str(n)] = {k: round(v, 2) for k, v in asyncio.run(_refresh_once(sim, config, repeat)).items()}
    return out


async def _refresh_once(sim: SimProcess, config: Any, repeat: int) -> dict[str, float]:
    baseline_client = httpx.AsyncClient()
    provider = HttpDeployProvider(config)

    async def bare() -> float:
        t0 = time.perf_counter()
        response = await baseline_client.get(f"{sim.url}/v1/rollouts")
        json.loads(response.content)
        return time.perf_counter() - t0

    async def full() -> float:
        provider.forget_etag()
        t0 = time.perf_counter()
        await provider.poll()
        return time.perf_counter() - t0

    unchanged_polls: list[bool] = []

    async def unchanged() -> float:
        t0 = time.perf_counter()
        result = await provider.poll()
        elapsed = time.perf_counter() - t0
        unchanged_polls.append(not result.rollouts)  # the first deploys may still be moving
        return elapsed

    await full()
    await bare()
    b = median([await bare() for _ in range(repeat)])
    before = sim.stats()["requests"]
    f = median([await full() for _ in range(repeat)])
    requests = (sim.stats()["requests"] - before - 1) / repeat  # the stats request itself counts once
    u = median([await unchanged() for _ in range(repeat)])
    await baseline_client.aclose()
    await provider.aclose()
    return {"baseline_get_json_ms": b * 1000, "refresh_ms": f * 1000, "refresh_unchanged_ms": u * 1000,
            "requests_per_refresh": requests, "ratio_vs_baseline": f / b,
            "unchanged_share_of_unchanged_polls": sum(unchanged_polls) / len(unchanged_polls)}


# ---- 2. applying a snapshot with 5% changed rows ----------------------------------------------------------


def apply_snapshot(sizes: list[int], repeat: int) -> dict[str, Any]:

    out: dict[str, Any] = {}
    for n in sizes:
        world = frozen_world(n, initial_deploys=0)
        with tempfile.TemporaryDirectory() as tmp:
            engine = Engine(settings("http://127.0.0.1:9", folder=Path(tmp)))
            from monotui.providers.base import PollResult

            engine.state.apply_poll("s0", PollResult(rollouts=world.rollouts(), health=world.health()))
            out[str(n)] = {k: round(v, 2) for k, v in asyncio.run(_apply(engine, world, n, repeat)).items()}
    return out


async def _apply(engine: Engine, world: World, n: int, repeat: int) -> dict[str, float]:
    from monotui.providers.base import PollResult
    from monotui.ui.app import MonotuiApp

    async def measure() -> dict[str, float]:
        app = MonotuiApp(engine, poll=False)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            changed = max(1, n // 20)
            services = list(world.services)
            incremental, painted, rebuild = [], [], []
            for r in range(repeat):
                for name in services[r * changed % n:][:changed]:
                    world.deploy(name)
                engine.state.apply_poll("s0", PollResult(rollouts=world.rollouts(), health=world.health()))
                t0 = time.perf_counter()
                app.rollouts.refresh_views()
                incremental.append(time.perf_counter() - t0)
                await pilot.pause()  # and the frame that shows it (pilot.pause has a floor of its own)
                painted.append(time.perf_counter() - t0)
                # baseline: a rebuild, what a poll would cost without views kept by change: every view computed again
                # and sorted, every row's cells rendered, the table laid out again
                state = engine.state
                state._dirty.update((name, rid) for name, data in state.sources.items() for rid in data.rollouts)
                state._views.clear()
                app.rollouts.rows = type(app.rollouts.rows)(engine.settings.thresholds)
                app.rollouts._reorder = True
                t0 = time.perf_counter()
                app.rollouts.refresh_views(force=True)
                for key in app.rollouts.table._order:
                    app.rollouts.table.get_row(key)
                rebuild.append(time.perf_counter() - t0)
                await pilot.pause()
            return {"apply_5pct_ms": statistics.median(incremental) * 1000,
                    "apply_5pct_and_paint_ms": statistics.median(painted) * 1000,
                    "rebuild_ms": statistics.median(rebuild) * 1000,
                    "speedup_vs_rebuild": statistics.median(rebuild) / statistics.median(incremental)}

    return await measure()


# ---- 3. idle CPU ------------------------------------------------------------------------------------------


def idle_cpu(seconds: float, services: int = 200) -> dict[str, Any]:
    """The app's own CPU: the simulator (200 services, deploys at the demo's rate, health moving every tick) runs
    in another process, as a real backend would."""
    from monotui.ui.app import MonotuiApp

    with SimProcess(services) as sim, tempfile.TemporaryDirectory() as tmp:
        return {**_idle(sim.url, Path(tmp), seconds, MonotuiApp), "services": services}


def _idle(url: str, tmp: Path, seconds: float, app_class: Any) -> dict[str, Any]:
    def run(poll: bool) -> float:
        engine = Engine(settings(url, folder=tmp, poll_interval=2.0))

        async def go() -> float:
            app = app_class(engine, poll=poll)
            async with app.run_test(size=(160, 50)) as pilot:
                if not poll:  # the baseline shows the same rows, it only stops polling
                    await engine.refresh_once()
                    app.rollouts.refresh_views()
                await pilot.pause(min(3.0, seconds))  # first poll and first paint are not idle
                c0, t0 = time.process_time(), time.perf_counter()
                await asyncio.sleep(seconds)
                return (time.process_time() - c0) / (time.perf_counter() - t0)

        return asyncio.run(go())

    baseline = run(poll=False)
    polling = run(poll=True)
    return {"cpu_fraction_polling": round(polling, 4), "cpu_fraction_not_polling": round(baseline, 4),
            "ratio": round(polling / baseline, 2) if baseline else None,
            "seconds": seconds, "poll_interval_s": 2.0,
            "deploy_interval_s": DEMO_DEPLOY_INTERVAL}


# ---- 4. startup -------------------------------------------------------------------------------------------

def demo_first_rows(env: dict[str, str]) -> float:
    """`monotui demo` (12 services) in a pseudo-terminal, as a user runs it: seconds from starting the process to
    the first service's row on the terminal. The demo's simulator runs in its own process, as the demo starts it."""
    from tests.terminal import Terminal  # the test suite's pseudo-terminal reader: the same screen, read the same way

    first = World(SimConfig(services=12, seed=1)).rollouts()[0].service
    t0 = time.perf_counter()
    with Terminal(["demo"], env, cwd=ROOT) as term:
        term.wait_for(first, timeout=120)
        elapsed = time.perf_counter() - t0
        term.type("q")
        term.wait_exit()
    return elapsed


def startup(repeat: int) -> dict[str, Any]:
    # monotui's bytecode compiled, as `pip install` leaves it; where PYTHONDONTWRITEBYTECODE is set (as on the
    # machines of docs/performance.md) every run would otherwise compile its ~60 modules from source again
    compileall.compile_dir(ROOT / "monotui", quiet=1)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MONOTUI_")}  # no user config, no user state
    env = {**clean, "XDG_STATE_HOME": tempfile.mkdtemp(), "XDG_CONFIG_HOME": tempfile.mkdtemp()}

    def child(code: str, *args: str) -> float:
        t0 = time.time()
        out = subprocess.run([sys.executable, "-c", code, str(t0), *args], capture_output=True, text=True,
                             env=env, check=True)
        return float(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else time.time() - t0

    def one_import(module: str, paused: bool) -> float:
        # paused: as `monotui` and `monotui demo` import, the cycle collector off (monotui.startup_gc)
        pause = "import gc; gc.disable()\n" if paused else ""
        code = f"{pause}import time,sys; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
        return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                    check=True).stdout)

    def import_times(*modules: str, paused: bool = False) -> list[float]:
        """Median import time of each of `modules`, measured in turns (the machine's speed drifts)."""
        times: list[list[float]] = [[] for _ in modules]
        for _ in range(repeat):
            for i, module in enumerate(modules):
                times[i].append(one_import(module, paused))
        return [median(t) for t in times]

    first_rows = median([demo_first_rows(env) for _ in range(repeat)])
    # the last: all the demo's process loads before its first poll — the command line, the configuration (pydantic),
    # the app, and the providers of its two sources with their HTTP client (httpx), loaded when the engine builds them
    textual_import, monotui_import, demo_import = import_times(
        "textual.app", "monotui.ui.app",
        "monotui.cli, monotui.config, monotui.ui.app, monotui.providers.http_deploy, monotui.providers.unleash")
    textual_paused, monotui_paused = import_times("textual.app", "monotui.ui.app", paused=True)
    bare = median([child("import sys,time; import textual.app; print(time.time()-float(sys.argv[1]))")
                   for _ in range(repeat)])
    return {"start_to_first_rows_s": round(first_rows, 3), "baseline_python_import_textual_s": round(bare, 3),
            "import_textual_app_s": round(textual_import, 3), "import_monotui_ui_s": round(monotui_import, 3),
            "monotui_import_over_textual_s": round(monotui_import - textual_import, 3),
            "collector_paused_import_textual_app_s": round(textual_paused, 3),
            "collector_paused_import_monotui_ui_s": round(monotui_paused, 3),
            "collector_paused_monotui_import_over_textual_s": round(monotui_paused - textual_paused, 3),
            "import_demo_path_s": round(demo_import, 3),
            "demo_path_import_over_textual_s": round(demo_import - textual_import, 3)}


# ---- 5. memory over simulated time ------------------------------------------------------------------------


def memory(services: int, hours: float) -> dict[str, Any]:
    """The engine polls a simulator (its own process) whose clock is pushed far faster than real time; the
    client's RSS after 5 simulated minutes against its RSS after `hours`. 100+ deploys a day per 1,000 services:
    a deploy every ~14 simulated minutes would be 100/day; we use one every 60 simulated seconds (1,440/day)."""
    tick = 5.0
    with SimProcess(services, deploy_interval=60.0) as sim, tempfile.TemporaryDirectory() as tmp:
        engine = Engine(settings(sim.url, folder=Path(tmp)))

        async def go() -> dict[str, float]:
            advance = httpx.AsyncClient(base_url=sim.url, timeout=60)

            async def run_for(sim_seconds: float) -> None:
                for i in range(int(sim_seconds / tick)):
                    await advance.post("/_sim/advance", json={"seconds": tick})
                    if i % 12 == 0:  # one poll per simulated minute
                        await engine.refresh_once()

            await run_for(300)
            gc.collect()
            early = rss_mb()
            await run_for(hours * 3600 - 300)
            gc.collect()
            late = rss_mb()
            await engine.aclose()
            await advance.aclose()
            deploys = sum(1 for e in engine.state.events if e.event.kind.value == "deploy_started")
            return {"rss_after_5min_mb": early, "rss_after_run_mb": late, "growth_pct": (late / early - 1) * 100,
                    "events_kept": len(engine.state.events), "deploys_among_events_kept": deploys}

        result = asyncio.run(go())
    return {"services": services, "simulated_hours": hours, **{k: round(v, 2) for k, v in result.items()}}


# ---- 6. input latency with a hanging source ----------------------------------------------------------------


def input_latency(presses: int) -> dict[str, Any]:
    from monotui.ui.app import MonotuiApp

    def run(hanging: bool) -> list[float]:
        with SimProcess(50) as good, SimProcess(50) as bad, tempfile.TemporaryDirectory() as tmp:
            if hanging:
                httpx.put(f"{bad.url}/_sim/faults", json={"hang": True}, timeout=10)
            engine = Engine(settings(good.url, bad.url, folder=Path(tmp), poll_interval=0.2, timeout=30))

            async def go() -> list[float]:
                app = MonotuiApp(engine)
                async with app.run_test(size=(120, 35)) as pilot:
                    while app.rollouts.table.row_count == 0:
                        await asyncio.sleep(0.01)
                    await pilot.pause(1)
                    return await key_to_frame(app, presses)

            return asyncio.run(go())

    base, hang = run(False), run(True)
    return {"key_to_frame_ms_median": round(median(hang) * 1000, 2),
            "key_to_frame_ms_p95": round(p95(hang) * 1000, 2),
            "baseline_no_hang_ms_median": round(median(base) * 1000, 2),
            "baseline_no_hang_ms_p95": round(p95(base) * 1000, 2), "presses": presses}


# ---- 7. Argo Rollouts at scale --------------------------------------------------------------------------------


def argo(rollouts: int, namespaces: int, samples: int = 8) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.argo_scale", "--rollouts", str(rollouts), "--namespaces",
                          str(namespaces), "--samples", str(samples)], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    figures = dict(json.loads(out.stdout.strip().splitlines()[-1]))
    figures.pop("figure", None)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and shorter runs")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds per figure (MONOTUI_BENCH_SMOKE=1)")
    parser.add_argument("--only", nargs="*", help="run only these figures (refresh, apply, idle, startup, "
                                                  "memory, input, argo, feed, viewers)")
    args = parser.parse_args()
    q = args.quick
    figures: dict[str, Callable[[], Any]] = {
        "1_refresh": lambda: refresh([50], 1),
        "2_apply_snapshot": lambda: apply_snapshot([100], 1),
        "3_idle_cpu": lambda: idle_cpu(1, services=50),
        "4_startup": lambda: startup(1),
        "5_memory": lambda: memory(50, 0.1),
        "6_input_latency": lambda: input_latency(4),
        "7_argo": lambda: argo(50, 5, samples=2),
        "8_change_feed": lambda: change_feed(200, 1),
        "9_viewers": lambda: viewers(2, 50, 2, ["feed", "bulk", "uncompressed"]),
    } if smoke(args) else {
        "1_refresh": lambda: refresh([100, 1000] if q else [100, 1000, 5000], 3 if q else 7),
        "2_apply_snapshot": lambda: apply_snapshot([1000] if q else [1000, 5000], 3 if q else 7),
        "3_idle_cpu": lambda: idle_cpu(10 if q else 60),
        "4_startup": lambda: startup(3 if q else 9),
        "5_memory": lambda: memory(300 if q else 1000, 0.25 if q else 1.0),
        "6_input_latency": lambda: input_latency(40 if q else 200),
        "7_argo": lambda: argo(500 if q else 2000, 50),
        "8_change_feed": lambda: change_feed(1000 if q else 5000, 3 if q else 7),
        "9_viewers": lambda: viewers(10 if q else 50, 1000 if q else 5000, 15 if q else 60,
                                     ["feed", "bulk", "uncompressed"]),
    }
    emit("machine", {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                     "started": datetime.now(UTC).isoformat(timespec="seconds")})
    failed = []
    for name, fn in figures.items():
        if args.only and not any(o in name for o in args.only):
            continue
        t0 = time.perf_counter()
        try:
            result = fn()
        except Exception as e:  # one broken figure must not lose the others
            failed.append(name)
            emit(name, {"error": f"{type(e).__name__}: {e}"})
            continue
        emit(name, {**result, "bench_seconds": round(time.perf_counter() - t0, 1)})
    if failed:
        sys.exit(f"figures that failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
