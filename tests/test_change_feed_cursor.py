"""The deploy API's change feed never stalls, repeats or hides: a cursor too long to send back is
not kept (everything is listed again), a repeated error on a cursor is backed off from and then answered by
listing again, a negative event cursor is refused (no event comes twice), and two items under one id are both
shown, as a conflict, until the API lists the id once."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from monotui.action_kinds import ActionKind
from monotui.config import HttpSourceConfig
from monotui.engine.core import Engine
from monotui.providers.base import Pin, ProviderError
from monotui.providers.http_deploy import HttpDeployProvider
from monotui.simulator.server import SimulatorServer

from .conftest import make_world
from .hostile import HostileServer


@pytest.fixture(scope="module")
def feed() -> dict[str, Any]:
    """The simulator's full change-feed answers and its events: what the servers below alter."""
    with SimulatorServer(make_world(), tick_interval=None) as sim:
        return {path: httpx.get(sim.url + path).json()
                for path in ("/v1/changes/rollouts", "/v1/changes/health", "/v1/events")}


def respond(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body).encode(), status_code=status, media_type="application/json")


class FeedServer(HostileServer):
    """A deploy API with the change feed: `rollouts(request)` and `events(request)` answer as each test says;
    health is the simulator's, full each time."""

    def __init__(self, feed: dict[str, Any], rollouts: Callable[[Request], Response],
                 events: Callable[[Request], Response] | None = None) -> None:
        super().__init__({
            "/v1/changes/rollouts": rollouts,
            "/v1/changes/health": lambda request: respond(feed["/v1/changes/health"]),
            "/v1/events": events or (lambda request: respond({"events": [], "cursor": 0})),
        })

    def sinces(self, path: str) -> list[str | None]:
        from urllib.parse import parse_qs

        return [parse_qs(a.query).get("since", [None])[0] for a in self.asked if a.path == path]


def provider_for(url: str) -> HttpDeployProvider:
    return HttpDeployProvider(HttpSourceConfig(name="prod", kind="http", url=url, timeout=5.0))


async def test_a_cursor_too_long_to_send_back_is_not_kept(feed: dict[str, Any]) -> None:
    huge = "c" * (70 * 1024)
    with FeedServer(feed, lambda request: respond({**feed["/v1/changes/rollouts"], "cursor": huge})) as server:
        provider = provider_for(server.url)
        try:
            for _ in range(3):
                result = await provider.poll()
                assert result.rollouts and not result.partial
        finally:
            await provider.aclose()
        sent = server.sinces("/v1/changes/rollouts")
    assert sent == [None, None, None], "the 70 KB cursor was sent back"


async def test_a_repeated_error_on_a_cursor_is_backed_off_from_then_everything_is_listed(
        feed: dict[str, Any]) -> None:
    def rollouts(request: Request) -> Response:
        if "since" in request.query_params:  # the server lost its change log: every cursor fails
            return respond({"error": "internal", "message": "change log unavailable"}, status=500)
        return respond(feed["/v1/changes/rollouts"])

    with FeedServer(feed, rollouts) as server:
        provider = provider_for(server.url)
        try:
            await provider.poll()
            with pytest.raises(ProviderError) as first:  # the first failure: the engine backs off
                await provider.poll()
            assert first.value.status == 500
            result = await provider.poll()  # the same cursor fails again: listed anew, the source lives
            assert result.rollouts and not result.partial and result.requests == 4
        finally:
            await provider.aclose()


async def test_a_negative_event_cursor_is_refused_and_no_event_comes_twice(feed: dict[str, Any]) -> None:
    listed = feed["/v1/events"]["events"][:3]
    assert len(listed) == 3
    last = listed[-1]["id"]

    def events(request: Request) -> Response:
        since = int(request.query_params.get("since", "0"))
        if since == 0:
            return respond({"events": listed, "cursor": last})
        return respond({"events": [], "cursor": -1})

    with FeedServer(feed, lambda request: respond(feed["/v1/changes/rollouts"]), events) as server:
        provider = provider_for(server.url)
        seen: list[int] = []
        try:
            for _ in range(4):
                seen += [e.id for e in (await provider.poll()).events]
        finally:
            await provider.aclose()
    assert seen == [e["id"] for e in listed], "events came twice after a cursor of -1"


async def test_two_items_under_one_id_are_both_shown_as_a_conflict(
        feed: dict[str, Any], engine_for: Callable[..., Engine]) -> None:
    full = feed["/v1/changes/rollouts"]
    [cart] = [r for r in full["rollouts"] if r["id"] == "cart-api"]
    impostor = {**cart, "service": "search-api", "version": "v9.9.9"}
    answers = [{**full, "cursor": "a.1", "rollouts": [*full["rollouts"], impostor]},
               {"cursor": "a.2", "full": False, "rollouts": [cart], "removed": []}]

    def rollouts(request: Request) -> Response:
        return respond(answers[0] if "since" not in request.query_params else answers[1])

    with FeedServer(feed, rollouts) as server:
        source = {"name": "prod", "kind": "http", "url": server.url, "poll_interval": 60}
        async with engine_for(source) as engine:
            await engine.refresh_once()
            views = engine.state.views()
            cart_rows = [v.rollout for v in views if v.rollout.id.startswith("cart-api")]
            assert sorted(r.version for r in cart_rows) == sorted([cart["version"], "v9.9.9"]), \
                "one item of the duplicate id hid the other"
            assert all("conflict: the API lists id cart-api 2 times" in r.message for r in cart_rows)
            assert len(views) == len(full["rollouts"]) + 1
            # neither can be acted on: the id alone cannot say which one the API would act on
            provider = engine.providers["prod"]
            assert isinstance(provider, HttpDeployProvider)
            with pytest.raises(ProviderError) as refused:
                await provider.act(cart_rows[0], ActionKind.PAUSE, actor="alice", reason=None, revision=None,
                                   idempotency_key="k1", pin=Pin.of(cart_rows[0]))
            assert refused.value.refused and not [a for a in server.asked if a.method == "POST"]
            # the API lists the id once again: one plain row, no conflict
            await engine.refresh_once()
            cart_rows = [v.rollout for v in engine.state.views() if v.rollout.id.startswith("cart-api")]
            assert [(r.id, r.version) for r in cart_rows] == [("cart-api", cart["version"])]
            assert not cart_rows[0].errors


async def test_a_repeated_error_on_the_event_cursor_lists_the_events_again_without_repeats(
        feed: dict[str, Any]) -> None:
    listed = feed["/v1/events"]["events"][:4]
    state = {"known": 2}  # the server's event log holds the first two, then all four

    def events(request: Request) -> Response:
        if "since" in request.query_params and request.query_params["since"] != "0":
            return respond({"error": "bad_request", "message": "unknown cursor"}, status=400)
        shown = listed[:state["known"]]
        return respond({"events": shown, "cursor": shown[-1]["id"]})

    with FeedServer(feed, lambda request: respond(feed["/v1/changes/rollouts"]), events) as server:
        provider = provider_for(server.url)
        seen: list[int] = []
        try:
            seen += [e.id for e in (await provider.poll()).events]
            state["known"] = 4
            with pytest.raises(ProviderError):  # once: the engine backs off
                await provider.poll()
            seen += [e.id for e in (await provider.poll()).events]  # twice: listed again
        finally:
            await provider.aclose()
    assert seen == [e["id"] for e in listed], "an event was lost or came twice"
