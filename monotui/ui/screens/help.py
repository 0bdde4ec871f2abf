"""The `?` screen: every key, built from the same registry as the bindings and the footer."""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from monotui.ui.commands import COMMANDS, Command, display_key


def help_table(read_only: bool, offered: Callable[[Command], bool] = lambda c: True,
               key_of: Callable[[Command], str] = display_key) -> Table:
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("Key")
    table.add_column("Command")
    table.add_column("What it does")
    table.add_column("[keymap] id", style="dim")  # what the config's [keymap] table remaps
    for command in COMMANDS:
        if command.mutating and (read_only or not offered(command)):
            continue
        table.add_row(Text(key_of(command), style="bold"), Text(command.label), Text(command.description),
                      Text(command.id))
    table.add_row(Text("ctrl+p", style="bold"), Text("Commands"), Text("Search every command by name"))
    table.add_row(Text("↑ ↓", style="bold"), Text("Move"), Text("Select a rollout"))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="help.close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, read_only: bool, offered: Callable[[Command], bool] = lambda c: True,
                 key_of: Callable[[Command], str] = display_key) -> None:
        super().__init__()
        self.read_only = read_only
        self.key_of = key_of  # the key as the user's keymap has it
        self.offered = offered  # actions no configured source can take are not listed

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            title = "monotui keys" + (" — READ-ONLY: actions are off" if self.read_only else "")
            yield Static(Text(title, style="bold"), markup=False)
            yield Static(help_table(self.read_only, self.offered, self.key_of), markup=False)
            yield Static(Text(
                "Every action asks for confirmation (Cancel is focused: Tab, then Enter to confirm) "
                "and is written to the audit log.", style="dim"), markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
