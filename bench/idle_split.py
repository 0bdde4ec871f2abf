"""Where the app's idle CPU goes at 200 services (figure 3's setting: simulator in its own process, 2 s polls,
deploys every ~5 s): the CPU of painting frames, of screen relayouts, of `refresh_views`, and the rest (HTTP,
decoding, the engine, Textual's messages), with the number of frames, relayouts and table repaints.

    python -m bench.idle_split [--seconds 40] [--no-poll] [--smoke]

Timers wrap the app's and Textual's own methods (process time, no profiler), so the split costs little itself."""

from __future__ import annotations

import argparse
import asyncio
import functools
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import SimProcess, emit, settings, smoke
from monotui.compat.textual import wrap_screen_paints
from monotui.engine.core import Engine
from monotui.ui.app import MonotuiApp
from monotui.ui.screens.rollouts import RolloutsScreen

spent: Counter[str] = Counter()
calls: Counter[str] = Counter()
within: list[str] = []  # the timed calls under way (a relayout paints at its end: that paint is the relayout's)


def timed(owner: Any, name: str, label: str) -> None:
    setattr(owner, name, timing(getattr(owner, name), label))


def timing(original: Callable[..., Any], label: str) -> Callable[..., Any]:
    """`original`, its process time added to `spent[label]` (a timed call inside another counts for the outer one)."""

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        nested = bool(within)
        within.append(label)
        try:
            return original(*args, **kwargs)
        finally:
            within.pop()
            if not nested:
                spent[label] += time.process_time() - start
            calls[label] += 1

    return wrapper


def split(seconds: float, poll: bool) -> dict[str, Any]:
    wrap_screen_paints(timing)  # "paint" and "relayout" (its own paint included)
    timed(RolloutsScreen, "refresh_views", "refresh_views")
    with SimProcess(200) as sim, tempfile.TemporaryDirectory() as tmp:
        engine = Engine(settings(sim.url, folder=Path(tmp), poll_interval=2.0))

        async def go() -> dict[str, Any]:
            app = MonotuiApp(engine, poll=poll)
            async with app.run_test(size=(160, 50)) as pilot:
                if not poll:
                    await engine.refresh_once()
                    app.rollouts.refresh_views()
                await pilot.pause(3)  # first poll and first paint are not idle
                spent.clear()
                calls.clear()
                # getattr: the script also runs on older checkouts
                repaints = getattr(app.rollouts.table, "repaints", 0)
                c0, t0 = time.process_time(), time.perf_counter()
                await asyncio.sleep(seconds)
                cpu, wall = time.process_time() - c0, time.perf_counter() - t0
                timed_s = spent["paint"] + spent["relayout"] + spent["refresh_views"]
                return {
                    "polling": poll, "seconds": round(wall, 1), "cpu_fraction": round(cpu / wall, 4),
                    "cpu_s": round(cpu, 3),
                    "paint_s": round(spent["paint"], 3), "relayout_s": round(spent["relayout"], 3),
                    "refresh_views_s": round(spent["refresh_views"], 3), "rest_s": round(cpu - timed_s, 3),
                    "frames": calls["paint"], "relayouts": calls["relayout"],
                    "refresh_views_calls": calls["refresh_views"],
                    "table_repaints": getattr(app.rollouts.table, "repaints", 0) - repaints,
                }

        return asyncio.run(go())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--no-poll", action="store_true", help="the same app with its polls stopped")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds (MONOTUI_BENCH_SMOKE=1)")
    args = parser.parse_args()
    if smoke(args):
        args.seconds = 2.0
    emit("idle_split", split(args.seconds, not args.no_poll))


if __name__ == "__main__":
    main()
