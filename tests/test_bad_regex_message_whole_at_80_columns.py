"""A filter term that is not a regular expression: the line beside the filter says how many rows match first, then
why the term is matched as text, every word of it on screen at 80×24 (it wraps under itself; it was cut)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World

from .conftest import make_world, wait_until
from .ui_helpers import on_world_clock, poll_now, rows_loaded, screen_lines, settle, static_text


@pytest.fixture
def world() -> World:
    return make_world(services=4, initial_deploys=0)


async def test_bad_regex_message_is_whole_at_80x24(
        sim: SimulatorServer, world: World, engine_for: Callable[..., Engine]) -> None:
    app = on_world_clock(engine_for({"name": "prod", "kind": "http", "url": sim.url, "timeout": 10.0}), world)
    async with app.run_test(size=(80, 24)) as pilot:
        await poll_now(app)
        await rows_loaded(app, 4)
        await pilot.press("slash", *"pay[")
        await wait_until(lambda: "not a regular" in static_text(app, "#filter-status"), what="the message")
        await settle(pilot)
        status = static_text(app, "#filter-status")
        assert status.startswith("no rollout matches — esc clears · pay["), status
        shown = " ".join(" ".join(line.split()) for line in screen_lines(app)[1:5])
        for word in status.split():
            assert word in shown, (word, screen_lines(app)[:5])
        assert "matched as text" in shown
        assert any(line.lstrip().startswith("Service") for line in screen_lines(app)[2:6]), "the table follows"
