"""The Unleash flag source reading many flags from the simulator's Unleash Admin API: the first poll (every flag,
then their strategies from the feature export) and the polls after it (the flag search, 100 flags a page, the
potentially-stale search and the events), in seconds and requests. Prints JSON.

    python -m bench.unleash_poll [--flags 2000] [--polls 5] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bench.common import emit, smoke
from monotui.config import UnleashSourceConfig
from monotui.providers.unleash import UnleashProvider
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import SimConfig, World


async def measure(url: str, polls: int) -> dict[str, object]:
    provider = UnleashProvider(UnleashSourceConfig(name="flags", kind="unleash", url=url, timeout=60))
    try:
        start = time.perf_counter()
        first = await provider.poll()
        first_s = time.perf_counter() - start
        flags = len(provider.flags)
        later = []
        for _ in range(polls):
            start = time.perf_counter()
            result = await provider.poll()
            later.append((time.perf_counter() - start, result.requests))
    finally:
        await provider.aclose()
    return {"flags": flags, "first_poll_s": round(first_s, 3), "first_poll_requests": first.requests,
            "later_poll_s_median": round(statistics.median(s for s, _ in later), 3),
            "later_poll_requests": max(r for _, r in later)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flags", type=int, default=2000)
    parser.add_argument("--polls", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds (MONOTUI_BENCH_SMOKE=1)")
    args = parser.parse_args()
    if smoke(args):
        args.flags, args.polls = 20, 2
    world = World(SimConfig(services=args.flags, seed=1, deploy_interval=0, flag_share=1.0))
    with SimulatorServer(world, tick_interval=None) as sim:
        emit("unleash_poll", asyncio.run(measure(sim.url, args.polls)))


if __name__ == "__main__":
    main()
