"""A huge (or hostile) production, and what a rollout costs in memory:
`python -m bench.huge [--rollouts 100000] [--memory 10000] [--presses 40] [--smoke]`.

`huge`: N rollouts in one source, applied in-process (no HTTP, so the figure is the app's own): the time to apply
them and paint the first table, how many rows the table shows (`max_rows`) and what the banner says, key→frame
while they are shown, RSS (the frozen world that made the rollouts lives in the same process). `memory`: Python's
traced bytes per rollout at N — the models, then the state's views and orders, then the app's table.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench.common import emit, key_to_frame, median, p95, rss_mb, settings, smoke
from bench.run import frozen_world


async def huge(n: int, presses: int) -> dict[str, Any]:
    from monotui.engine.core import Engine
    from monotui.providers.base import PollResult
    from monotui.ui.app import MonotuiApp

    world = frozen_world(n, initial_deploys=0)
    rollouts, health = world.rollouts(), world.health()
    engine = Engine(settings("http://127.0.0.1:9", folder=Path(tempfile.mkdtemp())))
    app = MonotuiApp(engine, poll=False)
    async with app.run_test(size=(160, 50)) as pilot:
        t0 = time.perf_counter()
        engine.state.apply_poll("s0", PollResult(rollouts=rollouts, health=health))
        app.rollouts.refresh_views()
        await pilot.pause()
        first = time.perf_counter() - t0
        await pilot.pause(1)
        latencies = await key_to_frame(app, presses)
        banner = app.rollouts.banner._shown.plain
        return {"rollouts": n, "apply_and_first_table_s": round(first, 2), "rows_shown": app.rollouts.table.row_count,
                "banner_says": banner[banner.find("showing"):banner.find("  data")] if "showing" in banner else None,
                "key_to_frame_ms_median": round(median(latencies) * 1000, 1),
                "key_to_frame_ms_p95": round(p95(latencies) * 1000, 1), "rss_mb_with_the_world": round(rss_mb())}


async def memory(n: int) -> dict[str, Any]:
    from monotui.engine.core import Engine
    from monotui.providers.base import PollResult
    from monotui.ui.app import MonotuiApp

    world = frozen_world(n, initial_deploys=0)
    tracemalloc.start()
    gc.collect()
    m0 = tracemalloc.get_traced_memory()[0]
    rollouts, health = world.rollouts(), world.health()
    gc.collect()
    m1 = tracemalloc.get_traced_memory()[0]
    engine = Engine(settings("http://127.0.0.1:9", folder=Path(tempfile.mkdtemp())))
    engine.state.apply_poll("s0", PollResult(rollouts=rollouts, health=health))
    engine.state.refresh()
    gc.collect()
    m2 = tracemalloc.get_traced_memory()[0]
    app = MonotuiApp(engine, poll=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause(0.5)
        gc.collect()
        m3 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return {"rollouts": n, "models_bytes_per_rollout": round((m1 - m0) / n),
            "state_views_and_order_bytes_per_rollout": round((m2 - m1) / n),
            "app_table_bytes_per_rollout": round((m3 - m2) / n)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rollouts", type=int, default=100_000)
    parser.add_argument("--memory", type=int, default=10_000, help="N for the bytes per rollout (0: skip)")
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds (MONOTUI_BENCH_SMOKE=1)")
    args = parser.parse_args()
    if smoke(args):
        args.rollouts, args.memory, args.presses = 300, 200, 4
    if args.memory:
        emit("memory_per_rollout", asyncio.run(memory(args.memory)))
    if args.rollouts:
        emit("huge_production", asyncio.run(huge(args.rollouts, args.presses)))


if __name__ == "__main__":
    main()
