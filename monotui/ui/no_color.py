"""NO_COLOR done so that signals survive: the terminal's own colours, with bold, reverse and underline.

Textual honours NO_COLOR by greying every colour (its `Monochrome` filter) unless the theme is an ANSI one, and grey
237 on grey 235 makes a failing row *less* visible than a healthy one. On the ANSI theme Textual uses its `NoColor`
filter instead: every colour goes, attributes stay. monotui's styles put every signal in an attribute too
(render/rollouts.py), and app.tcss marks the cursor and focus by reverse and bold under `:nocolor`.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.filter import Monochrome, NoColor

from monotui.compat.textual import line_filters, set_line_filters

ANSI_THEME = "ansi-dark"  # Textual 8: the theme of the terminal's own ANSI colours


def plain_terminal(app: App[Any]) -> None:
    app.theme = ANSI_THEME
    # The filter was chosen when the app was built, for the theme it had then.
    set_line_filters(app, [NoColor() if isinstance(f, Monochrome) else f for f in line_filters(app)])
