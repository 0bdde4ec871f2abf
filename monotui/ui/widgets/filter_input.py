"""The filter line's input: Enter and Esc leave it at once; keys already on their way to it go where they were meant.

A terminal delivers a fast typist's `/cart⏎p` (or a paste) as one burst. Textual forwards each key to the widget
focused when the app reads it, so the `p` is queued here before Enter is handled; an Input's Enter is a binding
that runs later still, and a focus change lands after that. So `p` became a letter of the filter instead of the
table's pause key. Here Enter and Esc are handled as they arrive (focus moves synchronously), and a key that reaches
this input after focus left it is sent back to the app as the key it was, to be delivered to the focused widget."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import events
from textual.widgets import Input


class FilterInput(Input):
    def __init__(self, *, on_leave: Callable[[str], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._leave_to = on_leave  # called with "enter" or "escape"; it moves focus before returning

    async def on_key(self, event: events.Key) -> None:
        if self.screen.focused is not self:  # sent here before Enter or Esc moved focus on: deliver it anew
            event.stop()
            event.prevent_default()
            self.app.post_message(events.Key(event.key, event.character))
            return
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self, self.value))
            self._leave_to("enter")
        elif event.key == "escape":
            event.stop()
            event.prevent_default()
            self._leave_to("escape")
