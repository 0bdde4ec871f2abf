"""The app at N services, as a person runs it: `python -m bench.scale [--sizes 100 1000 5000 10000]
[--seconds 120] [--presses 60] [--modes feed bulk] [--busy K] [--smoke]`.

For each N: the simulator (its own process, the demo's deploy rate) and `monotui` in a real pseudo-terminal (2 s
polls; `bulk`: a simulator with the change feed turned off, the same-run baseline). Figures: seconds from starting
the process to the first frame on the terminal showing a full page of the table, idle CPU of the app's process
(share of one core) over a window with no keys, CPU per poll interval, key→frame (a key written to the terminal to
the complete frame showing the table scrolled by a page: `G` and `g` in turn), the app's RSS at the end. One JSON
line per N and mode, flushed. With `--busy K`, each N and mode is measured twice in a row: quiet, then with K
busy loops (`while 1: pass`, each its own process) started before the simulator and stopped after; the second
line gives the loaded figures and their ratios to the quiet ones of the same run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import SimProcess, cpu_seconds, emit, median, p95, rss_mb, smoke
from bench.terminal import PtyApp, bench_env, config_file, key_to_painted_frame, table_rows
from monotui.simulator.world import SimConfig, World

POLL_INTERVAL = 2.0


def measure(services: int, seconds: float, presses: int, mode: str) -> dict[str, Any]:
    names = set(World(SimConfig(services=services, seed=1)).services)  # what `monotui simulate --seed 1` serves
    with SimProcess(services, feed=mode == "feed") as sim, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = config_file(folder, [{"name": "s0", "kind": "http", "url": sim.url, "poll_interval": POLL_INTERVAL,
                                       "timeout": 30}])
        with PtyApp(["--config", str(config)], bench_env(folder)) as app:
            page = app.frame_after(app.started, lambda f: len(table_rows(f, names)) >= min(services, 10),
                                   timeout=300, what="the first rows")
            shown = len(table_rows(page, names))
            full = app.frame_after(app.started, lambda f: len(table_rows(f, names)) >= shown,
                                   timeout=300, what="a full page of rows")
            first_table = full.at - app.started
            app.settle(0.5)
            settle = min(4.0, seconds / 4)
            settle_until = time.perf_counter() + settle  # the first polls and relayouts are not idle
            while time.perf_counter() < settle_until:
                app.pump(0.1)
            window = max(1.0, seconds - settle - first_table - presses * 0.2)
            c0, w0 = cpu_seconds(app.proc.pid), time.perf_counter()
            while time.perf_counter() - w0 < window:
                app.pump(0.1)  # the terminal is read all along, as a real one is
            elapsed = time.perf_counter() - w0
            idle_cpu = (cpu_seconds(app.proc.pid) - c0) / elapsed
            latencies = key_to_painted_frame(app, names, presses)
            rss = rss_mb(app.proc.pid)
            run_s = time.perf_counter() - app.started
            app.quit()
        sim_cpu = sim.cpu()
    return {"services": services, "mode": mode, "first_full_table_s": round(first_table, 3),
            "rows_on_a_page": shown, "idle_cpu_fraction": round(idle_cpu, 4), "idle_window_s": round(elapsed, 1),
            "cpu_per_poll_interval_s": round(idle_cpu * POLL_INTERVAL, 4),
            "key_to_frame_ms_median": round(median(latencies) * 1000, 1),
            "key_to_frame_ms_p95": round(p95(latencies) * 1000, 1),
            "key_to_frame_ms_max": round(max(latencies) * 1000, 1), "presses": len(latencies),
            "rss_mb": round(rss, 1), "rss_after_s": round(run_s, 1), "simulator_cpu_s": round(sim_cpu, 1)}


@contextmanager
def busy_loops(count: int) -> Iterator[None]:
    """`count` processes spinning on the CPU (another job on a shared machine) while the block runs."""
    loops = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def under_load(quiet: dict[str, Any], loaded: dict[str, Any], busy: int) -> dict[str, Any]:
    ratios = {f"ratio_{key}": round(loaded[key] / quiet[key], 2) if quiet[key] else None
              for key in ("first_full_table_s", "key_to_frame_ms_p95", "idle_cpu_fraction")}
    return {**loaded, "busy_loops": busy, **ratios}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000, 10000])
    parser.add_argument("--seconds", type=float, default=120.0, help="run length per N and mode (RSS is read "
                                                                      "at its end; default 120)")
    parser.add_argument("--presses", type=int, default=60, help="keys for key→frame (default 60)")
    parser.add_argument("--modes", nargs="+", default=["feed", "bulk"], choices=["feed", "bulk"])
    parser.add_argument("--busy", type=int, default=0, help="also measure each N and mode with this many busy "
                                                              "loops on the CPU (default 0: quiet only)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds (MONOTUI_BENCH_SMOKE=1)")
    args = parser.parse_args()
    if smoke(args):
        args.sizes, args.seconds, args.presses, args.modes = [80], 2.0, 4, ["feed", "bulk"]
        args.busy = min(args.busy, 1)
    for n in args.sizes:
        for mode in args.modes:
            try:
                quiet = measure(n, args.seconds, args.presses, mode)
                emit("scale", quiet)
                if args.busy:
                    with busy_loops(args.busy):
                        loaded = measure(n, args.seconds, args.presses, mode)
                    emit("scale_busy", under_load(quiet, loaded, args.busy))
            except (TimeoutError, RuntimeError) as e:
                emit("scale", {"services": n, "mode": mode, "error": str(e).splitlines()[0]})


if __name__ == "__main__":
    main()
