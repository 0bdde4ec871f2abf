"""The table of issue 11 at N services: `python -m bench.scale [--sizes 100 1000 5000 10000] [--seconds 120]`.

For each N: the simulator (its own process, the demo's deploy rate) and the app (headless, its own process, 2 s
polls) — seconds from app start to the first full table painted, idle CPU (share of one core) over a window with
no keys, CPU per poll (that window's CPU divided by the polls in it), key→frame p95 (key event to the painted
frame showing the moved cursor), and RSS at the end of the run. With `--modes feed bulk` each N is measured with
the change feed and with bulk polling (the same-run baseline). One JSON line per N and mode, flushed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import SimProcess, emit, key_to_frame, median, p95, rss_mb, settings


async def measure(url: str, services: int, seconds: float, presses: int, mode: str, folder: Path) -> dict[str, Any]:
    from monotui.engine.core import Engine
    from monotui.ui.app import MonotuiApp

    t_start = time.perf_counter()
    engine = Engine(settings(url, folder=folder, poll_interval=2.0, timeout=30))
    if mode == "bulk":
        engine.providers["s0"].use_feed = False  # type: ignore[attr-defined]  # an HttpDeployProvider
    polls: list[float] = []
    apply_poll = engine.state.apply_poll

    def counted(source: str, result: Any, *compared: Any) -> None:
        polls.append(time.perf_counter())
        apply_poll(source, result, *compared)

    engine.state.apply_poll = counted  # type: ignore[method-assign]
    errors: list[str] = []
    apply_error = engine.state.apply_error

    def failed(source: str, message: str, *args: Any) -> None:
        errors.append(message)  # a failed poll turns every row stale, and back: a full repaint each way
        apply_error(source, message, *args)

    engine.state.apply_error = failed  # type: ignore[method-assign]
    app = MonotuiApp(engine)
    async with app.run_test(size=(160, 50)) as pilot:
        while app.rollouts.table.row_count < services:
            if time.perf_counter() - t_start > 300:
                raise TimeoutError(f"{app.rollouts.table.row_count} of {services} rows after 300 s")
            await asyncio.sleep(0.005)
        await pilot.pause()  # the frame that shows them
        first_table = time.perf_counter() - t_start
        await asyncio.sleep(4)  # first polls and relayouts are not idle
        window = max(4.0, seconds - 4 - first_table - presses * 0.1)
        c0, w0, p0 = time.process_time(), time.perf_counter(), len(polls)
        await asyncio.sleep(window)
        idle_cpu = (time.process_time() - c0) / (time.perf_counter() - w0)
        n_polls = len(polls) - p0
        cpu_per_poll = (time.process_time() - c0) / n_polls if n_polls else None
        latencies = await key_to_frame(app, presses)
    return {"first_full_table_s": round(first_table, 3), "idle_cpu_fraction": round(idle_cpu, 4),
            "idle_window_s": round(window, 1), "polls_in_window": n_polls,
            "cpu_per_poll_s": round(cpu_per_poll, 4) if cpu_per_poll is not None else None,
            "key_to_frame_ms_median": round(median(latencies) * 1000, 1),
            "key_to_frame_ms_p95": round(p95(latencies) * 1000, 1),
            "rss_mb": round(rss_mb(), 1), "rss_after_s": round(time.perf_counter() - t_start, 1),
            "failed_polls": len(errors), "first_failure": errors[0][:200] if errors else None}


def child(url: str, services: int, seconds: float, presses: int, mode: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = asyncio.run(measure(url, services, seconds, presses, mode, Path(tmp)))
    print(json.dumps(out), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000, 10000])
    parser.add_argument("--seconds", type=float, default=120.0, help="run length per N and mode (RSS is read "
                                                                      "at its end; default 120)")
    parser.add_argument("--presses", type=int, default=60, help="keys for key→frame (default 60)")
    parser.add_argument("--modes", nargs="+", default=["feed", "bulk"], choices=["feed", "bulk"])
    parser.add_argument("--child", nargs=2, metavar=("URL", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="feed", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.seconds, args.presses, args.mode)
        return
    for n in args.sizes:
        for mode in args.modes:
            with SimProcess(n) as sim:
                run = subprocess.run([sys.executable, "-m", "bench.scale", "--child", sim.url, str(n), "--mode", mode,
                                      "--seconds", str(args.seconds), "--presses", str(args.presses)],
                                     capture_output=True, text=True)
                sim_cpu = sim.cpu()
            if run.returncode != 0:
                emit("scale", {"services": n, "mode": mode, "error": run.stderr.strip().splitlines()[-1:]})
                continue
            emit("scale", {"services": n, "mode": mode, **json.loads(run.stdout.strip().splitlines()[-1]),
                           "simulator_cpu_s": round(sim_cpu, 1)})


if __name__ == "__main__":
    main()
