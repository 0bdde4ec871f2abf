"""Polls against a server without change feed or ETags: the list is the truth again after an action's answer,
and two polls of one source take turns so an older list is never applied last."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from monotui.action_kinds import ActionKind
from monotui.engine.core import Engine
from monotui.models import Phase

from .hostile import json_answer
from .test_same_body import no_etag_server, rollouts_body


def _paused_answer(rollout_id: str) -> bytes:
    """An action's answer saying the rollout is paused (what the list will never say)."""
    row = json.loads(rollouts_body(3, paused=rollout_id))["rollouts"]
    return json.dumps({"rollout": next(r for r in row if r["id"] == rollout_id)}).encode()


async def test_an_action_answer_the_unchanged_list_contradicts_is_corrected_by_the_next_poll(
        engine_for: Callable[..., Engine]) -> None:
    """A server without ETags answers a pause with "Paused" while its list (byte for byte as before) still says
    Healthy: the action's answer is shown at once, and the next poll's list is the truth again even though its body
    did not change."""
    with no_etag_server(rollouts_body(3)) as server:
        server.routes["/v1/rollouts/svc-1/actions/pause"] = json_answer(_paused_answer("svc-1"))
        async with engine_for(server.url) as engine:
            await engine.refresh_once()
            await engine.refresh_once()  # the same list again: skipped
            rollout = engine.state.rollout("prod", "svc-1")
            assert rollout is not None and rollout.phase is Phase.HEALTHY
            outcome = await engine.execute(engine.plan("prod", rollout, ActionKind.PAUSE), "test")
            assert outcome.ok and engine.state.rollout("prod", "svc-1").phase is Phase.PAUSED, "shown at once"
            polls = sum(1 for a in server.asked if a.path == "/v1/rollouts")
            await engine.refresh_once()
            assert sum(1 for a in server.asked if a.path == "/v1/rollouts") == polls + 1
            assert engine.state.rollout("prod", "svc-1").phase is Phase.HEALTHY, "the list's word shown again"


async def test_a_refresh_during_a_poll_waits_for_it_so_the_older_list_is_never_applied_last(
        engine_for: Callable[..., Engine]) -> None:
    """`r` (or the poll after a silence) while the source's own poll is under way: the two polls of one source take
    turns, so an older, longer list (compared in steps) is never applied after the newer one, and no rollout the server
    no longer has stays on screen."""
    old, new = rollouts_body(3000), rollouts_body(100)
    asked: list[int] = []
    in_flight = [0, 0]  # now, most at once
    second = threading.Event()

    async def rollouts(request: Request) -> Response:
        asked.append(len(asked))
        number = len(asked)
        in_flight[0] += 1
        in_flight[1] = max(in_flight)
        try:
            if number == 1:  # held until another list request comes (it never does once polls take turns)
                second.clear()
                await asyncio.to_thread(second.wait, 3)
                return Response(old, media_type="application/json")
            second.set()
            return Response(new, media_type="application/json")
        finally:
            in_flight[0] -= 1

    with no_etag_server(b"") as server:
        server.routes["/v1/rollouts"] = rollouts
        # a request deadline well past the 3 s the first list is held
        source = {"name": "prod", "kind": "http", "url": server.url, "poll_interval": 0.1, "timeout": 20.0}
        async with engine_for(source) as engine:
            await asyncio.gather(engine.refresh_once(), engine.refresh_once())
            assert len(engine.state.sources["prod"].rollouts) == 100, "the newer list shown"
            assert len(asked) == 2 and in_flight[1] == 1, "one list request of the source at a time"
            await engine.refresh_once()  # the same list again (skipped): still the newer one
            assert len(engine.state.sources["prod"].rollouts) == 100
