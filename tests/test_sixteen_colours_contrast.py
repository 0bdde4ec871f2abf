"""In a 16-colour terminal (TERM=xterm) every cell with text reads at WCAG 4.5:1 (3:1 for the sparklines' bars) in
xterm's default palette and in Tango's, as the terminal paints it: the test reads the escape sequences `monotui demo`
writes to a real pseudo-terminal (SGR 30–37/90–97/40–47/100–107, and 256 or true colour if any), keeps every cell
ever drawn while it walks the main screen, a selected row, the filter, help, the palette and a confirmation, maps
them through both palettes and computes the contrast. The terminal's default colours are light grey on black (the
ANSI dark theme's assumption); bold is drawn in the same colour, dim half-way to the background, reverse swapped.
Box-drawing frames are decoration and not checked.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from .ansi_screen import PALETTES, Screen, cell_contrast, describe
from .terminal import Terminal

# drives real terminals with timing: run alone, after the parallel suite
pytestmark = [pytest.mark.xdist_group("benches"), pytest.mark.terminal]

TEXT, GRAPHIC = 4.5, 3.0
ESCAPE = "\x1b[27;1u"  # the Escape key, unambiguous (the app asks for the kitty keyboard protocol)


def demo_env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("MONOTUI_", "TEXTUAL_")) and k not in ("COLORTERM", "NO_COLOR")}
    return {**clean, "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"), "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
            "HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}


class Watched:
    """A terminal and the screen it shows, fed as the bytes arrive."""

    def __init__(self, term: Terminal, size: tuple[int, int]) -> None:
        self.term = term
        self.screen = Screen(*size)
        self._fed = 0

    def _feed(self) -> None:
        raw = self.term.raw
        self.screen.feed(raw[self._fed:])
        self._fed = len(raw)

    def shows(self, *needles: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self._feed()
            shown = "\n".join(self.screen.rows())
            if all(n in shown for n in needles):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{needles} not on the screen within {timeout:g}s:\n{shown}")
            self.term._drain(0.1)

    def gone(self, needle: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self._feed()
            if needle not in "\n".join(self.screen.rows()):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} still on the screen after {timeout:g}s")
            self.term._drain(0.1)

    def settle(self, quiet: float = 0.5, timeout: float = 20.0) -> None:
        """Read until nothing new came for `quiet` seconds (the frame is complete)."""
        deadline = time.monotonic() + timeout
        seen = len(self.term.raw)
        calm_since = time.monotonic()
        while time.monotonic() < deadline:
            self.term._drain(0.1)
            if len(self.term.raw) != seen:
                seen, calm_since = len(self.term.raw), time.monotonic()
            elif time.monotonic() - calm_since >= quiet:
                break
        self._feed()


def unreadable(screen: Screen) -> list[str]:
    found = []
    for (pen, kind), drawn in screen.drawn.items():
        need = TEXT if kind == "text" else GRAPHIC if kind == "graphic" else 0.0
        figures = {name: cell_contrast(pen, palette) for name, palette in PALETTES.items()}
        if min(figures.values()) < need:
            shown = ", ".join(f"{name} {value:.2f}:1" for name, value in figures.items())
            found.append(f"{describe(pen)} — {shown} — {drawn.chars[:16]!r} in {drawn.line.strip()[:70]!r}")
    return found


@pytest.mark.parametrize("size", [(80, 24), (120, 35)], ids=["80x24", "120x35"])
def test_every_cell_drawn_in_sixteen_colours_reads_in_xterm_and_tango_palettes(
        tmp_path: Path, size: tuple[int, int]) -> None:
    with Terminal(["demo", "--seed", "1"], demo_env(tmp_path), size=size, term="xterm") as term:
        watched = Watched(term, size)
        watched.shows("suspect", "PRODUCTION")
        watched.settle()
        term.type("\x1b[B")  # down: a selected row in the middle of the table
        watched.settle()
        term.type("?")
        watched.shows("What it does")
        watched.settle()
        term.type(ESCAPE)
        watched.gone("What it does")
        term.type("/")
        watched.settle()
        term.type("api")
        watched.settle()
        term.type(ESCAPE)
        watched.settle()
        term.type("\x10")  # ctrl+p: the command palette
        watched.shows("Search for commands")
        watched.settle()
        term.type(ESCAPE)
        watched.gone("Search for commands")
        term.type("s")  # the suspect's confirmation
        watched.shows("Cancel")
        watched.settle()
        term.type(ESCAPE)
        watched.gone("Cancel")
        watched.settle()
        seen = {chr(c) for c in range(32, 127)}  # the walk really drew text
        assert seen & set("".join(watched.screen.rows())), watched.screen.rows()
        assert watched.screen.drawn, "no cell was drawn"
        assert all(not p.startswith((b"38;2", b"48;2")) for p in watched.screen.sequences), \
            "true colour written to a 16-colour terminal"
        problems = unreadable(watched.screen)
        assert not problems, "cells that do not read at WCAG 4.5:1 (3:1 for bars):\n" + "\n".join(problems)
        term.type("q")
        assert term.wait_exit() == 0
