"""`?` at 80×24: "What it does" reads in lines of forty-odd columns (the keymap id sits dim under the command's
name, not in a column of its own that squeezed the description to a third of the box), and the heading says how to
close and scroll (the footer under the dialog is the main screen's)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World
from monotui.ui.screens.help import HelpScreen

from .conftest import make_world, wait_until
from .ui_helpers import on_world_clock, poll_now, rows_loaded, screen_lines, settle


@pytest.fixture
def world() -> World:
    return make_world(services=3, initial_deploys=0)


async def test_help_descriptions_are_wide_and_ids_sit_under_names_at_80x24(
        sim: SimulatorServer, world: World, engine_for: Callable[..., Engine]) -> None:
    app = on_world_clock(engine_for({"name": "prod", "kind": "http", "url": sim.url, "timeout": 10.0}), world)
    async with app.run_test(size=(80, 24)) as pilot:
        await poll_now(app)
        await rows_loaded(app, 3)
        await pilot.press("question_mark")
        await wait_until(lambda: isinstance(app.screen, HelpScreen), what="help")
        await settle(pilot)
        lines = [line.strip("│ ").rstrip() for line in screen_lines(app)]
        assert any("monotui keys" in line and "esc closes" in line for line in lines), lines
        assert any("Command / [keymap] id" in line and "What it does" in line for line in lines), lines
        pause = next(i for i, line in enumerate(lines) if line.startswith("p ") and "Pause" in line)
        assert "Stop the rollout where it is; traffic stays" in lines[pause], lines[pause]
        assert lines[pause + 1].split()[0] == "rollout.pause", lines[pause + 1]
