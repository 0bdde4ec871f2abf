"""The `:` command line's one-line dialog at the bottom of the screen: type, Tab completes (Tab again: the next
match of what was typed, in turn), Enter runs, Esc closes. What it understands is monotui/ui/command_line.py."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static

from monotui.ui.command_line import completions


class CommandLineScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="command_line.cancel"),
                Binding("tab", "complete", "Complete", id="command_line.complete", priority=True)]

    def __init__(self, choices: list[str]) -> None:
        super().__init__()
        self.choices = choices
        self._cycle: tuple[list[str], int] | None = None  # Tab's matches of what was typed, and the one shown

    def compose(self) -> ComposeResult:
        with Horizontal(id="command-line-bar"):
            yield Static(":", id="command-line-prompt", markup=False)  # the prompt stays while typing
            yield Input(placeholder="command (Tab completes) — e.g. freeze, source east, q", id="command-line",
                        suggester=SuggestFromList(self.choices, case_sensitive=False), compact=True)

    def on_mount(self) -> None:
        self.query_one("#command-line", Input).focus()

    def action_complete(self) -> None:
        field = self.query_one("#command-line", Input)
        if self._cycle is not None and self._cycle[0][self._cycle[1]] == field.value:
            matches, shown = self._cycle  # Tab again on a completion: the next match of what was typed
            index = (shown + 1) % len(matches)
        else:
            matches, index = completions(field.value, self.choices), 0
        if not matches:
            self._cycle = None
            return
        self._cycle = (matches, index)
        field.value = matches[index]
        field.cursor_position = len(matches[index])

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#command-line")
    def _run(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)
