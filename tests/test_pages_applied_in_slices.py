"""A big partial answer (a page of a listing) is applied a slice at a time, with the event loop free between the
slices (keys are handled meanwhile), and ends in the same state as applied at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from monotui.engine import polling
from monotui.engine.core import Engine
from monotui.providers.base import PollResult

from .conftest import make_world


async def test_a_page_of_many_rollouts_is_applied_in_slices_with_the_loop_free_between(
        engine_for: Callable[..., Engine]) -> None:
    rollouts = make_world(services=1_234).rollouts()
    source = {"name": "prod", "kind": "http", "url": "http://127.0.0.1:9", "poll_interval": 60}
    async with engine_for(source) as engine:
        state = engine.state
        turns = 0
        stop = asyncio.Event()

        async def other_work() -> None:  # what a key handler would be: it runs whenever the loop is free
            nonlocal turns
            while not stop.is_set():
                turns += 1
                await asyncio.sleep(0)

        other = asyncio.create_task(other_work())
        await asyncio.sleep(0)
        before = turns
        await polling.apply_result(state, "prod", PollResult(rollouts=rollouts, partial=True, more=True))
        between = turns - before
        stop.set()
        await other
        slices = -(-len(rollouts) // polling.APPLY_SLICE)
        assert between >= slices - 1, f"the loop ran other work {between} times during {slices} slices"
        assert {v.rollout.id for v in state.views()} == {r.id for r in rollouts}
        assert state.status("prod").last_ok is None, "a page with more to come is not the end of the poll"
        await polling.apply_result(state, "prod", PollResult(rollouts=rollouts[:3], partial=True))
        assert state.status("prod").last_ok is not None
