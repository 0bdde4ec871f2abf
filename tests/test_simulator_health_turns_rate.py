"""A production past HEALTH_SAMPLES_PER_TICK services samples its health in turns: its request counters (what a
Prometheus scraping /metrics computes the rps from) still grow at the rps it reports, and its health series'
interval is the time between two of its points."""

from __future__ import annotations

import re

import httpx

from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import HEALTH_SAMPLES_PER_TICK, SimConfig, World

from .conftest import START

COUNTER = re.compile(r'^http_requests_total\{service="([^"]+)",code="\d+"\} ([0-9.]+)$', re.M)


def served(client: httpx.Client) -> dict[str, float]:
    text = client.get("/metrics").raise_for_status().text
    out: dict[str, float] = {}
    for service, count in COUNTER.findall(text):
        out[service] = out.get(service, 0.0) + float(count)
    return out


def test_one_service_past_the_turns_serves_at_the_rate_it_reports() -> None:
    world = World(SimConfig(services=HEALTH_SAMPLES_PER_TICK + 1, seed=1, deploy_interval=0), start=START)
    ticks = 10
    with SimulatorServer(world, tick_interval=None) as sim, httpx.Client(base_url=sim.url, timeout=60) as client:
        before = served(client)
        points = {h.service: len(h.series.error_ratio) for h in world.health()}
        for _ in range(ticks):
            client.post("/_sim/advance").raise_for_status()
        after = served(client)
        health = world.health()
    seconds = ticks * world.config.tick
    expected = sum(svc.base_rps for svc in world.services.values()) * seconds  # rps is base_rps ±10% noise
    ratio = sum(after[s] - before[s] for s in after) / expected
    assert 0.85 < ratio < 1.15, f"the counters grew {ratio:.2f}x the requests served in {seconds:g}s"
    # the series' points come every interval_s: as many in `seconds` as the interval says
    new = [len(h.series.error_ratio) - points[h.service] for h in health]
    interval = health[0].series.interval_s
    assert max(new) * interval <= seconds + interval, \
        f"{max(new)} points in {seconds:g}s, yet the series says one every {interval:g}s"
