"""The `:` command line at 80×24: its `:` prompt stays on screen while typing, and Tab again after a completion
gives the next match of what was typed, in turn (`:s` Tab Tab … walks sort-next, sort-attention, silence, … and
comes back), where it gave the first match only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import Input

from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World
from monotui.ui.command_line import completions
from monotui.ui.screens.command_line import CommandLineScreen

from .conftest import make_world, wait_until
from .ui_helpers import on_world_clock, poll_now, rows_loaded, screen_lines, settle


@pytest.fixture
def world() -> World:
    return make_world(services=3, initial_deploys=0, names=("cart-api", "search-api", "auth-api"))


async def test_tab_again_walks_every_match_and_the_prompt_stays_at_80x24(
        sim: SimulatorServer, world: World, engine_for: Callable[..., Engine]) -> None:
    app = on_world_clock(engine_for({"name": "prod", "kind": "http", "url": sim.url, "timeout": 10.0}), world)
    async with app.run_test(size=(80, 24)) as pilot:
        await poll_now(app)
        await rows_loaded(app, 3)
        await pilot.press("colon")
        await wait_until(lambda: isinstance(app.screen, CommandLineScreen), what="the command line")
        screen = app.screen
        assert isinstance(screen, CommandLineScreen)
        field = screen.query_one("#command-line", Input)
        await pilot.press("s")
        await settle(pilot)
        matches = completions("s", screen.choices)
        assert len(matches) >= 3 and "search-api" in matches, matches
        seen = []
        for _ in range(len(matches) + 1):
            await pilot.press("tab")
            await settle(pilot)
            seen.append(field.value)
            assert screen_lines(app)[-1].startswith(f":{field.value}"), screen_lines(app)[-1]
        assert seen == [*matches, matches[0]], seen
        await pilot.press("ctrl+u", "c", "a", "tab")  # typing anew: the matches of what is typed now
        await settle(pilot)
        assert field.value == "cart-api"
