"""A server that answers every page of a listing with new items and a new continue token, forever, is an error after
at most `MAX_ITEMS` items (providers/paging.py), not a listing that grows the state — and memory — until the
page bound, thousands of pages later: the source shows the error and what was applied stays bounded."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from monotui.engine.core import Engine
from monotui.providers import paging
from monotui.simulator.server import SimulatorServer

from .conftest import make_world
from .hostile import HostileServer


@pytest.fixture(scope="module")
def feed_page() -> dict[str, Any]:
    with SimulatorServer(make_world(services=3), tick_interval=None) as sim:
        return {path: httpx.get(sim.url + path).json() for path in ("/v1/changes/rollouts", "/v1/changes/health")}


def endless(page: dict[str, Any], key: str, name: str) -> Callable[[Request], Response]:
    """Every answer a full page of items never listed before, and a continue token never sent before."""
    count = {"n": 0}
    template = page[key][0]

    def answer(request: Request) -> Response:
        count["n"] += 1
        n = count["n"]
        limit = int(request.query_params.get("limit") or 1000)
        items = [{**template, name: f"svc-{n}-{i}", **({"id": f"svc-{n}-{i}"} if key == "rollouts" else {})}
                 for i in range(min(limit, 1000))]
        return Response(json.dumps({**page, key: items, "continue": f"page-{n}"}).encode(),
                        media_type="application/json")

    return answer


@pytest.mark.parametrize("feed", ["rollouts", "health"])
async def test_a_listing_of_new_items_forever_is_an_error_after_max_items(
        feed: str, feed_page: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
        engine_for: Callable[..., Engine]) -> None:
    monkeypatch.setattr(paging, "MAX_ITEMS", 5_000)
    rollouts, health = feed_page["/v1/changes/rollouts"], feed_page["/v1/changes/health"]
    routes = {
        "/v1/changes/rollouts": endless(rollouts, "rollouts", "service") if feed == "rollouts" else
        (lambda request: Response(json.dumps(rollouts).encode(), media_type="application/json")),
        "/v1/changes/health": endless(health, "services", "service") if feed == "health" else
        (lambda request: Response(json.dumps(health).encode(), media_type="application/json")),
        "/v1/events": lambda request: Response(b'{"events": [], "cursor": 0}', media_type="application/json"),
    }
    with HostileServer(routes) as server:  # type: ignore[arg-type]
        async with engine_for({"name": "prod", "kind": "http", "url": server.url, "poll_interval": 60}) as engine:
            [update] = await engine.refresh_once()
            assert not update.ok
            error = engine.state.status("prod").error or ""
            assert "more than 5,000 items in one listing" in error, error
            asked = [a for a in server.asked if a.path == f"/v1/changes/{feed}"]
            assert len(asked) <= 7  # 1,000 a page: stopped at the page that passed the bound
            assert len(list(engine.state.iter_rollouts())) <= 5_000
