"""The command table: every command monotui offers, one entry each — its binding id, key, label, whether it mutates,
the capability a source needs for it, and its `why_not(context)`: can it act now, and if not, why.

That one answer feeds the key bindings (`check_action`: act, dim, or not offered), the footer's dimming, the `?` help,
the command palette and the line a key that cannot act shows instead of silence. Rollout actions come from the
action table (`monotui.action_kinds.ROLLOUT_ACTIONS`), so the TUI and the CLI name them the same way. A command is
one entry here and the action that runs it (a flow in monotui/ui/flows, or a screen method).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from textual.binding import Binding

from monotui.action_kinds import ROLLOUT_ACTIONS, ActionKind, ActionSpec, action_spec
from monotui.config import Settings
from monotui.engine.core import Engine
from monotui.engine.state import RolloutView
from monotui.text import clean
from monotui.ui.flows import kill_switch
from monotui.ui.suspects import RowSuspect

READ_ONLY = "read-only: actions are off"
SELECT_FIRST = "select a rollout first"
NO_SUSPECT = "no suspect yet: no service breached its thresholds after a change"


@dataclass(frozen=True)
class Answer:
    """Can a command act now. `act`: True, it acts; None, it is shown dimmed; False, it is not offered at all
    (Textual's `check_action` values). `why`: the one line a key that cannot act says (None: say nothing)."""

    act: bool | None
    why: str | None = None


ACTS = Answer(True)


class Context(Protocol):
    """What a command's `why_not` may look at: what the screen shows and what the sources can do."""

    @property
    def engine(self) -> Engine: ...

    @property
    def settings(self) -> Settings: ...

    def selected_view(self) -> RolloutView | None: ...

    def suspect(self) -> RowSuspect | None:
        """The best evidenced suspect the screen shows that monotui can act on."""
        ...

    def keys_free(self) -> bool:
        """The rows have the keys: no dialog is open and the filter is not being typed in."""
        ...


@dataclass(frozen=True)
class Capability:
    """What a source must be able to do for a command to be offered (the `?` help lists a mutating command only
    when a configured source can)."""

    name: str
    of: Callable[[Engine, str], bool]  # can this source do it

    def offered(self, engine: Engine) -> bool:
        return any(self.of(engine, source) for source in engine.providers)


def can_do(kind: ActionKind) -> Capability:
    return Capability(f"rollout.{kind.value}", lambda engine, source: engine.can(source, kind))


FLAGS = Capability("flags", lambda engine, source: engine.can_flag(source))


def no_such_action(spec: ActionSpec, source: str) -> str:
    """The refusal for an action the source's kind cannot take: the kinds that can come from the backend registry."""
    return f"{spec.verb}: source {clean(source, 40)} has no such action ({Engine.kinds_that_can(spec.kind)} only)"


def _acts(command: Command, context: Context) -> Answer:
    return ACTS


def _rollout(command: Command, context: Context) -> Answer:
    kind = ActionKind(str(command.parameter))
    engine = context.engine
    view = context.selected_view()
    if view is None:
        return Answer(None if command.needs is None or command.needs.offered(engine) else False, SELECT_FIRST)
    if view.read_only:
        return Answer(False, f"read-only: source {clean(view.source, 40)} takes no actions")
    spec = action_spec(kind)
    if not engine.can(view.source, kind):
        return Answer(False, no_such_action(spec, view.source))
    if engine.pending_resend(view.source, view.rollout.id, kind):
        return ACTS  # its outcome is unknown: the key offers to send the same intent again
    if frozen := engine.frozen(view.source, view.rollout.service, kind):  # the engine refuses it too, nothing sent
        return Answer(None, f"{spec.verb}: {clean(frozen, 300)} (pause, abort and rollback stay allowed)")
    reason = spec.why_not(view.rollout)  # the engine's answer: the CLI says the same
    return Answer(None, clean(reason, 300)) if reason else ACTS


def _suspect(command: Command, context: Context) -> Answer:
    return ACTS if context.suspect() is not None else Answer(None, NO_SUSPECT)


def _flag(command: Command, context: Context) -> Answer:
    # offered (in the footer) only when the selected service has a flag the key would change
    view = context.selected_view()
    enabled = command.parameter == "on"
    if view is not None and kill_switch.candidates(context.engine, view, enabled):
        return ACTS
    return Answer(False, kill_switch.why_not(context.engine, view, enabled))


def _silence(command: Command, context: Context) -> Answer:
    engine = context.engine
    if not engine.alert_sources():
        return Answer(False, "no alerts: no Alertmanager source is configured")
    view = context.selected_view()
    if view is None:
        return Answer(None, SELECT_FIRST)
    alerts = [a for a in engine.state.all_alerts() if a.service == view.rollout.service]
    service = clean(view.rollout.service, 60)
    if not alerts:
        return Answer(None, f"no firing alerts for {service}")
    if command.id == "expire_silence" and not any(a.silenced for a in alerts):
        return Answer(None, f"{service} has no silences")
    return ACTS


FREEZE = Capability("freeze", lambda engine, source: engine.can(source, ActionKind.PAUSE))


def _freeze(command: Command, context: Context) -> Answer:
    engine = context.engine
    if not FREEZE.offered(engine):
        return Answer(False, "nothing to freeze: no source takes rollout actions")
    holds = engine.holds()
    if command.id == "unfreeze":
        return ACTS if holds else Answer(None, "not frozen: nothing to unfreeze")
    scope = engine.freezes.scope(None)
    if holds and all(any(h.source == s and not h.services for h in holds) for s in scope) \
            and not engine.freezes.anything_moving():  # frozen, and nothing left moving: nothing to do
        return Answer(None, f"already {clean(holds[0].text(), 300)}")
    return ACTS


def _keys_free(command: Command, context: Context) -> Answer:
    # a priority binding: only on the rows' screen, and not while typing in the filter itself
    return ACTS if context.keys_free() else Answer(False)


def _share(command: Command, context: Context) -> Answer:
    pairing = getattr(context, "pairing", None)
    if pairing is not None and pairing.observer:
        return Answer(False, "this session follows the operator: it does not share")
    return ACTS


def _follow(command: Command, context: Context) -> Answer:
    pairing = getattr(context, "pairing", None)
    if pairing is None or not pairing.observer:
        return Answer(False, "following is for `monotui serve --follow` sessions")
    return ACTS


def _history(command: Command, context: Context) -> Answer:
    from monotui.engine.revisions import lists_revisions

    view = context.selected_view()
    if view is None:
        return Answer(None, SELECT_FIRST)
    if not lists_revisions(context.engine, view.source):
        return Answer(None, f"history: source {clean(view.source, 40)} does not list revisions")
    return ACTS


def _links(command: Command, context: Context) -> Answer:
    from monotui.links import has_links

    view = context.selected_view()
    if view is None:
        return Answer(None, SELECT_FIRST)
    if not has_links(context.settings, view.source, view.rollout.service):
        return Answer(None, "no links: add dashboard_url, logs_url, traces_url or commit_url under [links] in the "
                            "config")
    return ACTS


LOGS = Capability("logs", lambda engine, source: engine.can_stream_logs(source))


def _logs(command: Command, context: Context) -> Answer:
    view = context.selected_view()
    if view is None:
        return Answer(None, SELECT_FIRST)
    if not context.engine.can_stream_logs(view.source):
        return Answer(False, f"logs: source {clean(view.source, 40)} has no logs")
    return ACTS


Rule = Callable[["Command", Context], Answer]


@dataclass(frozen=True)
class Command:
    id: str  # binding id: users may remap it with a keymap
    key: str
    action: str  # Textual action name, run on the rollouts screen ("app." for the app's own)
    label: str
    description: str
    mutating: bool = False
    show: bool = True
    key_display: str | None = None
    priority: bool = False  # checked before the focused widget sees the key
    short: str | None = None  # footer label, where 80 columns must hold every key
    parameter: str | None = None  # the action's one argument (the rollout action kind)
    needs: Capability | None = None  # what a source must be able to do for the command to be offered
    whole: bool = False  # acts on production, not on the selected row (the palette names no service)
    aliases: tuple[str, ...] = ()  # more words for it on the `:` command line (ui/command_line.py)
    rule: Rule = field(default=_acts, repr=False, compare=False)

    @property
    def action_string(self) -> str:
        return f"{self.action}({self.parameter!r})" if self.parameter else self.action

    def why_not(self, context: Context) -> Answer:
        """Can this command act now, and if not, why: the one answer for keys, footer, help, palette and notice.
        Read-only mode drops every mutating command here, and only here."""
        if self.mutating and context.settings.read_only:
            return Answer(False, READ_ONLY)
        return self.rule(self, context)

    def offered(self, engine: Engine) -> bool:
        """Whether any configured source can do it (the `?` help lists only these)."""
        return self.needs is None or self.needs.offered(engine)


COMMANDS: tuple[Command, ...] = (
    *(
        Command(f"rollout.{spec.kind.value}", spec.key, "rollout", spec.label, spec.description, mutating=True,
                short=spec.short, parameter=spec.kind.value, needs=can_do(spec.kind), rule=_rollout)
        for spec in ROLLOUT_ACTIONS
    ),
    Command("rollback_suspect", "s", "rollback_suspect", "Act on suspect",
            "Select the best evidenced suspect (a rollout or a flag that changed before its service's health "
            "breached, on enough traffic to explain it): roll the rollout back, or turn the flag off; again: the next",
            mutating=True, short="Suspect", rule=_suspect),
    # the kill switch: the selected service's flag (its suspect flag first), off or back on in production
    Command("flag.off", "x", "flag", "Flag off", "Kill switch: turn the selected service's flag off in production",
            mutating=True, parameter="off", needs=FLAGS, rule=_flag),
    Command("flag.on", "X", "flag", "Flag on", "Turn the selected service's flag back on in production",
            mutating=True, show=False, parameter="on", needs=FLAGS, rule=_flag),
    Command("silence", "S", "silence", "Silence alerts", "Silence the selected service's alerts (duration, comment)",
            mutating=True, short="Silence", rule=_silence),  # listed without an Alertmanager: its key says why
    Command("expire_silence", "E", "expire_silence", "Expire silences", "Expire the selected service's silences",
            mutating=True, show=False, rule=_silence),
    # stop the line: every progressing rollout paused, promotions refused until unfrozen (engine/freeze.py)
    Command("freeze", "Z", "freeze", "Freeze production",
            "Stop the line: pause every progressing rollout and refuse promote, promote-full and resume until "
            "unfrozen (rollback and abort stay allowed)", mutating=True, show=False, needs=FREEZE, whole=True,
            rule=_freeze),
    Command("unfreeze", "U", "unfreeze", "Unfreeze",
            "Lift the freeze and resume only what it paused (each still paused at the same revision)",
            mutating=True, show=False, needs=FREEZE, whole=True, rule=_freeze),
    # priority: the filter must take focus before the next keys are dispatched, or fast typing after `/`
    # (or a paste) would reach the table and its action keys instead of the filter
    # the selected rollout's revisions (ui/screens/history.py): Enter there rolls back to one, pinned; d the diff
    Command("history", "h", "history", "History",
            "The selected rollout's revisions and how each ended; Enter rolls back to one (confirmed, audited), "
            "d shows what changed", show=False, rule=_history),
    Command("links", "u", "links", "Links", "Open or copy the selected rollout's dashboard, logs, traces and commit "
            "links (your config's URL templates)", show=False, rule=_links),
    Command("filter", "slash", "filter", "Filter", "Show only rollouts matching text", key_display="/",
            priority=True, rule=_keys_free),
    # k9s's `:`: a command of this table by its word, or a jump (ui/command_line.py)
    Command("command_line", "colon", "command_line", "Command line",
            "Type a command or a jump (:freeze, :source east, :cart-api, :q); Tab completes", key_display=":",
            show=False, priority=True, rule=_keys_free),
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
    # pairing: the operator shares the view; an observer of `serve --follow` follows it again after browsing
    Command("share", "w", "share", "Share view",
            "Let `monotui serve --follow` observers follow your selection, filter and dialog (again: stop)",
            show=False, rule=_share),
    Command("follow", "f", "follow", "Follow", "Follow the operator's view again (or stop following)", show=False,
            rule=_follow),
    Command("timeline", "T", "timeline", "Timeline", "What happened, in order, full screen: deploys, rollbacks, flag "
            "flips, alerts, breaches, freezes and every audited action with its actor (/ service, o order, p pause)",
            show=False, whole=True),
    Command("logs", "l", "logs", "Logs", "Stream the selected rollout's canary logs (its instances' lines, "
            "following; t: the stable revision's)", show=False, needs=LOGS, rule=_logs),
    Command("help", "question_mark", "help", "Help", "Every key and what it does", key_display="?"),
    Command("quit", "q", "app.quit", "Quit", "Leave monotui", aliases=("q",)),  # the app's own action
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


_BY_ACTION = {(c.action, c.parameter): c for c in COMMANDS}


def for_action(action: str, parameters: tuple[object, ...]) -> Command | None:
    """The command a Textual action (name and parameters) runs; None for an action not in the table."""
    return _BY_ACTION.get((action, str(parameters[0]) if parameters else None))
