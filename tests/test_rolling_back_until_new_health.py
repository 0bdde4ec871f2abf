"""After this operator's rollback the row says "↩ Rolling back" until a health figure newer than the action arrives:
the backend answers "Healthy" at once, and beside the error ratio of before the row read "✔ Healthy 9.8%"."""

from __future__ import annotations

from collections.abc import Callable

from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.confirm import ConfirmActionScreen

from .conftest import make_world, wait_until
from .test_suspects import go_bad
from .ui_helpers import cell, make_app, rows_loaded, settle


async def test_the_row_says_rolling_back_until_a_newer_health_figure(engine_for: Callable[..., Engine]) -> None:
    world = make_world(initial_deploys=0)
    with SimulatorServer(world, tick_interval=None) as sim:
        go_bad(world, "cart-api")
        app = make_app(engine_for({"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 3600}))
        key = "prod/cart-api"
        async with app.run_test(size=(120, 35)) as pilot:
            await rows_loaded(app)
            assert "SUSPECT" in cell(app, key, "status")
            await pilot.press("s")
            await wait_until(lambda: isinstance(app.screen, ConfirmActionScreen), what="the confirmation")
            await pilot.press("tab", "enter")
            await settle(pilot, 0.3)
            await wait_until(lambda: sim.state.mutating_requests() != [], what="the rollback sent")
            await wait_until(lambda: app.engine.state.by_key[key].rollout.phase.value != "Progressing",
                             what="the answer applied")
            await settle(pilot)
            status = cell(app, key, "status")
            assert "Rolling back" in status and "Healthy" not in status, status
            for _ in range(20):  # world time passes: the health figures move on
                world.step()
            await pilot.press("ctrl+r")  # a poll now: a health figure newer than the action
            await wait_until(lambda: "Rolling back" not in cell(app, key, "status"), timeout=30,
                             what="the row's own phase again")
