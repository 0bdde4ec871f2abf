"""A production too big for one answer, read in pages: `python -m bench.paged [--sizes 50000 100000]
[--seconds 60] [--presses 30] [--smoke]`.

For each N: the simulator (its own process, the demo's deploy rate) and `monotui` in a real pseudo-terminal with
the DEFAULT configuration of an http source (no `max_response_mb`, no timeout raised). Figures, from process
start: the first full page of rows on the terminal (`first_rows_s`), the first frame whose banner counts every
rollout ("showing 10,000 of N": the whole list is in, `first_full_table_s`), idle CPU of the app's process, key→frame
(`G`/`g` scrolling a page, as bench.scale), RSS at the end and RSS per rollout. The floor, measured in the same
run against the same simulator: reading the same listing page after page with httpx (gzip) and `json.loads`
(`floor_list_s`), in this process; `ratio_full_table_to_floor` divides the two. The load average is printed
with each line: on a shared machine the absolute times are inflated, the ratio less so.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import SimProcess, cpu_seconds, emit, median, p95, rss_mb, smoke
from bench.terminal import PtyApp, bench_env, config_file, key_to_painted_frame, table_rows
from monotui.simulator.world import SimConfig, World

POLL_INTERVAL = 2.0


def floor_list(url: str, page: int = 5000) -> tuple[float, int]:
    """Seconds to read the change feed's whole list in pages and parse each with json.loads; items read."""
    t0 = time.perf_counter()
    items = 0
    token = None
    with httpx.Client(base_url=url, timeout=120, headers={"Accept-Encoding": "gzip"}) as client:
        while True:
            params: dict[str, Any] = {"limit": page}
            if token:
                params["continue"] = token
            data = json.loads(client.get("/v1/changes/rollouts", params=params).content)
            items += len(data["rollouts"])
            token = data.get("continue")
            if not token:
                return time.perf_counter() - t0, items


def measure(services: int, seconds: float, presses: int) -> dict[str, Any]:
    names = set(World(SimConfig(services=services, seed=1)).services)  # what `monotui simulate --seed 1` serves
    sim_process = SimProcess(services)
    sim_process.ready_within = 900.0  # 100,000 services take minutes to build on a loaded machine
    with sim_process as sim, tempfile.TemporaryDirectory() as tmp:
        floor_s, listed = floor_list(sim.url)
        folder = Path(tmp)
        config = config_file(folder, [{"name": "s0", "kind": "http", "url": sim.url,
                                       "poll_interval": POLL_INTERVAL}])
        with PtyApp(["--config", str(config)], bench_env(folder)) as app:
            page = app.frame_after(app.started, lambda f: len(table_rows(f, names)) >= min(services, 10),
                                   timeout=300, what="the first rows")
            first_rows = page.at - app.started
            counted = f"of {services:,}" if services > 10_000 else None
            whole = app.frame_after(app.started, (lambda f: counted in f.text) if counted else (
                lambda f: len(table_rows(f, names)) >= len(table_rows(page, names))), timeout=600,
                what="every rollout counted in the banner")
            first_full = whole.at - app.started
            settle_until = time.perf_counter() + min(4.0, seconds / 4)
            while time.perf_counter() < settle_until:
                app.pump(0.1)
            window = max(1.0, seconds / 2)
            c0, w0 = cpu_seconds(app.proc.pid), time.perf_counter()
            while time.perf_counter() - w0 < window:
                app.pump(0.1)
            elapsed = time.perf_counter() - w0
            idle_cpu = (cpu_seconds(app.proc.pid) - c0) / elapsed
            latencies = key_to_painted_frame(app, names, presses)
            rss = rss_mb(app.proc.pid)
            app.quit()
    return {"services": services, "listed_by_floor": listed, "first_rows_s": round(first_rows, 3),
            "first_full_table_s": round(first_full, 3), "floor_list_s": round(floor_s, 3),
            "ratio_full_table_to_floor": round(first_full / floor_s, 2) if floor_s else None,
            "idle_cpu_fraction": round(idle_cpu, 4), "key_to_frame_ms_median": round(median(latencies) * 1000, 1),
            "key_to_frame_ms_p95": round(p95(latencies) * 1000, 1), "presses": len(latencies),
            "rss_mb": round(rss, 1), "rss_kb_per_rollout": round(rss * 1024 / services, 2),
            "load_average": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 100_000])
    parser.add_argument("--seconds", type=float, default=60.0, help="idle window ×2 (default 60)")
    parser.add_argument("--presses", type=int, default=30)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds (MONOTUI_BENCH_SMOKE=1)")
    args = parser.parse_args()
    sizes, seconds, presses = ([300], 4.0, 4) if smoke(args) else (args.sizes, args.seconds, args.presses)
    for services in sizes:
        emit("paged", measure(services, seconds, presses))


if __name__ == "__main__":
    main()
