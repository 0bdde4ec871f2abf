"""Paged lists (`limit` + `continue`, docs/deploy-api.md "Paged lists"): the simulator lists every item exactly
once across the pages of a listing, from a snapshot even when items change meanwhile, and answers an expired
continue token with 410; the client reads every full list in bounded pages, applies the change feed's pages as
they come, lists again after a 410, and shows an error (it does not hang) when a server loops its continue tokens
or never stops paging. `max_response_mb` bounds one page; a server that does not page and sends more than that
says so, with the remedy."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from monotui.engine.core import Engine
from monotui.engine.polling import poll_pages
from monotui.providers import paging
from monotui.simulator.server import SimulatorServer

from .conftest import make_world
from .hostile import HostileServer

LISTS = {"/v1/rollouts": "rollouts", "/v1/health": "services", "/v1/changes/rollouts": "rollouts",
         "/v1/changes/health": "services"}


def listing(url: str, path: str, limit: int, **params: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every page of one listing (the items, the pages' envelopes)."""
    items: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    token = None
    while True:
        query: dict[str, Any] = {"limit": limit, **params}
        if token:
            query["continue"] = token
        answer = httpx.get(url + path, params=query)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        pages.append(page)
        items += page[LISTS[path]]
        token = page.get("continue")
        if not token:
            return items, pages
        assert len(page[LISTS[path]]) == limit


@pytest.mark.parametrize("path", sorted(LISTS))
def test_every_item_comes_exactly_once_across_the_pages(path: str) -> None:
    with SimulatorServer(make_world(services=23), tick_interval=None) as sim:
        whole = httpx.get(sim.url + path).json()[LISTS[path]]
        items, pages = listing(sim.url, path, 5)
    key = "id" if LISTS[path] == "rollouts" else "service"
    assert len(pages) == 5  # 5 + 5 + 5 + 5 + 3
    assert [i[key] for i in items] == [i[key] for i in whole]
    assert len({i[key] for i in items}) == 23


def test_an_item_that_changes_midway_is_listed_as_it_was_and_comes_with_the_next_change() -> None:
    with SimulatorServer(make_world(services=12), tick_interval=None) as sim:
        first = httpx.get(sim.url + "/v1/changes/rollouts", params={"limit": 5}).json()
        listed = {r["id"]: r for r in first["rollouts"]}
        moving = next(r for r in httpx.get(sim.url + "/v1/rollouts").json()["rollouts"] if r["id"] not in listed)
        httpx.post(sim.url + "/_sim/deploy", json={"services": [moving["service"]]}).raise_for_status()
        token, cursor = first["continue"], first["cursor"]
        while token:
            page = httpx.get(sim.url + "/v1/changes/rollouts", params={"limit": 5, "continue": token}).json()
            assert page["cursor"] == cursor, "the pages of one listing carry the snapshot's cursor"
            listed.update({r["id"]: r for r in page["rollouts"]})
            token = page.get("continue")
        assert len(listed) == 12
        assert listed[moving["id"]]["revision"] == moving["revision"], "a page was not read from the snapshot"
        changed = httpx.get(sim.url + "/v1/changes/rollouts", params={"since": cursor}).json()
        assert [r["id"] for r in changed["rollouts"]] == [moving["id"]]
        assert changed["rollouts"][0]["revision"] == moving["revision"] + 1


def test_an_expired_continue_token_is_gone_and_a_garbage_one_too() -> None:
    with SimulatorServer(make_world(services=12), tick_interval=None) as sim:
        first = httpx.get(sim.url + "/v1/rollouts", params={"limit": 5}).json()
        sim.state.pager.forget()
        for token in (first["continue"], "not-a-token", first["continue"] + "x"):
            answer = httpx.get(sim.url + "/v1/rollouts", params={"limit": 5, "continue": token})
            assert answer.status_code == 410, answer.text
            assert "list again" in answer.json()["message"]
        assert httpx.get(sim.url + "/v1/rollouts", params={"limit": 0}).status_code == 400
        assert httpx.get(sim.url + "/v1/changes/rollouts", params={"since": "x.1", "limit": 5}).status_code == 400


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paging, "FIRST_PAGE", 4)
    monkeypatch.setattr(paging, "PAGE_SIZE", 6)


def limits_asked(server_log: list[Any], path: str) -> list[str | None]:
    from urllib.parse import parse_qs

    return [parse_qs(r.query).get("limit", [None])[0] for r in server_log if r.path == path]


async def test_the_first_list_comes_in_pages_each_applied_as_it_comes(
        small_pages: None, engine_for: Callable[..., Engine]) -> None:
    with SimulatorServer(make_world(services=20), tick_interval=None) as sim:
        source = {"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 60}
        async with engine_for(source) as engine:
            provider = engine.providers["prod"]
            shown: list[int] = []
            async for update in poll_pages(engine.state, provider, 10.0):  # type: ignore[arg-type]
                assert update.ok, update.error
                shown.append(len(engine.state.views()))
            assert shown[0] == 4, "the first page was not applied before the others came"
            assert shown == [4, 10, 16, 20, 20][:len(shown)] and shown[-1] == 20
            asked = limits_asked(list(sim.state.requests), "/v1/changes/rollouts")
            assert asked == ["4", "6", "6", "6"]
            # a rollout gone between two listings goes from the table when a listing in pages does not have it
            gone = sorted(sim.world.services)[7]
            with sim.world.lock:
                del sim.world.services[gone]
                sim.world.version += 1
            provider.forget_etag()
            await engine.refresh_once()
            ids = {v.rollout.id for v in engine.state.views()}
            assert gone not in ids and len(ids) == 19
            # later polls ask for what changed since the listing's cursor, in one request
            await engine.refresh_once()
            assert "since=" in [r for r in sim.state.requests if r.path == "/v1/changes/rollouts"][-1].query


async def test_an_expired_listing_is_listed_again(small_pages: None, engine_for: Callable[..., Engine]) -> None:
    with SimulatorServer(make_world(services=20), tick_interval=None) as sim:
        pager = sim.state.pager
        forget = pager.page
        calls = {"n": 0}

        def expiring(*args: Any, **kwargs: Any) -> Any:  # the snapshot is gone after the listing's second page
            calls["n"] += 1
            if calls["n"] == 3:
                pager.forget()
            return forget(*args, **kwargs)

        pager.page = expiring  # type: ignore[method-assign]
        source = {"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 60}
        async with engine_for(source) as engine:
            [update] = await engine.refresh_once()
            assert update.ok, update.error
            assert len(engine.state.views()) == 20
            statuses = [r.status for r in sim.state.requests if r.path == "/v1/changes/rollouts"]
            assert 410 in statuses and statuses[-1] == 200


def _hostile_rollouts(feed_page: dict[str, Any], token: Callable[[int], str]) -> Callable[[Request], Response]:
    count = {"n": 0}

    def answer(request: Request) -> Response:
        count["n"] += 1
        body = {**feed_page, "continue": token(count["n"])}
        return Response(json.dumps(body).encode(), media_type="application/json")

    return answer


@pytest.fixture(scope="module")
def feed_page() -> dict[str, Any]:
    with SimulatorServer(make_world(services=3), tick_interval=None) as sim:
        return {path: httpx.get(sim.url + path).json() for path in ("/v1/changes/rollouts", "/v1/changes/health")}


@pytest.mark.parametrize("case", ["loop", "endless"])
async def test_a_server_that_never_ends_its_listing_is_an_error_not_a_hang(
        case: str, feed_page: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
        engine_for: Callable[..., Engine]) -> None:
    monkeypatch.setattr(paging, "MAX_PAGES", 25)
    tokens: dict[str, Callable[[int], str]] = {"loop": lambda n: f"t{n % 3}", "endless": lambda n: f"page-{n}"}
    with HostileServer({
        "/v1/changes/rollouts": _hostile_rollouts(feed_page["/v1/changes/rollouts"], tokens[case]),
        "/v1/changes/health": lambda request: Response(json.dumps(feed_page["/v1/changes/health"]).encode(),
                                                        media_type="application/json"),
        "/v1/events": lambda request: Response(b'{"events": [], "cursor": 0}', media_type="application/json"),
    }) as server:
        source = {"name": "prod", "kind": "http", "url": server.url, "poll_interval": 60}
        async with engine_for(source) as engine:
            [update] = await engine.refresh_once()
            assert not update.ok
            error = engine.state.status("prod").error or ""
            expected = "a continue token it had sent before" if case == "loop" else "more than 25 pages"
            assert expected in error, error
            asked = [a for a in server.asked if a.path == "/v1/changes/rollouts"]
            assert len(asked) <= 25


async def test_max_response_mb_bounds_one_page_not_the_list(
        small_pages: None, engine_for: Callable[..., Engine]) -> None:
    with SimulatorServer(make_world(services=30), tick_interval=None) as sim:
        whole = httpx.get(sim.url + "/v1/changes/rollouts").content
        page = httpx.get(sim.url + "/v1/changes/rollouts", params={"limit": 6}).content
        cap_mb = (len(page) * 2) / 1024 / 1024
        assert len(whole) > cap_mb * 1024 * 1024 > len(page)
        source = {"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 60, "max_response_mb": cap_mb}
        async with engine_for(source) as engine:
            [update] = await engine.refresh_once()
            assert update.ok, update.error
            assert len(engine.state.views()) == 30


async def test_a_server_that_does_not_page_and_passes_the_cap_says_so_with_the_remedy(
        feed_page: dict[str, Any], engine_for: Callable[..., Engine]) -> None:
    big = json.dumps(feed_page["/v1/changes/rollouts"]).encode()
    with HostileServer({
        "/v1/changes/rollouts": lambda request: Response(big, media_type="application/json"),
        "/v1/changes/health": lambda request: Response(json.dumps(feed_page["/v1/changes/health"]).encode(),
                                                        media_type="application/json"),
        "/v1/events": lambda request: Response(b'{"events": [], "cursor": 0}', media_type="application/json"),
    }) as server:
        source = {"name": "prod", "kind": "http", "url": server.url, "poll_interval": 60,
                  "max_response_mb": len(big) / 2 / 1024 / 1024}
        async with engine_for(source) as engine:
            [update] = await engine.refresh_once()
            assert not update.ok
            error = engine.state.status("prod").error or ""
            assert "answer too large" in error and "does not page its lists" in error, error
            assert "raise this source's max_response_mb" in error
