"""The history screen names its columns over the revisions at 80×24 (Rev, Version, Ended, Live from, For, Commit,
Author, each over its values), and the simulated production's past revisions were each deployed before the next:
newest first reads as newest first, and a promoted one was live until the next (no "?" for how long)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from monotui.engine.core import Engine
from monotui.simulator.revisions import revisions_of
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World
from monotui.ui.screens.history import HistoryScreen

from .conftest import make_world, wait_until
from .ui_helpers import on_world_clock, poll_now, rows_loaded, screen_lines, select, settle


@pytest.fixture
def world() -> World:
    return make_world(services=12, initial_deploys=0)


def test_every_simulated_service_history_is_in_deploy_order() -> None:
    for seed in range(1, 30):
        world = make_world(services=12, initial_deploys=0, seed=seed)
        for svc in world.services.values():
            times = [r.deployed_at for r in svc.history]
            assert times == sorted(times) and len(set(times)) == len(times), (seed, svc.name, times)
            assert all(r.live_until is not None for r in revisions_of(svc)[1:] if not r.stable), (seed, svc.name)


async def test_history_columns_are_named_over_their_values_at_80x24(
        sim: SimulatorServer, world: World, engine_for: Callable[..., Engine]) -> None:
    app = on_world_clock(engine_for({"name": "prod", "kind": "http", "url": sim.url, "timeout": 10.0}), world)
    async with app.run_test(size=(80, 24)) as pilot:
        await poll_now(app)
        await rows_loaded(app, 12)
        name = next(iter(world.services))
        select(app, f"prod/{name}")
        await pilot.press("h")
        await wait_until(lambda: isinstance(app.screen, HistoryScreen) and bool(app.screen.revisions), timeout=20,
                         what="the history and its revisions")
        await settle(pilot)
        lines = screen_lines(app)
        head = next(line for line in lines if "Rev" in line and "Ended" in line)
        row = next(line for line in lines if " r12 " in line)
        for column, value in (("Rev", "r12"), ("Ended", "live"), ("Commit", world.services[name].history[-1].commit)):
            assert head.index(column) == row.index(value), (column, head, row)
        for word in ("Version", "Live from", "For", "Author"):
            assert word in head, head
        assert "?" not in "".join(line for line in lines if " r11 " in line or " r10 " in line), lines
