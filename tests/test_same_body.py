"""A server without change feed or ETags re-sending the same big list at every poll (keys keep answering
while a hostile source is fed): an identical body is not decoded nor applied again, a changed one always
is — also when the poll that first fetched it failed."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from starlette.requests import Request
from starlette.responses import Response

from monotui.config import HttpSourceConfig
from monotui.engine.core import Engine
from monotui.providers.base import ProviderError
from monotui.providers.http_deploy import HttpDeployProvider

from .conftest import wait_until
from .hostile import HostileServer, json_answer
from .ui_helpers import cell, make_app, rows_loaded

HEALTH = json.dumps({"services": [{"service": "svc-0", "error_ratio": 0.001, "p99_ms": 120, "rps": 10}]}).encode()
EVENTS = b'{"events": [], "cursor": 0}'


def rollouts_body(count: int, paused: str | None = None, unreadable: str | None = None) -> bytes:
    """`count` healthy rollouts (about 0.4 KB each: 2,000 go past the edge's worker-thread threshold), one of them
    paused if asked, one with a time without a zone (unreadable) if asked."""
    row = {"environment": "eu-west-1", "strategy": "canary", "phase": "Healthy", "revision": 7, "version": "v1.2.3",
           "image": "registry.example/app:v1.2.3", "commit": "0" * 40, "commit_message": "a change",
           "author": "dev@example", "started_at": "2026-11-26T09:00:00Z",
           "steps": [{"weight": 20}, {"pause": True}, {"weight": 50}], "current_step": 3, "set_weight": 100,
           "actual_weight": 100}
    rows = [{**row, "id": f"svc-{i}", "service": f"svc-{i}"} for i in range(count)]
    for r in rows:
        if r["id"] == paused:
            r.update(phase="Paused", current_step=1, set_weight=20, actual_weight=20)
        if r["id"] == unreadable:
            r.update(started_at="2026-11-26T09:00:00")
    return json.dumps({"rollouts": rows}).encode()


def no_etag_server(rollouts: bytes) -> HostileServer:
    """A deploy API with neither change feed (404) nor ETag: every poll gets the whole list."""
    return HostileServer({"/v1/rollouts": json_answer(rollouts), "/v1/health": json_answer(HEALTH),
                          "/v1/events": json_answer(EVENTS)})


def provider(url: str) -> HttpDeployProvider:
    return HttpDeployProvider(HttpSourceConfig(name="prod", kind="http", url=url, timeout=5.0))


async def test_an_identical_bulk_body_is_not_applied_again_and_a_changed_one_is() -> None:
    same = rollouts_body(2000)
    with no_etag_server(same) as server:
        client = provider(server.url)
        first = await client.poll()
        assert first.rollouts is not None and len(first.rollouts) == 2000
        assert [h.service for h in first.health] == ["svc-0"]
        again = await client.poll()
        assert again.rollouts is None, "the same list again: nothing to decode, nothing to apply"
        assert again.health == []
        server.routes["/v1/rollouts"] = json_answer(rollouts_body(2000, paused="svc-1234"))
        changed = await client.poll()
        assert changed.rollouts is not None and len(changed.rollouts) == 2000
        assert {r.id: r.phase.value for r in changed.rollouts}["svc-1234"] == "Paused"
        assert (await client.poll()).rollouts is None
        client.forget_etag()
        assert (await client.poll()).rollouts is not None, "after forget_etag everything is listed anew"
        assert sum(1 for a in server.asked if a.path == "/v1/rollouts") == 5, "each poll did ask"
        await client.aclose()


async def test_a_changed_body_fetched_by_a_failed_poll_is_applied_by_the_next() -> None:
    with no_etag_server(rollouts_body(2000)) as server:
        client = provider(server.url)
        await client.poll()
        # the list changes, but this poll fails (health answers 500): its rollouts never reach the state
        server.routes["/v1/rollouts"] = json_answer(rollouts_body(2000, paused="svc-7"))
        server.routes["/v1/health"] = json_answer(b'{"error": "boom", "message": "boom"}', status=500)
        with pytest.raises(ProviderError) as failed:
            await client.poll()
        assert failed.value.status == 500
        server.routes["/v1/health"] = json_answer(HEALTH)
        after = await client.poll()
        assert after.rollouts is not None, "the same body as the failed poll's is still news to the state"
        assert {r.id: r.phase.value for r in after.rollouts}["svc-7"] == "Paused"
        await client.aclose()


async def test_the_screen_shows_a_rollout_that_changed_in_an_otherwise_identical_list(
        engine_for: Callable[..., Engine]) -> None:
    bodies = {"now": rollouts_body(2000)}

    def rollouts(request: Request) -> Response:
        return Response(bodies["now"], media_type="application/json")

    with no_etag_server(b"") as server:
        server.routes["/v1/rollouts"] = rollouts
        app = make_app(engine_for(server.url))
        async with app.run_test(size=(160, 40)):
            await rows_loaded(app, 2000)
            assert cell(app, "prod/svc-1234", "status").endswith("Healthy")
            asked = len([a for a in server.asked if a.path == "/v1/rollouts"])
            # more polls of the very same list: the rows stay as they are
            await wait_until(lambda: len([a for a in server.asked if a.path == "/v1/rollouts"]) >= asked + 3,
                             timeout=30, what="three more polls")
            assert cell(app, "prod/svc-1234", "status").endswith("Healthy")
            bodies["now"] = rollouts_body(2000, paused="svc-1234")
            await wait_until(lambda: cell(app, "prod/svc-1234", "status").endswith("Paused"), timeout=30,
                             what="the paused rollout shown")
            assert app.rollouts.table.row_count == 2000


async def test_a_bulk_list_decodes_only_the_rollouts_that_changed() -> None:
    first_body = rollouts_body(2000, unreadable="svc-3")
    with no_etag_server(first_body) as server:
        client = provider(server.url)
        first = await client.poll()
        server.routes["/v1/rollouts"] = json_answer(rollouts_body(2000, paused="svc-5", unreadable="svc-3"))
        second = await client.poll()
        await client.aclose()
    assert first.rollouts is not None and second.rollouts is not None
    before = {r.id: r for r in first.rollouts}
    after = {r.id: r for r in second.rollouts}
    assert after.keys() == before.keys() and len(after) == 2000
    assert after["svc-5"].phase.value == "Paused"
    assert all(after[i] is before[i] for i in after if i not in ("svc-5", "svc-3")), \
        "an unchanged rollout is the model read last time, not a new one"
    assert after["svc-3"].version == "? started_at", "an unreadable item is one row saying which field, each time"
    assert after["svc-3"].started_at == before["svc-3"].started_at, "since when it is unreadable"
