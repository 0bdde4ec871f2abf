"""The monotui Textual app: wires the engine's state to the widgets and the keys to the engine's actions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.notifications import SeverityLevel
from textual.widgets import Input

from monotui import startup_gc
from monotui.engine.actions import ActionPlan, action_spec
from monotui.engine.attention import sort_key
from monotui.engine.core import ActionOutcome, Engine, describe
from monotui.engine.row_order import RowOrder, ordered
from monotui.engine.state import RolloutView, SourceEvent
from monotui.models import ActionKind, Alert
from monotui.providers.base import ProviderError
from monotui.render.detail import SuspectKeys, alert_line, detail, event_line
from monotui.render.rollouts import COLUMN_LABELS, SORT_KEYS, RowRenderer, matches
from monotui.text import clean
from monotui.ui import keymap, kill_switch
from monotui.ui.commands import MonotuiCommands
from monotui.ui.kill_switch import RowSuspect, suspects_of
from monotui.ui.messages import SourceUpdated
from monotui.ui.no_color import plain_terminal
from monotui.ui.why_not import why_not
from monotui.ui.widgets.banner import ProductionBanner
from monotui.ui.widgets.panels import RenderablePanel
from monotui.ui.widgets.rollouts_table import RolloutsTable
from monotui.ui.widgets.source_alerts import SourceAlerts
from monotui.ui.widgets.steady_footer import SteadyFooter

if TYPE_CHECKING:
    from monotui.ui.screens.confirm import Confirmation
    from monotui.ui.screens.silence import SilenceRequest

# The dialogs (monotui.ui.screens) are imported when a key opens one: not on the way to the first rows.

Clock = Callable[[], datetime]
EVENTS_SHOWN = 200
log = logging.getLogger(__name__)


class MonotuiApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "monotui"
    BINDINGS = keymap.bindings()  # type: ignore[assignment]  # list[Binding] is a valid BindingType list
    COMMANDS = App.COMMANDS | {MonotuiCommands}

    def __init__(self, engine: Engine, *, clock: Clock | None = None, poll: bool = True) -> None:
        super().__init__()
        self.engine = engine
        self.settings = engine.settings
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self._poll = poll
        # the rows as shown (filtered, sorted), kept by change like the state's own order
        self._feed = engine.state.watch()
        self._shown = RowOrder()
        self._reorder = True  # the filter or the sort changed: lay the shown rows out again
        self._truncated: tuple[int, int] | None = None
        self._filter = ""
        self._last_version = -1
        self._events_shown: object = False
        self._event_lines: dict[int, tuple[SourceEvent, Text]] = {}  # id → the event (kept: ids stay unique), line
        self._bindings_for: object = False
        self._history: dict[str, object] = {}  # service → the last 30 minutes from Prometheus
        self._ticks = 0
        self._suspects = 0
        self._sort: str | None = None  # a column key, or None: attention order
        self.rows = RowRenderer(self.settings.thresholds)
        self.crash: str | None = None  # set when an unexpected exception stopped the app
        try:
            self.theme = self.settings.theme
        except Exception:  # an unknown theme name is not worth refusing to start during an incident
            self.theme = "textual-dark"
        if self.no_color:
            plain_terminal(self)

    # ---- layout -----------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ProductionBanner()
        yield SourceAlerts()
        yield Input(placeholder="filter: service, status, version, author, environment…", id="filter",
                    compact=True)
        yield RolloutsTable()
        with Horizontal(id="bottom"):
            yield RenderablePanel(id="detail", title="Rollout")
            yield RenderablePanel(id="events", title="What changed")
        # ctrl+p stays (listed in `?`); its footer key would push `s` and `/` off an 80-column footer
        yield SteadyFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._apply_keymap()
        self.table = self.query_one(RolloutsTable)
        # the table asks for a row's cells when it draws the row: only rows on screen are ever rendered
        self.table.cells_of = lambda key: self.rows.cells(self.engine.state._views[key], self.clock(), ages=True)
        # the Flags cell: a flag of the row's service changed in the suspect window (brought to the clock with ages)
        self.rows.flag_change = lambda service: self.engine.state.recent_flag_change(service, self.clock())
        self.banner = self.query_one(ProductionBanner)
        self.alerts = self.query_one(SourceAlerts)
        self.filter_input = self.query_one("#filter", Input)
        self.detail_panel = self.query_one("#detail", RenderablePanel)
        self.events_panel = self.query_one("#events", RenderablePanel)
        self.filter_input.display = False
        self.table.focus()
        self.refresh_views()
        self.table.when_rows_drawn = self._first_rows_drawn
        if self._poll:
            self.engine.rows_first = True  # the flag sources start once the first rows are drawn
            for source in self.engine.providers:
                self._poll_source(source)
        self.set_interval(1.0, self._tick)
        if startup_gc.paused():  # the command paused the cycle collector for start-up: back after the first rows
            self.set_timer(startup_gc.RESUME_AT_MOST_S, startup_gc.resume)
        for warning in self.engine.warnings:
            self.notify(warning, severity="warning", timeout=30, markup=False)

    def _apply_keymap(self) -> None:
        """The config's [keymap]: binding id → keys. An unknown id is named, not fatal."""
        wanted = dict(self.settings.keymap)
        unknown = sorted(set(wanted) - {c.id for c in keymap.COMMANDS})
        for binding_id in unknown:
            del wanted[binding_id]
        if unknown:
            self.notify(f"keymap: unknown binding id(s) {', '.join(clean(u, 40) for u in unknown)}; see ? for ids",
                        severity="warning", markup=False, timeout=10)
        if wanted:
            self.set_keymap(wanted)

    # ---- data -------------------------------------------------------------------------------------------

    @work(group="poll", exit_on_error=False)
    async def _poll_source(self, source: str) -> None:
        async for update in self.engine.updates(source):
            self.post_message(SourceUpdated(update))

    def on_source_updated(self, message: SourceUpdated) -> None:
        if self.engine.unresolved:
            for plan in self.engine.adopt_unresolved():
                key = self.key_of(f"rollout.{plan.spec.kind.value}")  # as the user's keymap has it
                self.notify(f"{clean(plan.summary(), 200)}: outcome unknown (sent earlier, no outcome in the "
                            f"audit log). Press {key} on it to send it again with the same key.",
                            severity="warning", markup=False, timeout=30)
        self.refresh_views()
        self._recheck_dialog()

    def _first_rows_drawn(self) -> None:
        self.engine.rows_shown()
        if startup_gc.paused():
            # not at once: Textual's writer thread still has the frame to write, and a full collection holds the GIL
            self.set_timer(startup_gc.AFTER_FIRST_ROWS_S, startup_gc.resume)

    def _recheck_dialog(self) -> None:
        """An open confirmation learns at once when its target changed (it then refuses to confirm)."""
        if not self.screen_stack:  # shutting down
            return
        if len(self.screen_stack) < 2:  # no dialog open
            return
        from monotui.ui.screens.confirm import ConfirmActionScreen
        from monotui.ui.screens.confirm_flag import ConfirmFlagScreen

        screen = self.screen
        if isinstance(screen, ConfirmActionScreen):
            now = self.engine.state.rollout(screen.plan.source, screen.plan.rollout.id)
            screen.recheck(self.engine.target_changed(screen.plan), describe(now) if now else None)
        elif isinstance(screen, ConfirmFlagScreen):
            kill_switch.recheck(self, screen)

    def _tick(self) -> None:
        self.refresh_views(force=True)  # ages and staleness move with the clock
        self._ticks += 1
        if self._ticks % 15 == 0:
            self._load_history()

    def refresh_views(self, force: bool = False) -> None:
        if not self.screen_stack:  # shutting down: a last poll may still arrive
            return
        state = self.engine.state
        now = self.clock()
        timestamp = now.timestamp()
        self.alerts.show(state, timestamp)
        if force or state.version != self._last_version:
            self._last_version = state.version
            self._update_views(now, force)
        self.banner.show(state, timestamp, self.settings.read_only, self.settings.actor, self._suspects,
                         self.key_of("rollback_suspect"), self._truncated)

    def key_of(self, binding_id: str) -> str:
        """The key bound to a command now, as shown to the user (the user's keymap may have moved it)."""
        command = keymap.command(binding_id)
        keys = self._keymap.get(binding_id)
        key = keys.split(",")[0].strip() if keys else command.key
        return command.key_display if key == command.key and command.key_display else self.get_key_display(
            Binding(key, command.action))

    def _update_views(self, now: datetime, ages: bool) -> None:
        """Bring the table up to date with what changed since the last call; with `ages`, also the visible rows'
        ages (the clock). The cost follows the rows that changed, not the size of production."""
        state = self.engine.state
        state.refresh(now)
        changed, removed = self._feed.drain()
        if len(changed) > max(64, len(self._shown) // 4):
            self._reorder = True  # many rows at once (the first list, an outage): one sort beats that many moves
        for key in removed:
            self.rows.forget(key)
        if self._reorder:  # the user changed the filter or the sort: one pass and one sort
            self._reorder = False
            self._shown = ordered([(self._sort_key(view), key) for key in state.order
                                   if matches(view := state._views[key], self._filter)])
            moved = True
        else:
            moved = False
            for key in removed:
                moved |= self._shown.discard(key)
            for key in changed:
                view = state._views[key]
                moved |= (self._shown.put(key, self._sort_key(view)) if matches(view, self._filter)
                          else self._shown.discard(key))
        self._suspects = sum(1 for key in state.suspect_keys if not state._views[key].read_only)
        limit = self.settings.max_rows
        total = len(self._shown)
        self._truncated = (limit, total) if total > limit else None
        selected = self.table.selected_key
        with self.batch_update():
            self.table.sync(self._shown, limit, changed, moved)
            if ages:
                self.table.refresh_ages()
            alerts = state.all_alerts()
            newest = (state.events[-1] if state.events else None, tuple(alerts))
            news = newest != self._events_shown  # a new event (a flag change among them) may be the selected row's
            if ages or news or selected in changed or selected != self.table.selected_key:  # else it is as it was
                self._show_detail()
            # events carry clock times: nothing moves until a new one; a firing alert's line says how long ago
            if news or (ages and alerts):
                self._events_shown = newest
                self.events_panel.show(self._events_renderable(now, alerts))
        self._refresh_bindings_if_needed()

    def _sort_key(self, view: RolloutView) -> tuple[object, ...]:
        """The shown order: attention, or a column's order with attention breaking ties."""
        attention = (*sort_key(view.attention, view.rollout), view.key)
        return (SORT_KEYS[self._sort](view), attention) if self._sort is not None else attention

    @property
    def _views(self) -> dict[str, RolloutView]:
        """Every row's view by key (shown or filtered out)."""
        return self.engine.state._views

    def _events_renderable(self, now: datetime, alerts: list[Alert]) -> RenderableType:
        events = self.engine.state.recent_events(limit=EVENTS_SHOWN)
        lines = [alert_line(a, now) for a in alerts]
        # an event's line shows clock times only: built once, the same Text while shown (the panel then knows it)
        known, self._event_lines = self._event_lines, {}
        for e in events:
            hit = known.get(id(e))
            line = hit[1] if hit is not None and hit[0] is e else event_line(e, now)
            self._event_lines[id(e)] = (e, line)
            lines.append(line)
        return Group(*lines) if lines else Text("No events yet.", style="dim")

    def selected_view(self) -> RolloutView | None:
        key = self.table.selected_key if hasattr(self, "table") else None
        return self.engine.state.view(key) if key else None

    def _show_detail(self) -> None:
        view = self.selected_view()
        state = self.engine.state
        status = state.status(view.source) if view else None
        events = state.recent_events(view.source, view.rollout.service, limit=8) if view else []
        history = self._history.get(view.rollout.service) if view else None
        flags = [f for _, f in state.flags_of(view.rollout.service)] if view else []
        keys = SuspectKeys(self.key_of("rollback_suspect"), self.key_of("rollout.rollback"), self.key_of("flag.off"))
        self.detail_panel.show(detail(view, status, events, self.clock(), self.settings.thresholds, history, keys,
                                      flags))

    @on(RolloutsTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self._show_detail()
        self._refresh_bindings_if_needed()
        self._load_history()

    def _load_history(self) -> None:
        view = self.selected_view()
        if view is not None and self.engine.has_history:
            self._fetch_history(view.rollout.service)

    @work(group="history", exclusive=True, exit_on_error=False)
    async def _fetch_history(self, service: str) -> None:
        try:
            history = await self.engine.history(service)
        except ProviderError:
            return  # the sparklines from the poll history stay; the source's bar shows what is wrong
        if history is not None:
            self._history[service] = history
            self._show_detail()

    def _refresh_bindings_if_needed(self) -> None:
        # The footer is rebuilt (every key widget mounted again) only when what it offers changes: not at
        # every poll, nor when the cursor moves to a rollout offering the same actions (keys stalled behind it).
        if not self.screen_stack:  # shutting down
            return
        signature = tuple(self.check_action(c.action, (c.parameter,) if c.parameter else ())
                          for c in keymap.COMMANDS)
        if signature != self._bindings_for:
            self._bindings_for = signature
            self.refresh_bindings()

    # ---- actions ----------------------------------------------------------------------------------------

    def command_allowed(self, command: keymap.Command) -> bool:
        return bool(self.check_action(command.action, (command.parameter,) if command.parameter else ()))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter":
            # a priority binding: only on the main screen, and not while typing in the filter itself
            return len(self.screen_stack) == 1 and self.focused is not self.filter_input
        if action in ("silence", "expire_silence"):
            if self.settings.read_only or not self._alert_sources():
                return False
            view = self.selected_view()
            alerts = self._alerts_of(view.rollout.service) if view else []
            wanted = [a for a in alerts if a.silenced] if action == "expire_silence" else alerts
            return True if wanted else None
        if action == "rollback_suspect":
            if self.settings.read_only:
                return False
            return True if self._suspect() is not None else None
        if action == "flag":
            # offered (in the footer) only when the selected service has a flag the key would change
            view = self.selected_view()
            if self.settings.read_only or view is None:
                return False
            return bool(kill_switch.candidates(self, view, parameters[0] == "on"))
        if action != "rollout":
            return True
        if self.settings.read_only:
            return False  # read-only: mutating actions are not offered at all
        kind = ActionKind(str(parameters[0]))
        view = self.selected_view()
        if view is None:
            return None if any(self.engine.can(source, kind) for source in self.engine.providers) else False
        if view.read_only or not self.engine.can(view.source, kind):
            return False  # not offered: this source is read-only, or its engine has no such action
        if self.engine.pending_resend(view.source, view.rollout.id, kind):
            return True  # its outcome is unknown: the key offers to send the same intent again
        return True if action_spec(kind).applies(view.rollout) else None

    def on_key(self, event: events.Key) -> None:
        # A key whose binding cannot act now (disabled or hidden) lands here: say why instead of doing nothing.
        if len(self.screen_stack) != 1 or isinstance(self.focused, Input):
            return
        command = self._command_for_key(event.key)
        if command is None or self.command_allowed(command):
            return
        reason = self.why_not(command)
        if reason:
            event.stop()
            self.notify(reason, severity="warning", markup=False, timeout=4)

    def _command_for_key(self, key: str) -> keymap.Command | None:
        for command in keymap.COMMANDS:
            keys = self._keymap.get(command.id, command.key)
            if key in (k.strip() for k in keys.split(",")):
                return command
        return None

    def why_not(self, command: keymap.Command) -> str | None:
        """Why `command` cannot act now, in one line; None when it can."""
        return why_not(self, command)

    def _suspect(self) -> RowSuspect | None:
        """The newest suspect the screen shows that monotui can act on: a rollout, or a flag that is on. Only the
        suspect rows are looked at (the state keeps them), not every row."""
        state = self.engine.state
        views = [state._views[key] for key in state.suspect_keys if key in self._shown]
        suspects = [s for s in suspects_of(views) if self._can_act_on(s)]
        return max(suspects, key=lambda s: s.changed_at) if suspects else None

    def _can_act_on(self, suspect: RowSuspect) -> bool:
        if suspect.flag is None:
            return not suspect.view.read_only
        flag = suspect.flag.flag
        return (self.engine.can_flag(suspect.flag.source) and not self.engine.read_only(suspect.flag.source)
                and flag.enabled and not flag.unreadable)

    def _alert_sources(self) -> list[str]:
        return self.engine.alert_sources()

    def _alerts_of(self, service: str) -> list[Alert]:
        return [a for a in self.engine.state.all_alerts() if a.service == service]

    def action_silence(self) -> None:
        self._silence(expire=False)

    def action_expire_silence(self) -> None:
        self._silence(expire=True)

    def _silence(self, expire: bool) -> None:
        view = self.selected_view()
        if view is None:
            return
        service = view.rollout.service
        for source in self._alert_sources():
            alerts = [a for a in self.engine.state.sources[source].alerts if a.service == service]
            if not alerts:
                continue

            def chosen(request: SilenceRequest | None, source: str = source, alerts: list[Alert] = alerts) -> None:
                if request is None:
                    self.notify("Cancelled. Nothing was sent.", markup=False)
                    return
                self._send_silence(source, service, alerts, request, expire)

            from monotui.ui.screens.silence import SilenceScreen

            self.push_screen(SilenceScreen(service, source, len(alerts), expire), chosen)
            return

    @work(group="actions", exit_on_error=False)
    async def _send_silence(self, source: str, service: str, alerts: list[Alert], request: SilenceRequest,
                            expire: bool) -> None:
        if expire:
            ids = sorted({i for a in alerts for i in a.silenced_by})
            results = [await self.engine.expire_silence(source, service, i) for i in ids]
            ok = all(r[0] for r in results)
            text = f"Expired {len(ids)} silence(s) of {service}" if ok else "; ".join(r[1] for r in results)
        else:
            ok, detail = await self.engine.silence(source, service, request.duration_s, request.comment)
            text = f"Silenced {service} (silence {detail})" if ok else f"Silence of {service}: {detail}"
        self.notify(clean(text, 400), severity="information" if ok else "error", markup=False)
        await self.engine.refresh_once()
        self.refresh_views(force=True)

    def action_rollback_suspect(self) -> None:
        suspect = self._suspect()
        if suspect is None:
            self.notify("no suspect yet: no service breached its thresholds after a change", severity="warning",
                        markup=False)
            return
        self.table.move_cursor(row=self.table.index_of(suspect.view.key), animate=False)
        if suspect.flag is not None:  # a flag flip: the kill switch, straight to its confirmation
            # the flag as the engine sees it now (a row's suspect keeps the flag as it was when the row was
            # computed): the dialog must show, and pin, what is true now
            flag = self.engine.state.flag(suspect.flag.source, suspect.flag.flag.name) or suspect.flag.flag
            kill_switch.confirm(self, suspect.flag.source, flag, False)
            return
        self.action_rollout(ActionKind.ROLLBACK.value)

    def action_flag(self, which: str) -> None:
        view = self.selected_view()
        if view is None:
            self.notify("Select a rollout first.", severity="warning", markup=False)
            return
        kill_switch.open_for_view(self, view, which == "on")

    def action_rollout(self, kind: str) -> None:
        view = self.selected_view()
        if view is None:
            self.notify("Select a rollout first.", severity="warning", markup=False)
            return
        plan = self.engine.plan(view.source, view.rollout, ActionKind(kind))
        if self.engine.read_only(view.source):
            self._refuse(plan)
            return

        def confirmed(result: Confirmation | None) -> None:
            if result is None:
                self.notify(f"Cancelled: {clean(plan.summary(), 200)}. Nothing was sent.", markup=False)
                return
            self._execute(plan, result.reason, result.confirmed_by)

        from monotui.ui.screens.confirm import ConfirmActionScreen

        self.push_screen(ConfirmActionScreen(plan), confirmed)

    @work(group="actions", exit_on_error=False)
    async def _refuse(self, plan: ActionPlan) -> None:
        outcome = await self.engine.refuse(plan, "read-only mode: no mutating request is sent")
        self._show_outcome(outcome)

    @work(group="actions", exit_on_error=False)
    async def _execute(self, plan: ActionPlan, reason: str | None, confirmed_by: str) -> None:
        try:
            outcome = await self.engine.execute(plan, reason, confirmed_by=confirmed_by)
        except Exception as e:  # never silent: the engine maps every provider failure, so this is a bug
            self.notify(f"{clean(plan.summary(), 200)}: internal error ({type(e).__name__}); the outcome is "
                        "unknown — check the rollout before acting again", severity="error", markup=False,
                        timeout=30)
            raise
        self._show_outcome(outcome)

    def _show_outcome(self, outcome: ActionOutcome) -> None:
        severity: SeverityLevel = (
            "information" if outcome.ok else "warning" if outcome.outcome == "unknown" else "error")
        self.notify(clean(outcome.message(), 400), severity=severity, markup=False, timeout=8)
        self.refresh_views()

    def action_move(self, where: str) -> None:
        table = self.table
        if not table.row_count:
            return
        row = {"down": table.cursor_row + 1, "up": table.cursor_row - 1, "top": 0,
               "bottom": table.row_count - 1}[where]
        table.move_cursor(row=max(0, min(row, table.row_count - 1)), animate=False)

    def action_sort_next(self) -> None:
        """Sort by the next shown column; after the last, back to attention order."""
        shown = [key for key in self.table.shown_columns if key in SORT_KEYS]
        following = shown[shown.index(self._sort) + 1:] if self._sort in shown else shown
        self._set_sort(following[0] if following else None)

    def action_sort_attention(self) -> None:
        self._set_sort(None)

    @on(RolloutsTable.HeaderSelected)
    def _header_clicked(self, event: RolloutsTable.HeaderSelected) -> None:
        key = event.column_key
        if key in SORT_KEYS:
            self._set_sort(None if key == self._sort else key)

    def _set_sort(self, column: str | None) -> None:
        self._sort = column
        self._reorder = True
        self.table.mark_column(column, " ▼")
        self.refresh_views(force=True)
        self.notify(f"sorted by {COLUMN_LABELS[column]}" if column else "sorted by attention: what needs a human first",
                    markup=False, timeout=2)

    def action_filter(self) -> None:
        self.filter_input.display = True
        # focus now, not after a refresh: keys typed right after `/` must reach the filter, not the bindings
        self.screen.set_focus(self.filter_input)

    def action_clear_filter(self) -> None:
        if self.filter_input.display or self._filter:
            self.filter_input.value = ""
            self.filter_input.display = False
            self._filter = ""
            self._reorder = True
            self.table.focus()
            self.refresh_views(force=True)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._filter = event.value.strip()
        self._reorder = True
        self.refresh_views(force=True)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        if not self._filter:
            self.filter_input.display = False
        self.table.focus()

    def action_help(self) -> None:
        def offered(command: keymap.Command) -> bool:
            if command.action == "flag":
                return any(self.engine.can_flag(source) for source in self.engine.providers)
            kind = ActionKind(command.parameter) if command.action == "rollout" and command.parameter else None
            return kind is None or any(self.engine.can(source, kind) for source in self.engine.providers)

        from monotui.ui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.settings.read_only, offered, lambda c: self.key_of(c.id)))

    async def action_refresh(self) -> None:
        await self.engine.refresh_once()
        self.refresh_views(force=True)

    def _fatal_error(self) -> None:
        """An unexpected exception: its traceback goes to the log file (Textual would print it, locals and all,
        on the terminal); the app exits with status 1 and `crash` says what happened in one line."""
        error = self._exception
        self.crash = type(error).__name__ if error is not None else "unknown error"
        log.error("the app stopped on an unexpected error", exc_info=error)
        self._close_messages_no_wait()

    async def on_unmount(self) -> None:
        await self.engine.aclose()
