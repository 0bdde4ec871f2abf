"""Many viewers of one production: C clients poll one simulator with S services every 2 s for T seconds; the
server's requests/s, bytes/s and CPU, for each way of polling, in the same run.

    python -m bench.viewers [--clients 50] [--services 5000] [--seconds 60] [--modes feed bulk uncompressed] [--smoke]

Modes: `feed` polls the change feed (what monotui does), `bulk` the whole lists with ETag, gzip-compressed (a
client without the feed), `uncompressed` the whole lists without compression (a client without feed or
compression). The simulator runs in its own process at the demo's deploy rate. The clients speak the protocol
(cursors, ETag, events since) but do not decode the rollouts — the server is what is measured — and start spread
over one poll interval, as independent people would.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import httpx

from bench.common import SimProcess, emit, smoke

INTERVAL = 2.0


class Viewer:
    def __init__(self, url: str, mode: str) -> None:
        encoding = {"Accept-Encoding": "identity"} if mode == "uncompressed" else {}
        self.http = httpx.AsyncClient(base_url=url, timeout=60, headers=encoding)
        self.mode = mode
        self.etag: str | None = None
        self.cursors: dict[str, str | None] = {"rollouts": None, "health": None}
        self.events = 0
        self.errors = 0
        self.polls = 0

    async def _changes(self, what: str) -> None:
        cursor = self.cursors[what]
        response = await self.http.get(f"/v1/changes/{what}", params={"since": cursor} if cursor else None)
        if response.status_code == 410:
            response = await self.http.get(f"/v1/changes/{what}")
        response.raise_for_status()
        self.cursors[what] = json.loads(response.content)["cursor"]

    async def _rollouts(self) -> None:
        response = await self.http.get("/v1/rollouts", headers={"If-None-Match": self.etag} if self.etag else None)
        if response.status_code != 304:
            response.raise_for_status()
        self.etag = response.headers.get("etag", self.etag)

    async def _health(self) -> None:
        (await self.http.get("/v1/health")).raise_for_status()

    async def _events(self) -> None:
        response = await self.http.get("/v1/events", params={"since": self.events})
        response.raise_for_status()
        self.events = json.loads(response.content)["cursor"]

    async def poll(self) -> None:
        if self.mode == "feed":
            parts = (self._changes("rollouts"), self._changes("health"), self._events())
        else:
            parts = (self._rollouts(), self._health(), self._events())
        try:
            await asyncio.gather(*parts)
        except httpx.HTTPError:
            self.errors += 1
        self.polls += 1

    async def run(self, start_in: float) -> None:
        """Poll every INTERVAL until cancelled."""
        await asyncio.sleep(start_in)
        while True:
            t0 = time.monotonic()
            await self.poll()
            await asyncio.sleep(max(0.0, INTERVAL - (time.monotonic() - t0)))


async def _run(sim: SimProcess, clients: int, seconds: float, mode: str) -> dict[str, Any]:
    viewers = [Viewer(sim.url, mode) for _ in range(clients)]
    tasks = [asyncio.create_task(v.run(INTERVAL * i / clients)) for i, v in enumerate(viewers)]
    while not all(v.polls for v in viewers):  # every viewer's first (full) poll is done before the window opens
        await asyncio.sleep(0.1)
    await asyncio.sleep(INTERVAL)
    stats0, cpu0, t0 = await asyncio.to_thread(sim.stats), sim.cpu(), time.monotonic()
    await asyncio.sleep(seconds)
    stats1, cpu1, t1 = await asyncio.to_thread(sim.stats), sim.cpu(), time.monotonic()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for v in viewers:
        await v.http.aclose()
    elapsed = t1 - t0
    return {"requests_per_s": round((stats1["requests"] - stats0["requests"]) / elapsed, 1),
            "bytes_per_s": round((stats1["bytes"] - stats0["bytes"]) / elapsed),
            "server_cpu_fraction": round((cpu1 - cpu0) / elapsed, 3),
            "failed_polls": sum(v.errors for v in viewers)}


def viewers(clients: int, services: int, seconds: float, modes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"clients": clients, "services": services, "seconds": seconds,
                           "poll_interval_s": INTERVAL}
    for mode in modes:
        with SimProcess(services) as sim:
            out[mode] = asyncio.run(_run(sim, clients, seconds, mode))
    if "feed" in out:
        for mode in modes:
            if mode != "feed":
                out[f"{mode}_vs_feed_bytes_x"] = round(out[mode]["bytes_per_s"] / max(1, out["feed"]["bytes_per_s"]),
                                                       1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--services", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--modes", nargs="+", default=["feed", "bulk", "uncompressed"],
                        choices=["feed", "bulk", "uncompressed"])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds (MONOTUI_BENCH_SMOKE=1)")
    args = parser.parse_args()
    if smoke(args):
        args.clients, args.services, args.seconds = 2, 50, 1.0
    emit("viewers", viewers(args.clients, args.services, args.seconds, args.modes))


if __name__ == "__main__":
    main()
