"""The operator's open dialog, mirrored read-only in an observer's session (`monotui serve --follow`).

The operator's side (`dialog_view`) reads what the dialog on top shows — its kind, its lines of text, its button
labels — as plain, cleaned text: only what is needed to draw it (never a typed reason, never a plan or a target
that could be acted on). The observer's side (`MirrorScreen`) draws that text, with the buttons drawn but disabled:
nothing in it can act (it holds no engine, no flow, no plan), and the observer's session is read-only besides.
Escape stops following and closes it; the mirror closes by itself when the operator closes their dialog."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Static

from monotui.text import clean

MAX_LINES = 24  # of a dialog's text
LINE = 200  # characters a line
SEP = "\n"  # between lines (each line is cleaned: no newline survives inside one)


def dialog_view(screen: Screen[Any]) -> tuple[str, str, str]:
    """(kind, body, buttons) of the dialog `screen` as it is shown now: the kind is its class name without
    "Screen"; the body its visible text widgets, one cleaned line each; the buttons their labels."""
    kind = type(screen).__name__.removesuffix("Screen")
    lines: list[str] = []
    for widget in screen.query(Static):
        if isinstance(widget, Button) or not widget.display:
            continue
        content = widget.content
        text = content.plain if isinstance(content, Text) else content if isinstance(content, str) else ""
        lines += [clean(line, LINE) for line in text.splitlines() if line.strip()]
    buttons = [clean(str(b.label), 40) for b in screen.query(Button) if b.display]
    return clean(kind, 40), SEP.join(lines[:MAX_LINES]), SEP.join(buttons[:4])


class MirrorScreen(ModalScreen[None]):
    """What the operator has open, drawn read-only. `show` updates it in place."""

    DEFAULT_CSS = """
    MirrorScreen { align: center middle; }
    #mirror { width: 74; max-width: 100%; height: auto; max-height: 100%; border: thick $warning;
              background: $surface; padding: 0 1; }
    #mirror-buttons { height: auto; align: center middle; }
    #mirror-buttons Button { margin: 0 1; }
    """
    BINDINGS = [Binding("escape", "leave", "Stop following", id="mirror.leave")]

    def __init__(self, actor: str, title: str, kind: str, body: str, buttons: str) -> None:
        super().__init__()
        self.actor = actor
        self.view = (title, kind, body, buttons)
        self.closed = False

    @staticmethod
    def _lines(text: str) -> Text:
        return Text("\n").join(Text(clean(line, LINE)) for line in text.split(SEP)[:MAX_LINES] if line)

    @staticmethod
    def _buttons(buttons: str) -> list[Button]:
        """The operator's buttons, drawn disabled: inert, never focused, never pressed."""
        return [Button(clean(label, 40), classes="mirror-button", disabled=True)
                for label in buttons.split(SEP) if label]

    def _note(self) -> Text:
        who = clean(self.actor, 60) or "the operator"
        return Text.assemble((f"{who}'s dialog, mirrored read-only", "bold reverse"),
                             " · Esc: stop following · nothing here can act")

    def compose(self) -> ComposeResult:
        title, kind, body, buttons = self.view
        with Vertical(id="mirror"):
            yield Static(self._note(), id="mirror-note", markup=False)
            yield Static(Text(clean(title or kind, 120), style="bold"), id="mirror-title", markup=False)
            yield Static(self._lines(body), id="mirror-body", markup=False)
            with Horizontal(id="mirror-buttons"):
                yield from self._buttons(buttons)

    def show(self, title: str, kind: str, body: str, buttons: str) -> None:
        """The operator's dialog changed (a target changed, a warning appeared): draw it as it is now."""
        if (title, kind, body, buttons) == self.view:
            return
        old_buttons = self.view[3]
        self.view = (title, kind, body, buttons)
        self.query_one("#mirror-title", Static).update(Text(clean(title or kind, 120), style="bold"))
        self.query_one("#mirror-body", Static).update(self._lines(body))
        if buttons != old_buttons:
            row = self.query_one("#mirror-buttons", Horizontal)
            row.remove_children()
            row.mount_all(self._buttons(buttons))

    def close(self) -> None:
        """The operator closed their dialog: close now, or (something of the observer's own is above this
        mirror) as soon as this mirror is on top again."""
        self.closed = True
        if self.is_current:
            self.dismiss(None)

    def on_screen_resume(self) -> None:
        if self.closed:
            self.dismiss(None)

    def action_leave(self) -> None:
        self.dismiss(None)
