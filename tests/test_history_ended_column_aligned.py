"""An auto-rolled-back revision in the history: `monotui history` keeps its ENDED column as wide as its longest
entry ("auto-rolled back", "live (stable current)"), so LIVE FROM starts at one place on every line (it ran into
the date); the history screen at 80×24 shows "auto-rolled back" whole under its Ended heading (it was cut to "auto-
rolled bac")."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from monotui.cli_history import history_lines
from monotui.engine.core import Engine
from monotui.simulator.revisions import revisions_of
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World
from monotui.ui.screens.history import HistoryScreen

from .conftest import make_world, wait_until
from .ui_helpers import on_world_clock, poll_now, rows_loaded, screen_lines, select, settle


@pytest.fixture
def world() -> World:
    return make_world(services=3, initial_deploys=0, staged_auto_rollback=True)


def staged(world: World) -> str:
    return list(world.services)[-1]  # the service whose bad release the platform rolled back


def test_the_history_command_aligns_live_from_under_a_long_ended(world: World) -> None:
    for service in world.services.values():  # "auto-rolled back" in one, "live (stable current)" in the others
        lines = [line for line in history_lines(revisions_of(service), world.now) if not line.startswith(" ")]
        at = lines[0].index("LIVE FROM")
        for line in lines[1:]:
            assert line[at - 1] == " " and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", line[at:at + 16]), lines


async def test_the_history_screen_shows_auto_rolled_back_whole_at_80x24(
        sim: SimulatorServer, world: World, engine_for: Callable[..., Engine]) -> None:
    app = on_world_clock(engine_for({"name": "prod", "kind": "http", "url": sim.url, "timeout": 10.0}), world)
    async with app.run_test(size=(80, 24)) as pilot:
        await poll_now(app)
        await rows_loaded(app, 3)
        select(app, f"prod/{staged(world)}")
        await pilot.press("h")
        await wait_until(lambda: isinstance(app.screen, HistoryScreen) and bool(app.screen.revisions), timeout=20,
                         what="the history and its revisions")
        await settle(pilot)
        lines = screen_lines(app)
        head = next(line for line in lines if "Ended" in line and "Rev" in line)
        row = next(line for line in lines if "auto-rolled back" in line)
        assert row.index("auto-rolled back") == head.index("Ended"), (head, row)
        at = head.index("Live from")
        assert re.fullmatch(r"\d\d-\d\d \d\d:\d\d", row[at:at + 11]), (head, row)  # the time under its heading
        assert all(len(line) <= 80 for line in lines)
