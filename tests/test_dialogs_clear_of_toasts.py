"""At 80×24 a dialog is not covered: opening one clears the leftover notices that would sit on its prompt and
buttons; and no scrollbar draws partial-block glyphs (▁▂…▇, which read as sparklines) over the help dialog."""

from __future__ import annotations

from collections.abc import Callable

from monotui.engine.core import Engine
from monotui.models import Strategy
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.confirm import ConfirmActionScreen

from .conftest import make_world, wait_until
from .ui_helpers import make_app, notifications, open_help, rows_loaded, screen_lines, select, settle

BARS = set("▁▂▃▄▅▆▇")


async def test_a_confirmation_opens_without_the_toasts_that_were_shown(engine_for: Callable[..., Engine]) -> None:
    world = make_world(initial_deploys=0)
    world.deploy("orders-api", strategy=Strategy.CANARY, manual_gate=True)
    for _ in range(10):
        world.step()
    with SimulatorServer(world, tick_interval=None) as sim:
        app = make_app(engine_for({"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 60},
                                  protected_services=["orders-api"]))
        async with app.run_test(size=(80, 24)) as pilot:
            await rows_loaded(app)
            for _ in range(3):  # notices that stay for seconds: sort toasts, and a key that cannot act
                await pilot.press("o")
                await settle(pilot)
            app.notify("a leftover notice", timeout=30)
            await settle(pilot)
            assert len(notifications(app)) >= 3
            select(app, "prod/orders-api")
            await pilot.press("b")
            await wait_until(lambda: isinstance(app.screen, ConfirmActionScreen), what="the confirmation")
            await settle(pilot)
            assert notifications(app) == []
            shown = "\n".join(screen_lines(app))
            assert "leftover" not in shown and "sorted by" not in shown
            assert "Cancel" in shown and "orders-api" in shown


async def test_no_partial_block_glyph_is_drawn_on_the_help_dialog(sim: SimulatorServer,
                                                                  engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for({"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 60}))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_help(app, pilot)
        region = app.screen.query_one("#help").region
        for step in range(6):  # the help scrolls at 80×24: its scrollbar's thumb at several places
            lines = screen_lines(app)[region.y:region.bottom]
            # the legend's own sample of a sparkline is the one place such glyphs belong
            inside = "".join(line[region.x:region.right] for line in lines).replace("▁▂▅▇", "")
            assert not BARS & set(inside), f"block glyphs on the help dialog (step {step}):\n" + "\n".join(
                line[region.x:region.right] for line in lines)
            await pilot.press("pagedown")
            await settle(pilot)
