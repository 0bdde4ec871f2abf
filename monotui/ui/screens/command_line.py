"""The `:` command line's one-line dialog at the bottom of the screen: type, Tab completes, Enter runs, Esc closes.
What it understands is monotui/ui/command_line.py."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input

from monotui.ui.command_line import complete


class CommandLineScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="command_line.cancel"),
                Binding("tab", "complete", "Complete", id="command_line.complete", priority=True)]

    def __init__(self, choices: list[str]) -> None:
        super().__init__()
        self.choices = choices

    def compose(self) -> ComposeResult:
        yield Input(placeholder=":command (Tab completes) — e.g. freeze, source east, q", id="command-line",
                    suggester=SuggestFromList(self.choices, case_sensitive=False), compact=True)

    def on_mount(self) -> None:
        self.query_one("#command-line", Input).focus()

    def action_complete(self) -> None:
        field = self.query_one("#command-line", Input)
        if (choice := complete(field.value, self.choices)) is not None:
            field.value = choice
            field.cursor_position = len(choice)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#command-line")
    def _run(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)
