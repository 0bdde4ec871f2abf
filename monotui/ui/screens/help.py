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

from monotui.models import Phase
from monotui.render.flags import FLAG_MARK, RECENT_STYLE
from monotui.render.rollouts import OVER_THRESHOLD_STYLE, PHASE_STYLE, SUSPECT_STYLE
from monotui.ui.commands import COMMANDS, Command, display_key


def help_table(read_only: bool, offered: Callable[[Command], bool] = lambda c: True,
               key_of: Callable[[Command], str] = display_key) -> Table:
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("Key", no_wrap=True)
    # the id the config's [keymap] table remaps, dim under the command's name: a column of its own left "What it does"
    # a third of the box at 80 columns. A Text, not a str: Rich reads a str as markup ("[keymap]" a tag)
    table.add_column(Text("Command / [keymap] id"), no_wrap=True)
    table.add_column("What it does", ratio=1)
    for command in COMMANDS:
        if command.mutating and (read_only or not offered(command)):
            continue
        name = Text(command.label)
        name.append("\n" + command.id, style="dim")
        table.add_row(Text(key_of(command), style="bold"), name, Text(command.description))
    table.add_row(Text("ctrl+p", style="bold"), Text("Commands"), Text("Search every command by name"))
    table.add_row(Text("↑ ↓", style="bold"), Text("Move"), Text("Select a rollout"))
    return table


# What the table, the panels and the banner draw, and what each mark means (the styles are the render modules').
LEGEND: tuple[tuple[str, str, str], ...] = (
    ("⚠ SUSPECT", SUSPECT_STYLE, "changed just before its service's health breached: the first thing to look at"),
    ("✖ Degraded", PHASE_STYLE[Phase.DEGRADED][1],
     "unhealthy; ■ Aborted: stopped, traffic back on the stable revision"),
    ("‖ Paused", PHASE_STYLE[Phase.PAUSED][1], "waiting for a human (a manual gate) or paused"),
    ("▸ Progressing", PHASE_STYLE[Phase.PROGRESSING][1],
     "stepping through its canary or blue-green steps; ✔ Healthy: done and healthy"),
    ("↩ Rolled back", "magenta", "back on the previous revision"),
    ("? Healthy", "dim", "greyed, with ?: its source has not answered lately, the data is old"),
    ("9.6%", OVER_THRESHOLD_STYLE, "Err%: an error ratio over its threshold (a breach) is bold and underlined"),
    ("! 2", "bold red", "Alerts: alerts firing for the service"),
    (f"{FLAG_MARK} 2m", RECENT_STYLE, "Flags: a feature flag of the service changed (how long ago)"),
    ("⚑+ ⚑- ⚑~", "yellow", "What changed: a flag turned on, turned off, or its strategy (rollout %) changed"),
    ("⚠1/3↻4", "bold red", "Status: of the canary's 3 pods 1 is ready, 4 restarts in all (pods in the detail panel)"),
    ("↩ auto 4m", "bold magenta", "Auto: the platform rolled back (↩), aborted (■) or paused (‖) by itself"),
    ("2/7", "", "Step: the step reached / every step"),
    ("25/20%", "", "Weight: the share of traffic set / the share actually sent to the new revision"),
    ("<1m  3h", "", "Age: since the rollout started"),
    ("Err% ▼", "bold", "sorted by this column: ▼ largest or worst first, ▲ smallest, A–Z or newest first; "
                       "o: the next column, O: back to attention order"),
    ("▁▂▅▇", "", "the last minutes of a figure, oldest first; in the health chart ▲ the start, △ a step"),
    ("● ◌ ✖", "", "banner: a source connected, connecting, in error; data N s old: the freshest answer"),
    ("⚠ 2 suspects — s", SUSPECT_STYLE, "banner: how many rows are suspects; s opens the best evidenced first"),
    ("FROZEN since …", "bold reverse", "banner: production is frozen (Z): promotions refused, rollback allowed"),
    ("READ-ONLY — watching", "bold reverse", "banner: this session sends no action (--read-only, serve)"),
    ("a…z", "", "a name cut in the middle to fit; the detail panel shows it whole"),
)


def legend_table() -> Table:
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, title_justify="left")
    table.add_column(Text("Shows"), no_wrap=True)
    table.add_column(Text("Means"))
    for shown, style, meaning in LEGEND:
        table.add_row(Text(shown, style=style), Text(meaning))
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
            heading = Text(title, style="bold")
            # the footer under this dialog is the main screen's: say here how to leave and move
            heading.append("   esc closes · ↑ ↓ PgUp PgDn scroll", style="dim")
            yield Static(heading, markup=False)
            yield Static(help_table(self.read_only, self.offered, self.key_of), markup=False)
            yield Static(Text("What the screen shows", style="bold"), markup=False, classes="help-section")
            yield Static(legend_table(), markup=False)
            yield Static(Text(
                "Every action asks for confirmation (Cancel is focused: Tab, then Enter to confirm) "
                "and is written to the audit log.", style="dim"), markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
