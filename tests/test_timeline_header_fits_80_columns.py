"""The timeline's header line, filtered by a service and paused with entries waiting, is whole at 80×24: the pause
(why the lines stand still, and how to resume) first, and the count of entries still on the line."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from monotui.action_kinds import ActionKind
from monotui.engine.core import Engine
from monotui.models import Strategy
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World
from monotui.ui.app import MonotuiApp
from monotui.ui.screens.timeline import TimelineScreen

from .conftest import make_world, wait_until
from .ui_helpers import poll_now, rows_loaded, screen_lines, settle


@pytest.fixture
def world() -> World:
    return make_world(services=3, initial_deploys=0, names=("inventory-api", "search-api", "auth-api"))


async def test_paused_filtered_timeline_header_is_whole_at_80x24(
        sim: SimulatorServer, world: World, engine_for: Callable[..., Engine]) -> None:
    engine = engine_for({"name": "prod", "kind": "http", "url": sim.url, "timeout": 10.0})
    engine.state.clock = lambda: world.now
    app = MonotuiApp(engine, poll=False, clock=lambda: world.now)
    async with app.run_test(size=(80, 24)) as pilot:
        world.deploy("inventory-api", strategy=Strategy.CANARY)
        world.step(2.0)
        await poll_now(app)
        await rows_loaded(app, 3)
        await pilot.press("T")
        await wait_until(lambda: isinstance(app.screen, TimelineScreen), what="the timeline")
        screen = app.screen
        assert isinstance(screen, TimelineScreen)
        await pilot.press("slash", *"inventory-api", "enter", "p")
        await settle(pilot)
        world.act("inventory-api", ActionKind.PAUSE, "bob@laptop", "hold on")
        world.step(1.0)
        await app.engine.refresh_once()
        screen.rebuild()
        await settle(pilot)
        head = screen_lines(app)[0].strip()
        assert head.startswith("‖ PAUSED, 1 new (p: resume)"), head
        assert head.endswith("entries"), head
        assert len(head) <= 80
        assert "inventory-api" in screen_lines(app)[1], "the filter's own line names the service"
