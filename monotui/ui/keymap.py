"""One registry of every command: it feeds the key bindings, the footer, the `?` help and the command palette.

Rollout actions come from the engine's `ROLLOUT_ACTIONS`, so the TUI and the CLI name them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

from monotui.engine.actions import ROLLOUT_ACTIONS


@dataclass(frozen=True)
class Command:
    id: str  # binding id: users may remap it with a keymap
    key: str
    action: str  # Textual action name
    label: str
    description: str
    mutating: bool = False
    show: bool = True
    key_display: str | None = None
    priority: bool = False  # checked before the focused widget sees the key
    short: str | None = None  # footer label, where 80 columns must hold every key
    parameter: str | None = None  # the action's one argument (the rollout action kind)

    @property
    def action_string(self) -> str:
        return f"{self.action}({self.parameter!r})" if self.parameter else self.action


COMMANDS: tuple[Command, ...] = (
    *(
        Command(f"rollout.{spec.kind.value}", spec.key, "rollout", spec.label, spec.description, mutating=True,
                short=spec.short, parameter=spec.kind.value)
        for spec in ROLLOUT_ACTIONS
    ),
    Command("rollback_suspect", "s", "rollback_suspect", "Act on suspect",
            "Select the newest suspect (a rollout or a flag that changed just before its service's health "
            "breached): roll the rollout back, or turn the flag off", mutating=True, short="Suspect"),
    # the kill switch: the selected service's flag (its suspect flag first), off or back on in production
    Command("flag.off", "x", "flag", "Flag off", "Kill switch: turn the selected service's flag off in production",
            mutating=True, parameter="off"),
    Command("flag.on", "X", "flag", "Flag on", "Turn the selected service's flag back on in production",
            mutating=True, show=False, parameter="on"),
    Command("silence", "S", "silence", "Silence alerts", "Silence the selected service's alerts (duration, comment)",
            mutating=True, short="Silence"),
    Command("expire_silence", "E", "expire_silence", "Expire silences", "Expire the selected service's silences",
            mutating=True, show=False),
    # priority: the filter must take focus before the next keys are dispatched, or fast typing after `/`
    # (or a paste) would reach the table and its action keys instead of the filter
    Command("filter", "slash", "filter", "Filter", "Show only rollouts matching text", key_display="/",
            priority=True),
    Command("clear_filter", "escape", "clear_filter", "Clear filter", "Show every rollout again", show=False,
            key_display="esc"),
    Command("refresh", "ctrl+r", "refresh", "Refresh", "Poll every source now", show=False),
    # movement as in k9s and vim; the arrows, PgUp/PgDn and Home/End work too
    Command("cursor.down", "j", "move", "Down", "Select the next rollout", show=False,
            parameter="down"),
    Command("cursor.up", "k", "move", "Up", "Select the previous rollout", show=False,
            parameter="up"),
    Command("cursor.top", "g", "move", "Top", "Select the first rollout", show=False,
            parameter="top"),
    Command("cursor.bottom", "G", "move", "Bottom", "Select the last rollout", show=False,
            parameter="bottom"),
    # sorting: lower-case o and shift+o, clear of every action key (k9s's shift+letter would clash with F, A, R, S, E)
    Command("sort.next", "o", "sort_next", "Sort", "Sort by the next column (Status, Err%, Age…), shown in the header",
            show=False),
    Command("sort.attention", "O", "sort_attention", "Attention order",
            "Back to the default order: what needs a human first", show=False),
    Command("help", "question_mark", "help", "Help", "Every key and what it does", key_display="?"),
    Command("quit", "q", "quit", "Quit", "Leave monotui"),
)


FOOTER_FIRST = ("help", "quit")  # the footer is cut at the right on a narrow terminal: these must stay visible


def bindings() -> list[Binding]:
    first = [c for c in COMMANDS if c.id in FOOTER_FIRST]
    return [
        Binding(c.key, c.action_string, c.short or c.label, show=c.show, id=c.id, key_display=c.key_display,
                tooltip=c.description, priority=c.priority)
        for c in (*first, *(c for c in COMMANDS if c.id not in FOOTER_FIRST))
    ]


_BY_ID = {c.id: c for c in COMMANDS}


def command(binding_id: str) -> Command:
    return _BY_ID[binding_id]


def display_key(command: Command) -> str:
    return command.key_display or command.key
