"""`GET /v1/events?since=N&limit=M` (docs/deploy-api.md): when more than M events are newer than N, the simulator
answers the newest M, oldest first, and a cursor past every one of them."""

from __future__ import annotations

import httpx

from monotui.simulator.server import SimulatorServer

from .conftest import make_world


def test_a_limit_smaller_than_the_news_keeps_the_newest_and_the_cursor_passes_them_all() -> None:
    world = make_world(services=4, initial_deploys=0)
    for name in sorted(world.services):
        world.deploy(name)
    with SimulatorServer(world, tick_interval=None) as sim:
        every = httpx.get(f"{sim.url}/v1/events", params={"since": 0}).json()
        ids = [e["id"] for e in every["events"]]
        assert len(ids) >= 4 and ids == sorted(ids)
        page = httpx.get(f"{sim.url}/v1/events", params={"since": 0, "limit": 2}).json()
    assert [e["id"] for e in page["events"]] == ids[-2:]
    assert page["cursor"] == every["cursor"] >= ids[-1]
