"""NO_COLOR is honoured when it is "present and not an empty string" (no-color.org): `NO_COLOR=` keeps colour on,
in the TUI and in the CLI's tables."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.filter import Monochrome, NoColor

from monotui.colour_env import no_color_asked
from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.ui.app import MonotuiApp

from .ui_helpers import rows_loaded


def test_no_color_asked_only_when_set_and_not_empty() -> None:
    assert no_color_asked({"NO_COLOR": "1"})
    assert no_color_asked({"NO_COLOR": "0"})  # any non-empty value
    assert not no_color_asked({"NO_COLOR": ""})
    assert not no_color_asked({})


@pytest.mark.parametrize(("value", "plain"), [("", False), ("1", True)], ids=["empty", "set"])
async def test_the_tui_keeps_colour_under_an_empty_no_color(sim: SimulatorServer, engine_for: Callable[..., Engine],
                                                            monkeypatch: pytest.MonkeyPatch, value: str,
                                                            plain: bool) -> None:
    monkeypatch.setenv("NO_COLOR", value)
    app = MonotuiApp(engine_for(sim.url, theme="textual-dark"), poll=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await rows_loaded(app)
        await pilot.pause()
        assert app.no_color is plain
        colourless = [f for f in app.get_line_filters() if isinstance(f, (NoColor, Monochrome))]
        assert bool(colourless) is plain
        assert app.theme == ("ansi-dark" if plain else "textual-dark")
        svg = app.export_screenshot()
        # the PRODUCTION badge: red in colour (textual-dark's error red), the terminal's own colours under NO_COLOR
        assert ("PRODUCTION" in svg) and (("#" in svg.split("PRODUCTION")[0][-400:]) or plain)
