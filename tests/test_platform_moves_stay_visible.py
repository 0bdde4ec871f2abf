"""The platform's own moves stay in view: an automatic rollback keeps a marker on its service's row (`↩ auto 4m`)
for `platform_moves_window`, even after the service's next deploy; `/rolled` and `/auto` find it; the detail
panel says who and why. Against the simulator's auto-rollback (a real HTTP server) and the real app."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from monotui.action_kinds import ActionKind
from monotui.engine.core import Engine
from monotui.models import EventKind, Phase, Strategy
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import SimConfig, World
from monotui.ui.app import MonotuiApp

from .conftest import make_world
from .ui_helpers import cell, on_world_clock, panel_text, poll_now, rows_loaded, select, settle

SERVICE = "cart-api"
KEY = f"prod/{SERVICE}"


@pytest.fixture
def world() -> World:
    return make_world(services=4, initial_deploys=0, auto_rollback=True, names=(SERVICE,))


@pytest.fixture
def app_for(sim: SimulatorServer, world: World, engine_for: Callable[..., Engine]) -> Callable[..., MonotuiApp]:
    def build(**overrides: Any) -> MonotuiApp:
        return on_world_clock(engine_for({"name": "prod", "kind": "http", "url": sim.url, "timeout": 10.0},
                                         **overrides), world)

    return build


def auto_rollback(world: World) -> None:
    """A bad canary of SERVICE, rolled back by the platform when its analysis fails."""
    world.deploy(SERVICE, bad=True, strategy=Strategy.CANARY)
    for _ in range(200):
        world.step()
        if world.rollout(SERVICE).rolled_back_at is not None:
            break
    assert any(e.kind is EventKind.ROLLED_BACK and e.actor == "auto-rollback" for e in world.events)


async def shown_rows(app: MonotuiApp) -> list[str]:
    return list(app.rollouts.table._order)


async def test_an_auto_rollback_keeps_its_marker_after_the_next_deploy_is_found_and_says_why(
        world: World, app_for: Callable[..., MonotuiApp]) -> None:
    app = app_for()
    async with app.run_test(size=(140, 40)) as pilot:
        await poll_now(app)
        await rows_loaded(app, 4)
        auto_rollback(world)
        await poll_now(app)
        assert cell(app, KEY, "moves") == "↩ auto <1m"
        world.step(240.0)  # four minutes on, the service's next deploy
        world.deploy(SERVICE, strategy=Strategy.CANARY)
        world.step(1.0)
        await poll_now(app)
        await pilot.pause()
        assert app.engine.state.rollout("prod", SERVICE).phase is Phase.PROGRESSING  # rolled_back_at is gone
        assert app.engine.state.rollout("prod", SERVICE).rolled_back_at is None
        assert cell(app, KEY, "moves") == "↩ auto 4m"

        select(app, KEY)
        await pilot.pause()
        platform = [line for line in panel_text(app, "detail").splitlines() if line.startswith("Platform")]
        assert len(platform) == 1 and "↩ rolled back by auto-rollback: analysis failed" in platform[0], platform

        for needle in ("rolled", "auto"):
            await pilot.press("slash", *needle, "enter")
            await settle(pilot)
            assert await shown_rows(app) == [KEY], needle
            await pilot.press("escape")
            await settle(pilot)
            assert app.rollouts.table.row_count == 4


async def test_the_marker_goes_after_its_window(world: World, app_for: Callable[..., MonotuiApp]) -> None:
    app = app_for(platform_moves_window=600)
    async with app.run_test(size=(140, 40)) as pilot:
        await poll_now(app)
        await rows_loaded(app, 4)
        auto_rollback(world)
        await poll_now(app)
        assert cell(app, KEY, "moves").startswith("↩ auto")
        world.now += timedelta(seconds=601)  # the clock alone: no poll, no change
        app.rollouts.refresh_views(force=True)
        await pilot.pause()
        assert "moves" not in app.rollouts.table.shown_columns  # no row has a move: the column takes no width
        await pilot.press("slash", *"auto", "enter")
        await settle(pilot)
        assert app.rollouts.table.row_count == 0


async def test_a_person_s_rollback_is_not_a_platform_move(world: World, app_for: Callable[..., MonotuiApp]) -> None:
    app = app_for()
    async with app.run_test(size=(140, 40)):
        await poll_now(app)
        await rows_loaded(app, 4)
        world.deploy(SERVICE, strategy=Strategy.CANARY)
        world.step(2.0)
        world.act(SERVICE, ActionKind.ROLLBACK, "alice@laptop", "looks wrong")
        await poll_now(app)
        view = app.engine.state.view(KEY)
        assert view is not None and view.rollout.rolled_back_at is not None and view.platform_move is None


async def test_the_demo_s_world_shows_an_auto_rollback_that_stays_visible(engine_for: Callable[..., Engine]) -> None:
    """`monotui demo`'s simulator stages one: a bad canary rolled back by the platform 4 minutes ago, the service
    deploying again since."""
    world = World(SimConfig(services=12, seed=1, deploy_interval=0, staged_auto_rollback=True))
    staged = list(world.services)[-1]
    with SimulatorServer(world, tick_interval=None) as sim:
        engine = engine_for({"name": "demo", "kind": "http", "url": sim.url, "timeout": 10.0})
        engine.state.clock = lambda: world.now
        app = MonotuiApp(engine, poll=False, clock=lambda: world.now)
        async with app.run_test(size=(140, 40)) as pilot:
            await poll_now(app)
            await rows_loaded(app, 12)
            key = f"demo/{staged}"
            assert world.rollout(staged).phase is Phase.PROGRESSING  # its next deploy
            app.rollouts.refresh_views(force=True)  # a clock tick: the rows now drawn size the columns
            await pilot.pause()
            assert cell(app, key, "moves") == "↩ auto 4m"
            select(app, key)
            await pilot.pause()
            assert "↩ rolled back by auto-rollback: analysis failed" in panel_text(app, "detail")


def test_which_events_are_the_platform_s_own_moves() -> None:
    from datetime import UTC, datetime

    from monotui.engine.platform_moves import platform_move
    from monotui.models import Event

    def event(kind: EventKind, actor: str, message: str) -> Event:
        return Event(id=1, time=datetime.now(UTC), kind=kind, service="cart-api", rollout_id="cart-api",
                     actor=actor, message=message)

    auto = platform_move("prod", event(EventKind.ROLLED_BACK, "auto-rollback",
                                       "rolled back r13 (v2) → r12 (v1) by auto-rollback: analysis failed"))
    assert auto is not None and (auto.kind, auto.actor, auto.reason) == ("rollback", "auto-rollback",
                                                                          "analysis failed")
    argo = platform_move("argo", event(EventKind.ABORTED, "", 'Progressing → Aborted: RolloutAborted: Rollout '
                                       'aborted update to revision 3: Metric "error-rate" assessed Failed'))
    assert argo is not None and (argo.kind, argo.actor) == ("abort", "analysis")
    guard = platform_move("prod", event(EventKind.PAUSED, "monotui guard (oncall@bastion-1)",
                                        "paused by the monotui guard: done"))
    assert guard is not None and guard.kind == "pause"
    assert platform_move("prod", event(EventKind.ROLLED_BACK, "alice", "rolled back r3 → r2 by alice")) is None
    assert platform_move("argo", event(EventKind.ABORTED, "", "Progressing → Aborted: RolloutAborted: Rollout "
                                       "aborted update to revision 3")) is None  # a person's abort
    assert platform_move("prod", event(EventKind.PAUSED, "deploy-bot",
                                       "CanaryPauseStep: waiting for a human to promote")) is None  # a planned gate
