"""Bytes and client CPU of one refresh when 1% of N rollouts changed: through the change feed, against a full
relist and against the bulk polls of a client without the feed (gzip and uncompressed), in the same run.

    python -m bench.feed [--services 5000] [--repeat 7] [--smoke]

The simulator runs in its own process with no deploys of its own (health still moves every tick); each round
starts a deploy of 1% of the services (`POST /_sim/deploy`), then measures one refresh of each kind. Bytes are the
response bodies the server sent (its /_sim/stats, as they went on the wire); CPU is the client's own process time
for the poll (requests, decompression, parsing). Medians over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench.common import SimProcess, emit, median, settings, smoke
from monotui.providers.http_deploy import HttpDeployProvider


class _Uncompressed(httpx.AsyncBaseTransport):
    """Asks for every answer uncompressed, as a client before compression did."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["Accept-Encoding"] = "identity"
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def _measure(sim: SimProcess, config: Any, repeat: int) -> dict[str, Any]:
    feed = HttpDeployProvider(config)
    bulk = HttpDeployProvider(config)
    bulk.use_feed = False
    plain = HttpDeployProvider(config, transport=_Uncompressed())
    plain.use_feed = False
    clients = (feed, bulk, plain)
    first = await feed.poll()
    names = [r.id for r in first.rollouts or []]
    changed = max(1, len(names) // 100)
    for client in clients[1:]:
        await client.poll()

    async def refresh(poll: Callable[[], Awaitable[Any]]) -> tuple[int, float, int]:
        before = sim.stats()["bytes"]
        c0 = time.process_time()
        result = await poll()
        cpu = time.process_time() - c0
        return sim.stats()["bytes"] - before, cpu, len(result.rollouts or [])

    async def relist() -> Any:
        feed.forget_etag()
        return await feed.poll()

    rows: dict[str, list[tuple[int, float, int]]] = {"feed_changes": [], "feed_full_relist": [],
                                                     "bulk_gzip": [], "bulk_uncompressed": []}
    for r in range(repeat):
        await asyncio.to_thread(sim.post, "/_sim/deploy",
                                {"services": names[r * changed % len(names):][:changed]})
        rows["feed_changes"].append(await refresh(feed.poll))
        rows["bulk_gzip"].append(await refresh(bulk.poll))
        rows["bulk_uncompressed"].append(await refresh(plain.poll))
        rows["feed_full_relist"].append(await refresh(relist))
    for client in clients:
        await client.aclose()
    out: dict[str, Any] = {"services": len(names), "changed_per_round": changed, "rounds": repeat}
    for name, samples in rows.items():
        out[name] = {"bytes": int(median([s[0] for s in samples])),
                     "client_cpu_ms": round(median([s[1] for s in samples]) * 1000, 2),
                     "rollouts_received": int(median([s[2] for s in samples]))}
    delta = out["feed_changes"]
    for name in ("feed_full_relist", "bulk_gzip", "bulk_uncompressed"):
        out[f"{name}_vs_changes"] = {"bytes_x": round(out[name]["bytes"] / max(1, delta["bytes"]), 1),
                                     "cpu_x": round(out[name]["client_cpu_ms"] / max(0.01, delta["client_cpu_ms"]), 1)}
    return out


def change_feed(services: int, repeat: int) -> dict[str, Any]:
    with SimProcess(services, deploy_interval=0) as sim, tempfile.TemporaryDirectory() as tmp:
        config = settings(sim.url, folder=Path(tmp), timeout=60).sources[0]
        return asyncio.run(_measure(sim, config, repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds (MONOTUI_BENCH_SMOKE=1)")
    args = parser.parse_args()
    if smoke(args):
        args.services, args.repeat = 200, 1
    emit("change_feed", change_feed(args.services, args.repeat))


if __name__ == "__main__":
    main()
