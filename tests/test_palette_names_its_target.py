"""A palette entry names exactly the target its command opens: "Act on suspect" names the suspect it will roll
back (seldom the selected row), and choosing any entry opens a confirmation for the service the entry named."""

from __future__ import annotations

from collections.abc import Callable

from textual.command import CommandPalette

from monotui.engine.core import Engine
from monotui.models import Strategy
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.confirm import ConfirmActionScreen

from .conftest import make_world, wait_until
from .test_suspects import go_bad
from .ui_helpers import make_app, rows_loaded, select, settle


async def choose(pilot, query: str) -> str:  # type: ignore[no-untyped-def]
    """Open the palette, type `query`, take the first entry: its text."""
    app = pilot.app
    await pilot.press("ctrl+p")
    await wait_until(lambda: isinstance(app.screen, CommandPalette), what="the palette open")
    await pilot.press(*query)
    palette = app.screen
    await wait_until(lambda: palette.query("CommandList").first().option_count > 0, what="palette hits")
    command_list = palette.query("CommandList").first()
    first = command_list.get_option_at_index(0).prompt
    text = first.plain if hasattr(first, "plain") else str(first)
    await pilot.press("down", "enter")  # highlight the first hit, then run it
    await settle(pilot, 0.2)
    return str(text).splitlines()[0]  # the entry; its help is the line below


async def test_the_suspect_entry_names_the_suspect_and_opens_its_rollback(
        engine_for: Callable[..., Engine]) -> None:
    world = make_world(initial_deploys=0)
    with SimulatorServer(world, tick_interval=None) as sim:
        go_bad(world, "cart-api")
        app = make_app(engine_for({"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 60}))
        async with app.run_test(size=(120, 35)) as pilot:
            await rows_loaded(app)
            other = next(k for k in app.rollouts.table._order if not k.endswith("/cart-api"))
            select(app, other)  # the cursor on another service
            await pilot.pause()
            entry = await choose(pilot, "suspect")
            assert "cart-api" in entry and other.split("/")[1] not in entry, entry
            await wait_until(lambda: isinstance(app.screen, ConfirmActionScreen), what="the confirmation")
            assert isinstance(app.screen, ConfirmActionScreen)
            assert app.screen.plan.rollout.service == "cart-api"
            assert app.screen.plan.spec.label in entry or "roll back" in entry


async def test_a_rollout_entry_opens_the_service_it_names(engine_for: Callable[..., Engine]) -> None:
    world = make_world(initial_deploys=0)
    world.deploy("orders-api", strategy=Strategy.CANARY, manual_gate=True)
    for _ in range(10):
        world.step()
    with SimulatorServer(world, tick_interval=None) as sim:
        app = make_app(engine_for({"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 60}))
        async with app.run_test(size=(120, 35)) as pilot:
            await rows_loaded(app)
            select(app, "prod/orders-api")
            await pilot.pause()
            entry = await choose(pilot, "Abort")
            await wait_until(lambda: isinstance(app.screen, ConfirmActionScreen), what="the confirmation")
            assert isinstance(app.screen, ConfirmActionScreen)
            assert entry == f"Abort {app.screen.plan.rollout.service}" == "Abort orders-api"
