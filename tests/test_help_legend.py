"""`?` help says what the screen shows as well as the keys: a legend of every symbol, colour and column the table,
panels and banner draw; and its binding-id heading reads "[keymap] id" (it is text, not markup)."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Static

from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer

from .ui_helpers import make_app, open_help, rows_loaded, screen_lines, settle, text_of

MARKS = ["⚠ SUSPECT", "⚑", "↩", "▲", "△", "▼", "✖", "■", "‖", "▸", "✔", "Weight", "set", "actually sent",
         "underlined", "! 2", "▁▂▅▇", "●", "◌", "…", "⚑-", "⚑~", "↻", "suspects — s", "FROZEN",
         "READ-ONLY"]


async def test_help_has_a_legend_and_the_keymap_heading(sim: SimulatorServer,
                                                        engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for({"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 60}))
    async with app.run_test(size=(120, 35)) as pilot:
        await open_help(app, pilot)
        assert any("[keymap] id" in line for line in screen_lines(app))
        shown = "\n".join(text_of(s.content) for s in app.screen.query(Static))
        assert "What the screen shows" in shown
        missing = [m for m in MARKS if m not in shown.split("What the screen shows")[1]]
        assert not missing, f"not in the legend: {missing}\n{shown}"


async def test_the_legend_scrolls_into_view_at_80x24(sim: SimulatorServer,
                                                     engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for({"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 60}))
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app)
        await pilot.press("question_mark")
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        assert any("a name cut in the middle" in line for line in screen_lines(app)), screen_lines(app)
