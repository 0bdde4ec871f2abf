"""The Unleash flag source against a REAL Unleash 7.5 (on PostgreSQL, `monotui.simulator.unleash_server`) with N
flags, each with a strategy in production: the first poll (requests, seconds) with the strategies read in bulk
from the feature export, the polls after it, and in the same run two baselines: the first poll reading each
flag on its own (the export turned off), and the floor — the two reads any reader of the flags and their strategies
needs, done bare with httpx and `json.loads`: the project's listing and one export. Prints JSON.

    python -m bench.unleash_bulk [--flags 2000] [--polls 3] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time

import httpx

from bench.common import emit, smoke
from monotui.config import UnleashSourceConfig
from monotui.providers.unleash import EXPORT_PATH, UnleashProvider
from monotui.simulator.unleash_server import RealUnleash

ENV = "MONOTUI_BENCH_UNLEASH_TOKEN"


def seed(url: str, token: str, flags: int) -> None:
    """N flags in project `default`, each with a gradual rollout in production (half of them on), created through
    the Admin API eight at a time (Unleash's import refuses admin tokens)."""
    from concurrent.futures import ThreadPoolExecutor

    client = httpx.Client(base_url=f"{url}/api/admin/projects/default/features", headers={"Authorization": token},
                          timeout=120, limits=httpx.Limits(max_connections=8))

    def create(i: int) -> None:
        name = f"svc{i % 200}.flag{i}"
        client.post("", json={"name": name, "type": "release"}).raise_for_status()
        client.post(f"/{name}/environments/production/strategies", json={
            "name": "flexibleRollout", "constraints": [],
            "parameters": {"rollout": str(i % 101), "stickiness": "default", "groupId": name}}).raise_for_status()
        if i % 2 == 0:
            client.post(f"/{name}/environments/production/on").raise_for_status()

    with client, ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(flags)))


async def poll_figures(url: str, export: bool, polls: int) -> dict[str, object]:
    provider = UnleashProvider(UnleashSourceConfig(name="flags", kind="unleash", url=url, timeout=120,
                                                   token_env=ENV))
    if not export:
        provider._export = False  # as an Unleash without the export: every flag read on its own
    try:
        start = time.perf_counter()
        first = await provider.poll()
        first_s = time.perf_counter() - start
        later = []
        for _ in range(polls):
            t0 = time.perf_counter()
            result = await provider.poll()
            later.append((time.perf_counter() - t0, result.requests))
        return {"flags": len(provider.flags), "first_poll_s": round(first_s, 3), "first_poll_requests": first.requests,
                "later_poll_s_median": round(statistics.median(s for s, _ in later), 3) if later else None,
                "later_poll_requests_max": max((r for _, r in later), default=None)}
    finally:
        await provider.aclose()


def floor(url: str, token: str) -> tuple[float, int]:
    """The flags and their strategies, bare: the project's listing and one export; json.loads each."""
    t0 = time.perf_counter()
    with httpx.Client(base_url=url, headers={"Authorization": token}, timeout=120) as client:
        json.loads(client.get("/api/admin/projects/default/features").content)
        json.loads(client.post(EXPORT_PATH, json={"environment": "production", "project": "default"}).content)
    return time.perf_counter() - t0, 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flags", type=int, default=2000)
    parser.add_argument("--polls", type=int, default=3)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    flags, polls = (20, 1) if smoke(args) else (args.flags, args.polls)
    with RealUnleash() as unleash:
        os.environ[ENV] = unleash.admin_token
        seed(unleash.url, unleash.admin_token, flags)
        floor_s, floor_requests = floor(unleash.url, unleash.admin_token)
        bulk = asyncio.run(poll_figures(unleash.url, True, polls))
        one_by_one = asyncio.run(poll_figures(unleash.url, False, 0))
    emit("unleash_bulk", {"bulk": bulk, "one_by_one": one_by_one, "floor_s": round(floor_s, 3),
                          "floor_requests": floor_requests,
                          "ratio_first_poll_to_floor": round(float(bulk["first_poll_s"]) / floor_s, 2),  # type: ignore[arg-type]
                          "load_average": os.getloadavg()[0]})


if __name__ == "__main__":
    main()
