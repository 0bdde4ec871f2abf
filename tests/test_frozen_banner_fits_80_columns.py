"""A freeze with a long reason, at 80×24: the banner keeps PRODUCTION, "FROZEN since HH:MM by actor", the
suspects' count and every source's state on its one line, and shortens the reason (…) to make room; at 120 columns
more of the reason shows."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World

from .conftest import make_world, wait_until
from .ui_helpers import make_app, rows_loaded, screen_lines, settle, static_text

REASON = "checkout errors after the payments deploy, see the incident channel"


@pytest.fixture
def world() -> World:
    world = make_world(services=3, initial_deploys=0)
    world.set_freeze("alice@bastion-1", REASON)
    return world


@pytest.mark.parametrize("width", [80, 120])
async def test_frozen_banner_keeps_its_signals_on_one_line(
        width: int, sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for({"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 0.2,
                               "timeout": 5.0}))
    async with app.run_test(size=(width, 24 if width == 80 else 35)) as pilot:
        await rows_loaded(app, 3)
        await wait_until(lambda: "FROZEN since" in static_text(app, "#banner"), what="the banner says FROZEN")
        await settle(pilot, 0.3)
        top = screen_lines(app)[0]
        assert top.startswith(" PRODUCTION   FROZEN since ") and "by alice@bastion-1: checkout" in top, top
        assert "● prod" in top, top
        if width == 80:
            assert "…" in top and REASON not in top, top
        else:
            assert "checkout errors after the payments deploy" in top, top
