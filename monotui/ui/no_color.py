"""The terminal's own colours, chosen so that signals survive: NO_COLOR, and terminals of 16 colours.

NO_COLOR: Textual honours it by greying every colour (its `Monochrome` filter) unless the theme is an ANSI one, and
grey 237 on grey 235 makes a failing row *less* visible than a healthy one. On the ANSI theme Textual uses its
`NoColor` filter instead: every colour goes, attributes stay. monotui's styles put every signal in an attribute too
(render/rollouts.py), and app.tcss marks the cursor and focus by reverse and bold under `:nocolor`. Textual takes
`NO_COLOR=` (the empty string) as set; no-color.org says it is not, so colour stays on (`no_color_asked`).

16 colours (TERM=xterm, the Linux console): a truecolor theme is brought down by Rich to the nearest of the 16
colours, and its picks are unreadable (the PRODUCTION badge magenta on bright black, 1.17:1 in xterm's palette). On
such a terminal the app takes the ANSI (dark) theme, whose colours are the terminal's own, and draws each style as a
pair that reads at WCAG 4.5:1 in xterm's and Tango's palettes (readable_colours.py;
tests/test_sixteen_colours_contrast.py).
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.filter import Monochrome, NoColor

from monotui.colour_env import no_color_asked
from monotui.compat.textual import line_filters, set_line_filters
from monotui.ui.readable_colours import ReadableSixteen

ANSI_THEME = "ansi-dark"  # Textual 8: the theme of the terminal's own ANSI colours
FEW_COLOURS = {"standard", "windows"}  # Rich's colour systems of 16 (or 8) colours


def plain_terminal(app: App[Any]) -> None:
    app.theme = ANSI_THEME
    # The filter was chosen when the app was built, for the theme it had then.
    set_line_filters(app, [NoColor() if isinstance(f, Monochrome) else f for f in line_filters(app)])


def choose_colours(app: App[Any]) -> None:
    """Called once the app is built: NO_COLOR (set and not empty) → the plain terminal; `NO_COLOR=` → colour, as
    if it were not set; the readable pairs of `ReadableSixteen` ready for an ANSI theme."""
    if app.no_color and not no_color_asked():
        app.no_color = False
        set_line_filters(app, [f for f in line_filters(app) if not isinstance(f, (Monochrome, NoColor))])
    if app.no_color:
        plain_terminal(app)
    set_line_filters(app, [*line_filters(app), ReadableSixteen(enabled=False)])
    follow_theme(app)


def sixteen_colours(app: App[Any]) -> None:
    """On a real terminal of 16 colours, the ANSI theme (called when the app mounts: only then is it known whether it
    draws on a terminal; a headless run, as Pilot's, is not one)."""
    if not app.no_color and not app.is_headless and app.console.color_system in FEW_COLOURS:
        app.theme = ANSI_THEME
        follow_theme(app)


def follow_theme(app: App[Any]) -> None:
    """The readable pairs whenever the theme is the terminal's own 16 colours (chosen above, or by the user), in
    colour: under NO_COLOR there is no colour to choose."""
    for line_filter in line_filters(app):
        if isinstance(line_filter, ReadableSixteen):
            line_filter.enabled = app.current_theme.ansi and not app.no_color
