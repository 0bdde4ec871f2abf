"""A long full list is compared with the state in steps, the event loop free between them (keys answer while a
hostile source re-sends 100,000 rollouts that changed by one); the state changes only at the last step, all at
once, exactly as a one-piece apply would have changed it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import msgspec

from monotui.engine.core import Engine
from monotui.engine.state import COMPARE_STEP, ProductionState
from monotui.models import Phase, Rollout
from monotui.models import replace as copy_with
from monotui.providers.base import PollResult

from .hostile import HostileServer, json_answer
from .test_same_body import EVENTS, HEALTH, rollouts_body

N = COMPARE_STEP * 2 + 500  # three steps


class _List(msgspec.Struct):
    rollouts: list[Rollout]


def rollouts(paused: str | None = None) -> list[Rollout]:
    """N rollouts, new objects at every call (as every poll decodes them anew)."""
    return msgspec.json.decode(rollouts_body(N, paused=paused), type=_List).rollouts


def test_the_state_changes_only_at_the_last_step_and_as_a_one_piece_apply_would(
        make_settings: Callable[..., Any]) -> None:
    stepped, whole = (ProductionState(make_settings("http://127.0.0.1:9")) for _ in range(2))
    for state in (stepped, whole):
        state.apply_poll("prod", PollResult(rollouts=rollouts()))
        state.refresh()
    feed = stepped.watch()
    feed.drain()
    held = stepped.rollout("prod", "svc-1")
    version = stepped.version
    steps = stepped.apply_poll_steps("prod", PollResult(rollouts=rollouts(paused="svc-4321")))
    taken = 0
    for _ in steps:
        taken += 1
        stepped.refresh()  # what the screen does between steps (a clock tick, a key)
        assert stepped.version == version, "nothing applied before the last step"
        assert stepped.rollout("prod", "svc-4321").phase is Phase.HEALTHY
    assert taken == 3
    whole.apply_poll("prod", PollResult(rollouts=rollouts(paused="svc-4321")))
    stepped.refresh()
    whole.refresh()
    assert stepped.rollout("prod", "svc-4321").phase is Phase.PAUSED
    assert stepped.rollout("prod", "svc-1") is held, "an unchanged rollout keeps its object (the row's caches)"
    assert feed.drain() == ({"prod/svc-4321"}, set()), "only the changed row is recomputed"
    assert stepped.views() == whole.views()


def test_a_rollout_put_between_steps_leaves_state_and_views_agreeing(make_settings: Callable[..., Any]) -> None:
    state = ProductionState(make_settings("http://127.0.0.1:9"))
    state.apply_poll("prod", PollResult(rollouts=rollouts()))
    state.refresh()
    steps = state.apply_poll_steps("prod", PollResult(rollouts=rollouts(paused="svc-7")))
    next(steps)
    # an action's answer arrives while the list is being compared
    state.apply_rollout("prod", copy_with(state.rollout("prod", "svc-7"), phase=Phase.ABORTED))
    state.refresh()
    for _ in steps:
        pass
    state.refresh()
    view = state.view("prod/svc-7")
    assert view is not None and view.rollout is state.rollout("prod", "svc-7")
    assert view.rollout.phase is Phase.PAUSED, "the list, read after the action was sent, is what the source says"


async def test_other_tasks_run_between_the_steps_of_a_poll(engine_for: Callable[..., Engine]) -> None:
    with HostileServer({"/v1/rollouts": json_answer(rollouts_body(N)), "/v1/health": json_answer(HEALTH),
                        "/v1/events": json_answer(EVENTS)}) as server:
        async with engine_for(server.url) as engine:
            ticks = 0
            seen: list[int] = []  # the ticker's count at each step of the comparison
            compare = engine.state._compare

            def counted(*args: Any) -> None:
                seen.append(ticks)
                compare(*args)

            engine.state._compare = counted  # type: ignore[method-assign]
            done = False

            async def ticker() -> None:
                nonlocal ticks
                while not done:
                    ticks += 1
                    await asyncio.sleep(0)

            task = asyncio.create_task(ticker())
            [update] = await engine.refresh_once()
            done = True
            await task
            assert update.ok and len(engine.state.sources["prod"].rollouts) == N
            assert len(seen) == 3 and seen[0] < seen[1] < seen[2], "the ticker ran between every two steps"
