"""The views are kept up to date by change (a poll recomputes only what it touched, the clock only the rows whose
attention moves with it): after any run of polls they equal views computed afresh from the whole state."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monotui.engine.attention import sort_key
from monotui.engine.core import Engine
from monotui.engine.row_order import RowOrder, ordered
from monotui.engine.state import ProductionState, RolloutView
from monotui.models import HealthSeries, ServiceHealth, Strategy
from monotui.providers.base import PollResult
from monotui.providers.http_deploy import HttpDeployProvider
from monotui.simulator.server import SimulatorServer

from .conftest import make_world, wait_until
from .test_suspects import go_bad
from .ui_helpers import make_app, rows_loaded, static_text


@given(st.lists(st.tuples(st.sampled_from("abcdefgh"), st.integers(-3, 3) | st.none()), max_size=60))
def test_a_row_order_is_the_sorted_order_after_any_puts_and_discards(ops: list[tuple[str, int | None]]) -> None:
    order, model = RowOrder(), {}
    for key, value in ops:
        if value is None:
            assert order.discard(key) == (model.pop(key, None) is not None)
        else:
            before = list(order.keys)
            moved = order.put(key, value)
            model[key] = value
            assert moved == (order.keys != before)
    expected = [key for _, key in sorted((v, k) for k, v in model.items())]
    assert order.keys == expected
    assert [order.index(key) for key in expected] == list(range(len(expected)))
    assert ordered([(v, k) for k, v in model.items()]).keys == expected


def afresh(state: ProductionState) -> list[RolloutView]:
    now = state.last_refresh
    assert now is not None
    views = [state._view(name, data, rollout, now)
             for name, data in state.sources.items() for rollout in data.rollouts.values()]
    return sorted(views, key=lambda v: (sort_key(v.attention, v.rollout), v.key))


@pytest.mark.parametrize("change_feed", [True, False], ids=["feed", "bulk"])
async def test_views_kept_by_change_equal_views_computed_afresh(engine_for: Callable[..., Engine],
                                                                change_feed: bool) -> None:
    world = make_world(services=30)
    rng = random.Random(7)
    with SimulatorServer(world, tick_interval=None) as sim:
        async with engine_for(sim.url) as engine:
            if not change_feed:  # bulk polls: every service's health, moved by noise, at every poll
                provider = engine.providers["prod"]
                assert isinstance(provider, HttpDeployProvider)
                provider.use_feed = False
            feed = engine.state.watch()
            for round_ in range(12):
                for service in rng.sample(sorted(world.services), 3):
                    world.deploy(service, bad=rng.random() < 0.3, strategy=Strategy.CANARY)
                for _ in range(rng.randint(1, 6)):
                    world.step()
                await engine.refresh_once()
                views = engine.state.views()
                assert views == afresh(engine.state), f"round {round_}"
                assert len(views) == 30
                changed, removed = feed.drain()
                assert not removed
                if change_feed:
                    assert 0 < len(changed) < 30 or round_ == 0, "a poll recomputes what it touched, not every row"
                assert engine.state.suspect_keys == {v.key for v in views if v.evidence is not None}


async def test_a_huge_production_shows_max_rows_exceptions_first_and_says_so(
        engine_for: Callable[..., Engine]) -> None:
    world = make_world(services=130, initial_deploys=0)
    with SimulatorServer(world, tick_interval=None) as sim:
        bad = sorted(world.services)[-1]  # last by name: only its standing can bring it into the first 100
        go_bad(world, bad)
        app = make_app(engine_for(sim.url, max_rows=100))
        async with app.run_test(size=(120, 35)) as pilot:
            await rows_loaded(app, 100)
            await wait_until(lambda: "showing 100 of 130 — filter with /" in static_text(app, "#banner"))
            assert app.rollouts.table._order[0] == f"prod/{bad}", "the suspect is shown, first"
            # only the rows on screen were rendered (Line API): a huge table costs one screenful
            assert len(app.rollouts.table._cells) <= app.rollouts.table.size.height < 100
            await pilot.press("slash", *bad)
            await wait_until(lambda: app.rollouts.table.row_count == 1)
            assert "showing" not in static_text(app, "#banner")
            await pilot.press("escape")
            await rows_loaded(app, 100)
            assert "showing 100 of 130" in static_text(app, "#banner")


def test_a_rollout_live_before_monotui_gets_its_before_figure_when_its_health_history_arrives_later(
        make_settings: Callable[..., Any]) -> None:
    """The "before" figure of a rollout first seen already live is filled from its health history at the refresh
    after that health arrives (only rows whose health or rollout changed are looked at, not every unknown one)."""
    world = make_world(services=6, initial_deploys=0)
    state = ProductionState(make_settings("http://127.0.0.1:9"))
    rollouts = world.rollouts()
    state.apply_poll("prod", PollResult(rollouts=rollouts))  # no health yet: no "before" for anyone
    state.refresh()
    assert all(state.baselines[("prod", r.id)][1] is None for r in rollouts)
    for _ in range(3):
        state.refresh()  # refreshes with nothing new change nothing
    target = rollouts[0]
    interval = 10.0
    now = datetime.now(UTC)
    back = int((now - target.started_at).total_seconds() // interval) + 2
    history = [0.001] * back + [0.2]  # 0.1% before the rollout started, 20% now
    health = ServiceHealth(service=target.service, error_ratio=0.2, p99_ms=100, rps=5,
                           series=HealthSeries(interval_s=interval, error_ratio=history, p99_ms=[90.0] * len(history)))
    state.apply_poll("prod", PollResult(rollouts=None, health=[health], health_partial=True))
    state.refresh(now)
    assert state.baselines[("prod", target.id)] == (target.revision, (0.001, 90.0))
    assert all(state.baselines[("prod", r.id)][1] is None for r in rollouts[1:]), "no health, no figure"
