"""Readable in 16 colours: every cell's text and background as a pair that reads at WCAG 4.5:1 in the two common
16-colour palettes (xterm's default and Tango's), whatever style asked for it.

The 16 colours are the terminal's own, and few of their pairs read in both palettes: on a dark background only
white, yellow and the bright greens, cyans, yellows and white do; red, magenta and blue text reads on nothing dark
in Tango. So a line filter (Textual's public `LineFilter`) gives each style the nearest readable pair: the bright
variant of its colour; for red, magenta and blue on a dark background a badge of bright white on that colour (the
signal keeps its colour); on a coloured background black or bright white text, or the bright variant of the
background. Dim text (drawn half-way to the background) is drawn at full strength. Styles that already read are left
alone. tests/test_sixteen_colours_contrast.py checks the result in a real terminal's escape sequences.
"""

from __future__ import annotations

from functools import lru_cache

from rich.color import Color as RichColor
from rich.color import ColorSystem, ColorType
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import LineFilter

XTERM = ("000000", "cd0000", "00cd00", "cdcd00", "0000ee", "cd00cd", "00cdcd", "e5e5e5",
         "7f7f7f", "ff0000", "00ff00", "ffff00", "5c5cff", "ff00ff", "00ffff", "ffffff")
TANGO = ("2e3436", "cc0000", "4e9a06", "c4a000", "3465a4", "75507b", "06989a", "d3d7cf",
         "555753", "ef2929", "8ae234", "fce94f", "729fcf", "ad7fa8", "34e2e2", "eeeeec")
MINIMUM = 4.5  # WCAG AA for text
DEFAULT_FG, DEFAULT_BG = 7, 0  # the ANSI dark theme: the terminal's default text is light on dark
CHROMATIC = {1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14}
BADGE = {1, 4, 5, 9, 12, 13}  # red, blue, magenta: no shade of them reads on black in both palettes


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(hex_colour[i:i + 2], 16)) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


READS = frozenset((fg, bg) for fg in range(16) for bg in range(16)
                  if all(_contrast(p[fg], p[bg]) >= MINIMUM for p in (XTERM, TANGO)))


def readable_pair(fg: int, bg: int) -> tuple[int, int]:
    """The pair to draw for text `fg` on background `bg` (ANSI numbers 0–15): itself if it reads."""
    if (fg, bg) in READS:
        return fg, bg
    if fg in CHROMATIC and (fg | 8, bg) in READS:
        return fg | 8, bg
    if fg in BADGE and bg in (0, 8):
        base = fg & 7
        for text in (15, 0):
            if (text, base) in READS:
                return text, base
    for text in (15, 0, 11, 7, 14, 10):
        if (text, bg) in READS:
            return text, bg
    for background in (bg | 8, 0):
        for text in (0, 15):
            if (text, background) in READS:
                return text, background
    return 15, 0


def _number(colour: RichColor | None, default: int) -> int:
    if colour is None or colour.type == ColorType.DEFAULT:
        return default
    if colour.type != ColorType.STANDARD:
        colour = colour.downgrade(ColorSystem.STANDARD)
    return default if colour.number is None else colour.number


@lru_cache(maxsize=4096)
def readable_style(style: Style) -> Style:
    if style.dim:
        style = style + Style(dim=False)
    fg_colour, bg_colour = (style.bgcolor, style.color) if style.reverse else (style.color, style.bgcolor)
    fg = _number(fg_colour, DEFAULT_FG if not style.reverse else DEFAULT_BG)
    bg = _number(bg_colour, DEFAULT_BG if not style.reverse else DEFAULT_FG)
    new_fg, new_bg = readable_pair(fg, bg)
    if (new_fg, new_bg) == (fg, bg):
        return style
    return style + Style(reverse=False, color=RichColor.from_ansi(new_fg), bgcolor=RichColor.from_ansi(new_bg))


class ReadableSixteen(LineFilter):
    """Every style's colours as a readable pair of the 16 (see the module's doc)."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [Segment(text, None if style is None else readable_style(style), control)
                for text, style, control in segments]
