"""`/` at 80×24: the footer has no key to show while the filter is typed in, so the empty filter line itself says
what it takes and how to leave it (enter keeps the filter, esc clears it), whole on screen."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World

from .conftest import make_world
from .ui_helpers import on_world_clock, poll_now, rows_loaded, screen_lines, settle


@pytest.fixture
def world() -> World:
    return make_world(services=3, initial_deploys=0)


async def test_the_empty_filter_says_enter_keeps_and_esc_clears_at_80x24(
        sim: SimulatorServer, world: World, engine_for: Callable[..., Engine]) -> None:
    app = on_world_clock(engine_for({"name": "prod", "kind": "http", "url": sim.url, "timeout": 10.0}), world)
    async with app.run_test(size=(80, 24)) as pilot:
        await poll_now(app)
        await rows_loaded(app, 3)
        await pilot.press("slash")
        await settle(pilot)
        line = screen_lines(app)[1]
        assert "filter: text, !text, /regex/, @source" in line and line.rstrip().endswith("enter keeps, esc clears"), \
            line
