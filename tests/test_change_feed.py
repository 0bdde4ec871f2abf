"""The deploy API's change feed and compression, against the simulator as a real HTTP server on 127.0.0.1: only
what changed travels after the first poll, a cursor the server no longer honours relists everything, a server
without the feed is polled in bulk, and answers are gzip-compressed when the client accepts it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import parse_qs

import httpx

from monotui.config import HttpSourceConfig
from monotui.engine.core import Engine
from monotui.models import Strategy
from monotui.providers.http_deploy import HttpDeployProvider
from monotui.simulator.server import SimulatorServer

from .conftest import make_world, wait_until
from .ui_helpers import cell, make_app, rows_loaded


def provider(url: str) -> HttpDeployProvider:
    return HttpDeployProvider(HttpSourceConfig(name="prod", kind="http", url=url, timeout=5.0))


def feed_requests(sim: SimulatorServer, what: str) -> list[tuple[int, str | None]]:
    """(status, since) of each request the server received on one change feed."""
    return [(r.status, parse_qs(r.query).get("since", [None])[0]) for r in sim.state.requests
            if r.path == f"/v1/changes/{what}"]


async def test_after_the_first_full_list_only_changed_rollouts_travel(sim: SimulatorServer) -> None:
    client = provider(sim.url)
    first = await client.poll()
    assert first.rollouts is not None and len(first.rollouts) == 8 and not first.partial
    assert len(first.health) == 8 and not first.health_partial
    quiet = await client.poll()
    assert quiet.partial and quiet.rollouts == [] and quiet.removed == []
    sim.world.deploy("cart-api", message="Ship the new cart")
    changed = await client.poll()
    assert changed.partial
    assert [(r.id, r.commit_message) for r in changed.rollouts or []] == [("cart-api", "Ship the new cart")]
    assert [e.service for e in changed.events] == ["cart-api"]
    statuses = feed_requests(sim, "rollouts")
    assert [s for s, _ in statuses] == [200, 200, 200]
    assert statuses[0][1] is None and all(since for _, since in statuses[1:])  # a cursor after the first
    await client.aclose()


async def test_a_cursor_too_old_for_the_server_relists_everything(sim: SimulatorServer) -> None:
    client = provider(sim.url)
    await client.poll()
    sim.state.feed_window = 2  # the server keeps only the last two changes
    for name in ("cart-api", "search-api", "auth-api"):
        sim.world.deploy(name)
    result = await client.poll()
    assert not result.partial, "a too-old cursor must give the full list, not a partial one"
    assert result.rollouts is not None and len(result.rollouts) == 8
    assert {r.id: r.revision for r in result.rollouts} == {r.id: r.revision for r in sim.world.rollouts()}
    statuses = feed_requests(sim, "rollouts")
    assert statuses[-2][0] == 410 and statuses[-2][1] is not None
    assert statuses[-1] == (200, None)
    sim.world.deploy("cart-api")
    after = await client.poll()  # the new cursor is honoured again
    assert after.partial and [r.id for r in after.rollouts or []] == ["cart-api"]
    await client.aclose()


def test_a_cursor_from_another_run_of_the_server_is_gone(sim: SimulatorServer) -> None:
    other = make_world()
    stale = other.rollout_changes.cursor(other.version)  # same version number, another server's life
    answer = httpx.get(f"{sim.url}/v1/changes/rollouts", params={"since": stale})
    assert answer.status_code == 410 and answer.json()["error"] == "gone"
    assert httpx.get(f"{sim.url}/v1/changes/health", params={"since": "garbage"}).status_code == 410
    assert httpx.get(f"{sim.url}/v1/changes/rollouts", params={"wait": "99"}).status_code == 400


async def test_health_sends_only_services_whose_figures_moved() -> None:
    with SimulatorServer(make_world(initial_deploys=0), tick_interval=None) as sim:
        client = provider(sim.url)
        await client.poll()
        for _ in range(10):
            sim.world.step()  # ±10% noise on every service: never beyond the step
        noise = await client.poll()
        assert noise.health_partial and noise.health == []
        sim.world.deploy("cart-api", bad=True, strategy=Strategy.CANARY)
        for _ in range(4):
            sim.world.step()  # the bad canary takes traffic: its error ratio jumps
        moved = await client.poll()
        assert moved.health_partial and [h.service for h in moved.health] == ["cart-api"]
        assert moved.health[0].error_ratio > 0.01
        await client.aclose()


async def test_long_poll_answers_when_a_change_arrives(sim: SimulatorServer) -> None:
    async with httpx.AsyncClient(base_url=sim.url, timeout=30) as http:
        cursor = (await http.get("/v1/changes/rollouts")).json()["cursor"]
        waiting = asyncio.create_task(http.get("/v1/changes/rollouts", params={"since": cursor, "wait": "20"}))
        await wait_until(lambda: any("wait=20" in r.query for r in sim.state.requests), what="long-poll arrives")
        assert not waiting.done()
        sim.world.deploy("cart-api")
        answer = await asyncio.wait_for(waiting, 10)
        assert [r["id"] for r in answer.json()["rollouts"]] == ["cart-api"]


async def test_compression_is_negotiated(sim: SimulatorServer) -> None:
    plain = httpx.get(f"{sim.url}/v1/rollouts", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    before = sim.state.served_bytes
    packed = httpx.get(f"{sim.url}/v1/rollouts", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip" and packed.headers["vary"] == "Accept-Encoding"
    assert packed.json() == plain.json()
    assert sim.state.served_bytes - before < len(plain.content) / 4
    # the client asks for it and reads it
    client = provider(sim.url)
    result = await client.poll()
    assert result.rollouts is not None and len(result.rollouts) == 8
    feed = [r for r in sim.state.requests if r.path == "/v1/changes/rollouts"][-1]
    assert "gzip" in feed.headers["accept-encoding"]
    await client.aclose()


async def test_a_deploy_reaches_the_screen_through_the_feed(sim: SimulatorServer,
                                                            engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for(sim.url))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app, 8)
        before = cell(app, "prod/cart-api", "version")
        sim.world.deploy("cart-api")
        new_version = sim.world.rollout("cart-api").version
        await wait_until(lambda: cell(app, "prod/cart-api", "version") == new_version, what="new version shown")
        await pilot.pause()
        assert before != new_version
    since = [since for _, since in feed_requests(sim, "rollouts")]
    assert since[0] is None and since[-1] is not None  # it came as a change, not as a relist


async def test_a_server_without_the_feed_still_shows_deploys(engine_for: Callable[..., Engine]) -> None:
    with SimulatorServer(make_world(), tick_interval=None, feed=False) as old:
        app = make_app(engine_for(old.url))
        async with app.run_test(size=(120, 35)) as pilot:
            await rows_loaded(app, 8)
            old.world.deploy("cart-api")
            new_version = old.world.rollout("cart-api").version
            await wait_until(lambda: cell(app, "prod/cart-api", "version") == new_version, what="new version")
            await pilot.pause()
        assert [r.status for r in old.state.requests if r.path.startswith("/v1/changes/")] == [404, 404]
        assert sum(r.path == "/v1/rollouts" for r in old.state.requests) >= 2


async def test_health_changes_merge_into_what_the_engine_knows(engine_for: Callable[..., Engine]) -> None:
    with SimulatorServer(make_world(initial_deploys=0), tick_interval=None) as sim:
        async with engine_for(sim.url) as engine:
            await engine.refresh_once()
            health = engine.state.sources["prod"].health
            assert len(health) == 8
            sim.world.deploy("cart-api", bad=True, strategy=Strategy.CANARY)
            for _ in range(40):  # 20 s: the bad canary reaches 25% of traffic, above the 5% error threshold
                sim.world.step()
            await engine.refresh_once()
            health = engine.state.sources["prod"].health
            assert len(health) == 8, "a partial health answer must not drop the services it leaves out"
            assert health["cart-api"].error_ratio > 0.05
            assert "cart-api" in engine.state.breach_since  # the moved figure still counts as a breach
