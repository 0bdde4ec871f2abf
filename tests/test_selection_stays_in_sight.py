"""The selected row stays on screen when the rows move under it: after a re-sort (and a poll that moves it) the
view scrolls as far as keeps the highlighted line in sight."""

from __future__ import annotations

from collections.abc import Callable

from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer

from .conftest import make_world
from .ui_helpers import make_app, rows_loaded, select, settle


def in_sight(app) -> bool:  # type: ignore[no-untyped-def]
    table = app.rollouts.table
    top = int(table.scroll_y)
    return top <= table.cursor_row < top + table.size.height - 1  # under the header


async def test_after_a_re_sort_the_selected_row_is_scrolled_into_sight(engine_for: Callable[..., Engine]) -> None:
    world = make_world(services=40)
    with SimulatorServer(world, tick_interval=None) as sim:
        app = make_app(engine_for({"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 60}))
        async with app.run_test(size=(80, 24)) as pilot:
            await rows_loaded(app)
            table = app.rollouts.table
            visible = table.size.height - 1
            assert table.row_count > 2 * visible, "more rows than the screen holds"
            attention = list(table._order)
            by_name = sorted(attention, key=lambda k: app.engine.state.by_key[k].rollout.service)
            # a row far from where the sort by Service will put it
            key = max(attention, key=lambda k: abs(attention.index(k) - by_name.index(k)))
            assert abs(attention.index(key) - by_name.index(key)) > visible
            select(app, key)
            table._scroll_to_cursor()
            await settle(pilot)
            assert in_sight(app)
            await pilot.press("o")  # sort by Service
            await settle(pilot)
            assert table.selected_key == key and table.cursor_row == by_name.index(key)
            assert in_sight(app), (table.cursor_row, table.scroll_y)
            await pilot.press("O")  # back to attention order
            await settle(pilot)
            assert table.selected_key == key and in_sight(app)
