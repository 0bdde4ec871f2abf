"""The rollouts screen: the table, the detail and events panels, the banner, the source alerts and the filter, and
what they show — rows kept up to date by change from the engine's state, the filter and the sort, the selection and
the suspect. It is the host of the action flows (monotui.ui.flows) and the context the command table answers in.
The App wires sources, engine and keymap to it."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Input, Static

from monotui.action_kinds import ActionKind
from monotui.compat.textual import keymap_of
from monotui.config import ArgoRolloutsSourceConfig
from monotui.engine.actions import ActionPlan
from monotui.engine.attention import sort_key
from monotui.engine.core import ActionOutcome, Engine
from monotui.engine.row_order import RowOrder, ordered
from monotui.engine.state import RolloutView, SourceEvent
from monotui.links import rollout_links
from monotui.models import Alert
from monotui.render.detail import SuspectKeys, alert_line, detail, event_line, suspect_reasons
from monotui.render.links import links_line
from monotui.render.rollouts import COLUMN_LABELS, SORT_KEYS, SORTED_DOWN, RowRenderer
from monotui.render.row_filter import NO_FILTER, RowFilter, parse
from monotui.render.text import join
from monotui.text import clean
from monotui.ui.commands import COMMANDS, NO_SUSPECT, Command, bindings, for_action
from monotui.ui.event_filter import EventFilter
from monotui.ui.flows import freeze, kill_switch, rollout_action, silence
from monotui.ui.messages import SourceUpdated
from monotui.ui.pairing import Pairing
from monotui.ui.suspects import RowSuspect, suspects_of
from monotui.ui.widgets.banner import ProductionBanner
from monotui.ui.widgets.filter_input import FilterInput
from monotui.ui.widgets.panels import RenderablePanel
from monotui.ui.widgets.rollouts_table import RolloutsTable
from monotui.ui.widgets.source_alerts import SourceAlerts
from monotui.ui.widgets.steady_footer import SteadyFooter

Clock = Callable[[], datetime]
EVENTS_SHOWN = 200
# what a row says after this operator's action until a newer health figure arrives (render/rollouts.py acting)
ACTING = {ActionKind.ROLLBACK: "↩ Rolling back"}
T = TypeVar("T")


class RolloutsScreen(Screen[None]):
    BINDINGS = bindings()  # type: ignore[assignment]  # list[Binding] is a valid BindingType list

    def __init__(self, engine: Engine, clock: Clock, key_of: Callable[[str], str],
                 first_rows_drawn: Callable[[], None], follow: Path | None = None) -> None:
        super().__init__()
        self.pairing = Pairing(self, follow)  # sharing this view, or following the operator's (serve --follow)
        self._engine = engine
        self.settings = engine.settings
        self.clock = clock
        self.key_of = key_of  # the key bound to a command now, as the user's keymap has it
        self._first_rows_drawn = first_rows_drawn
        # the rows as shown (filtered, sorted), kept by change like the state's own order
        self._feed = engine.state.watch()
        self._shown = RowOrder()
        self._reorder = True  # the filter or the sort changed: lay the shown rows out again
        self._truncated: tuple[int, int] | None = None
        self._filter = ""
        self._row_filter: RowFilter = NO_FILTER
        self._filter_shown = ("", False)  # the filter's count as shown: (text, a warning)
        self._last_version = -1
        self._events_shown: object = False
        self._event_lines: dict[int, tuple[SourceEvent, Text]] = {}  # id → the event (kept: ids stay unique), line
        self.event_filter = EventFilter()  # the events panel's service filter and pause, set on the timeline (T)
        self._bindings_for: object = False
        self._history: dict[str, object] = {}  # service → the last 30 minutes from Prometheus
        self.ticks = 0  # clock ticks so far (a test's hook)
        self._suspects = 0
        self._offered: tuple[str, str, str] | None = None  # the suspect `s` offered last: `s` again, the next
        self._sort: str | None = None  # a column key, or None: attention order
        self.rows = RowRenderer(self.settings.thresholds)
        self.rows.name_sources = sum(isinstance(s, ArgoRolloutsSourceConfig) for s in self.settings.sources) > 1
        self._rechecks: dict[Screen[Any], Callable[[], None]] = {}  # an open dialog → how it learns of changes

    @property
    def engine(self) -> Engine:
        return self._engine

    # ---- layout -----------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # kept as they are made: the screen's own widgets, never looked up again
        self.banner = ProductionBanner()
        self.alerts = SourceAlerts()
        # the footer has no key to show while the filter is typed in: the placeholder says how to leave it
        self.filter_input = FilterInput(placeholder="filter: text, !text, /regex/, @source, ns:… — enter keeps, esc "
                                                    "clears",
                                        id="filter", compact=True, on_leave=self._leave_filter)
        self.filter_status = Static("", id="filter-status", markup=False)
        self.table = RolloutsTable()
        self.detail_panel = RenderablePanel(id="detail", title="Rollout")
        self.events_panel = RenderablePanel(id="events", title="What changed")
        yield self.banner
        yield self.alerts
        self.filter_bar = Horizontal(id="filter-bar")
        with self.filter_bar:
            yield self.filter_input
            yield self.filter_status
        yield self.table
        with Horizontal(id="bottom"):
            yield self.detail_panel
            yield self.events_panel
        # ctrl+p stays (listed in `?`); its footer key would push `s` and `/` off an 80-column footer
        yield SteadyFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        views = self.engine.state.by_key
        # the table asks for a row's cells when it draws the row: only rows on screen are ever rendered
        self.table.cells_of = lambda key: self.rows.cells(views[key], self.clock(), ages=True)
        # the Flags cell: a flag of the row's service changed in the suspect window (brought to the clock with ages)
        self.rows.flag_change = lambda service: self.engine.state.recent_flag_change(service, self.clock())
        self.rows.plain_names = self.app.no_color  # bold names only where a human is needed (service_text)
        self._show_filter_bar(False)
        self.table.focus()
        self.refresh_views()
        self.table.when_rows_drawn = self._first_rows_drawn
        self.set_interval(1.0, self._tick)
        self.pairing.start_following()

    async def on_unmount(self) -> None:
        await self.pairing.close()

    # ---- pairing ----------------------------------------------------------------------------------------

    @property
    def filter_text(self) -> str:
        return self._filter

    def show_view(self, row: str, text: str) -> None:
        """The operator's view, followed: their filter, then their row (when this table has it)."""
        if text != self._filter:
            self._set_filter(text)
            self.filter_input.value = text
            self._show_filter_bar(bool(text))
            self._reorder = True
            self.refresh_views(force=True)
        if row and self.table.selected_key != row and self.table.shows(row):
            self.table.move_cursor(row=self.table.index_of(row), animate=False)

    def _catch_up(self) -> None:
        """Rows the operator selected may arrive here later than their view: follow once they do."""
        pairing = self.pairing
        if pairing.following and pairing.state and self.table.selected_key != pairing.state.get("row"):
            pairing.apply()

    async def action_share(self) -> None:
        await self.pairing.toggle_share()

    def action_follow(self) -> None:
        self.pairing.toggle_follow()

    def on_screen_suspend(self) -> None:  # a dialog or help opened over the rows: observers see it named
        self.call_after_refresh(self.pairing.publish)

    def on_screen_resume(self) -> None:
        self.call_after_refresh(self.pairing.publish)

    # ---- data -------------------------------------------------------------------------------------------

    def on_source_updated(self, message: SourceUpdated) -> None:
        if self.engine.unresolved:
            for plan in self.engine.adopt_unresolved():
                key = self.key_of(f"rollout.{plan.spec.kind.value}")  # as the user's keymap has it
                self.say(f"{clean(plan.summary(), 200)}: outcome unknown (sent earlier, no outcome in the "
                         f"audit log). Press {key} on it to send it again with the same key.",
                         severity="warning", timeout=30)
        self.refresh_views()
        self._recheck_dialog()
        self._catch_up()

    def _recheck_dialog(self) -> None:
        """An open confirmation learns at once when its target changed (it then refuses to confirm): the flow
        that opened it said how (`ask(..., recheck=)`)."""
        stack = self.app.screen_stack
        if len(stack) < 2:  # no dialog open (or shutting down)
            return
        recheck = self._rechecks.get(stack[-1])
        if recheck is not None:
            recheck()

    def _tick(self) -> None:
        self.refresh_views(force=True)  # ages and staleness move with the clock
        self.pairing.publish()
        self._catch_up()
        self.ticks += 1
        if self.ticks % 15 == 0:
            self._load_history()

    def refresh_views(self, force: bool = False) -> None:
        if not self.app.screen_stack:  # shutting down: a last poll may still arrive
            return
        state = self.engine.state
        now = self.clock()
        timestamp = now.timestamp()
        self.alerts.show(state, timestamp)
        if force or state.version != self._last_version:
            self._last_version = state.version
            self._update_views(now, force)
        self.banner.show(state, timestamp, self.settings.read_only, self.settings.actor, self._suspects,
                         self.key_of("rollback_suspect"), self._truncated, self.engine.holds(),
                         self.engine.trail_unforwarded(), self.pairing.banner())

    def _update_views(self, now: datetime, ages: bool) -> None:
        """Bring the table up to date with what changed since the last call; with `ages`, also the visible rows'
        ages (the clock). The cost follows the rows that changed, not the size of production."""
        state = self.engine.state
        state.refresh(now)
        views = state.by_key
        changed, removed = self._feed.drain()
        if len(changed) > max(64, len(self._shown) // 4):
            self._reorder = True  # many rows at once (the first list, an outage): one sort beats that many moves
        for key in removed:
            self.rows.forget(key)
        if self._reorder:  # the user changed the filter or the sort: one pass and one sort
            self._reorder = False
            self._shown = ordered([(self._sort_key(view), key) for key in state.order
                                   if self._row_filter.matches(view := views[key])])
            moved = True
        else:
            moved = False
            for key in removed:
                moved |= self._shown.discard(key)
            for key in changed:
                view = views[key]
                moved |= (self._shown.put(key, self._sort_key(view)) if self._row_filter.matches(view)
                          else self._shown.discard(key))
        self._suspects = sum(1 for key in state.suspect_keys if key in views)  # read-only too: observers see them
        limit = self.settings.max_rows
        total = len(self._shown)
        self._truncated = (limit, total) if total > limit else None
        self._show_filter_status(total, len(state.order))
        selected = self.table.selected_key
        with self.app.batch_update():
            self.table.sync(self._shown, limit, changed, moved)
            if ages:
                self.table.refresh_ages()
            alerts = state.all_alerts()
            newest = (state.events[-1] if state.events else None, tuple(alerts))
            news = newest != self._events_shown  # a new event (a flag change among them) may be the selected row's
            if ages or news or selected in changed or selected != self.table.selected_key:  # else it is as it was
                self._show_detail()
            # events carry clock times: nothing moves until a new one; a firing alert's line says how long ago
            if (news or (ages and alerts)) and not self.event_filter.paused:
                self._events_shown = newest
                self.events_panel.show(self._events_renderable(now, alerts))
        self._refresh_bindings_if_needed()

    def _sort_key(self, view: RolloutView) -> tuple[object, ...]:
        """The shown order: attention, or a column's order with attention breaking ties."""
        attention = (*sort_key(view.attention, view.rollout), view.key)
        return (SORT_KEYS[self._sort](view), attention) if self._sort is not None else attention

    def _events_renderable(self, now: datetime, alerts: list[Alert]) -> RenderableType:
        shown = self.event_filter
        events = shown.recent(self.engine.state, EVENTS_SHOWN)
        lines = [alert_line(a, now) for a in alerts if shown.shows(a.service)]
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
        shown = detail(view, status, events, self.clock(), self.settings.thresholds, history, keys, flags)
        links = rollout_links(self.settings, view.source, view.rollout, self.clock()) if view else []
        if links:  # the operator's own links, under the rollout's first line
            shown.renderables.insert(1, join(Text(f"{'Links':<9}", style="bold"), links_line(tuple(links),
                                                                                          self.key_of("links"))))
        self.detail_panel.show(shown)

    @on(RolloutsTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self.pairing.publish()
        self._show_detail()
        self._refresh_bindings_if_needed()
        self._load_history()

    def _load_history(self) -> None:
        view = self.selected_view()
        if view is not None and self.engine.has_history:
            self._fetch_history(view.rollout.service)

    @work(group="history", exclusive=True, exit_on_error=False)
    async def _fetch_history(self, service: str) -> None:
        history = await self.engine.history(service)  # None: the sparklines from the poll history stay
        if history is not None:
            self._history[service] = history
            self._show_detail()

    def _refresh_bindings_if_needed(self) -> None:
        # The footer is rebuilt (every key widget mounted again) only when what it offers changes: not at every
        # poll, nor when the cursor moves to a rollout offering the same actions (keys stalled behind it).
        if not self.app.screen_stack:  # shutting down
            return
        signature = tuple(command.why_not(self).act for command in COMMANDS)
        if signature != self._bindings_for:
            self._bindings_for = signature
            self.app.refresh_bindings()

    # ---- the command table's context ---------------------------------------------------------------------

    def keys_free(self) -> bool:
        return len(self.app.screen_stack) == 1 and self.app.focused is not self.filter_input

    def suspect(self) -> RowSuspect | None:
        """The best evidenced suspect the screen shows that monotui can act on: a rollout, or a flag that is on."""
        suspects = self._actionable_suspects()
        return suspects[0] if suspects else None

    def next_suspect(self) -> tuple[RowSuspect, int, int] | None:
        """The suspect the suspect key opens next (its place and how many there are): the best evidenced one, or
        after a cancelled dialog whose suspect is still there, the one after it. The palette names it."""
        suspects = self._actionable_suspects()
        if not suspects:
            return None
        ids = [s.identity for s in suspects]
        index = (ids.index(self._offered) + 1) % len(ids) if self._offered in ids else 0
        return suspects[index], index, len(suspects)

    def _actionable_suspects(self) -> list[RowSuspect]:
        """The suspects the screen shows that monotui can act on, best evidenced first. Only the suspect rows are
        looked at (the state keeps them), not every row."""
        state = self.engine.state
        views = [state.by_key[key] for key in state.suspect_keys if key in self._shown]
        return [s for s in suspects_of(views) if self._can_act_on(s)]

    def _can_act_on(self, suspect: RowSuspect) -> bool:
        if suspect.flag is None:
            return not suspect.view.read_only
        flag = suspect.flag.flag
        return (self.engine.can_flag(suspect.flag.source) and not self.engine.read_only(suspect.flag.source)
                and flag.enabled and not flag.unreadable)

    # ---- the flows' host ---------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock()

    def say(self, text: str, severity: SeverityLevel = "information", timeout: float | None = None) -> None:
        self.notify(text, severity=severity, timeout=timeout, markup=False)

    def ask(self, dialog: Screen[T], answered: Callable[[T | None], None],
            recheck: Callable[[], None] | None = None) -> None:
        if recheck is not None:
            self._rechecks[dialog] = recheck
        # leftover notices would sit on the dialog's prompt and buttons (at 80×24 they cover them): a dialog
        # starts clean (they told of what came before it)
        self.app.clear_notifications()

        def done(result: T | None) -> None:
            self._rechecks.pop(dialog, None)
            answered(result)

        self.app.push_screen(dialog, done)

    def run(self, work: Coroutine[Any, Any, None]) -> None:
        self.run_worker(work, group="actions", exit_on_error=False)

    def show_outcome(self, outcome: ActionOutcome) -> None:
        plan = outcome.plan
        if outcome.ok and isinstance(plan, ActionPlan) and plan.spec.kind in ACTING:
            key = f"{plan.source}/{plan.rollout.id}"
            view = self.engine.state.view(key)
            self.rows.acting(key, Text(ACTING[plan.spec.kind], style="bold magenta"),
                             view.health if view else None, self.clock())
        severity: SeverityLevel = (
            "information" if outcome.ok else "warning" if outcome.outcome == "unknown" else "error")
        self.say(clean(outcome.message(), 400), severity=severity, timeout=8)
        self.refresh_views()

    # ---- the keys: the command table's bindings, answers and actions --------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        command = for_action(action, parameters)
        return True if command is None else command.why_not(self).act

    def on_key(self, event: events.Key) -> None:
        # A key whose binding cannot act now (disabled or hidden) lands here: say why instead of doing nothing.
        if isinstance(self.focused, Input):
            return
        command = self._command_for_key(event.key)
        if self.pairing.observer and (command is None or command.id not in ("follow", "help")):
            self.pairing.browsed()  # an observer's own key: it browses on its own
        if command is None:
            return
        answer = command.why_not(self)
        if not answer.act and answer.why:
            event.stop()
            self.say(answer.why, severity="warning", timeout=4)

    def _command_for_key(self, key: str) -> Command | None:
        keymap = keymap_of(self.app)
        for command in COMMANDS:
            keys = keymap.get(command.id, command.key)
            if key in (k.strip() for k in keys.split(",")):
                return command
        return None

    def action_rollout(self, kind: str) -> None:
        view = self.selected_view()
        if view is None:
            self.say("Select a rollout first.", severity="warning")
            return
        rollout_action.start(self, view, ActionKind(kind))

    def action_history(self) -> None:
        view = self.selected_view()
        if view is None:
            self.say("Select a rollout first.", severity="warning")
            return
        from monotui.ui.screens.history import HistoryScreen

        self.app.push_screen(HistoryScreen(self, view.source, view.rollout.id, view.rollout.service, self.clock))

    def action_links(self) -> None:
        view = self.selected_view()
        if view is None:
            self.say("Select a rollout first.", severity="warning")
            return
        links = rollout_links(self.settings, view.source, view.rollout, self.clock())
        if not links:
            self.say("No links: add dashboard_url, logs_url, traces_url or commit_url under [links] in the config.",
                     severity="warning")
            return
        from monotui.ui.screens.links import LinksScreen

        self.app.push_screen(LinksScreen(view.rollout.service, links))

    def action_flag(self, which: str) -> None:
        view = self.selected_view()
        if view is None:
            self.say("Select a rollout first.", severity="warning")
            return
        kill_switch.open_for_view(self, view, which == "on")

    def action_logs(self) -> None:
        view = self.selected_view()
        if view is not None:
            from monotui.ui.screens.logs import LogScreen  # loaded when first opened

            self.app.push_screen(LogScreen(self.engine, view))

    def action_silence(self) -> None:
        view = self.selected_view()
        if view is not None:
            silence.start(self, view.rollout.service, expire=False)

    def action_expire_silence(self) -> None:
        view = self.selected_view()
        if view is not None:
            silence.start(self, view.rollout.service, expire=True)

    def action_freeze(self) -> None:
        freeze.start(self, unfreeze=False)

    def action_unfreeze(self) -> None:
        freeze.start(self, unfreeze=True)

    def action_rollback_suspect(self) -> None:
        """The best evidenced suspect; pressed again (the dialog cancelled, the suspect still there), the next."""
        upcoming = self.next_suspect()
        if upcoming is None:
            self.say(NO_SUSPECT, severity="warning")
            return
        suspect, index, suspects = upcoming
        self._offered = suspect.identity
        why = Text(f"Suspect {index + 1} of {suspects}", style="bold")
        why.append(f": {suspect_reasons(suspect.evidence, with_rank=False)}")
        if suspects > 1:
            why.append(f"  ({self.key_of('rollback_suspect')} again: the next)", style="dim")
        self.table.move_cursor(row=self.table.index_of(suspect.view.key), animate=False)
        if suspect.flag is not None:  # a flag flip: the kill switch, straight to its confirmation
            # the flag as the engine sees it now (a row's suspect keeps the flag as it was when the row was
            # computed): the dialog must show, and pin, what is true now
            flag = self.engine.state.flag(suspect.flag.source, suspect.flag.flag.name) or suspect.flag.flag
            kill_switch.confirm(self, suspect.flag.source, flag, False, why)
            return
        rollout_action.start(self, suspect.view, ActionKind.ROLLBACK, why)

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
        self.table.mark_column(column, " ▼" if column in SORTED_DOWN else " ▲")
        self.refresh_views(force=True)
        self.say(f"sorted by {COLUMN_LABELS[column]}" if column else "sorted by attention: what needs a human first",
                 timeout=2)

    def _show_filter_bar(self, shown: bool) -> None:
        self.filter_bar.display = shown

    def _set_filter(self, text: str) -> None:
        self._filter = text
        self._row_filter = parse(text)

    def _show_filter_status(self, matching: int, total: int) -> None:
        """Beside the filter: how many rows match, or that none does (and how to clear it), or a bad expression.
        Updated only when it changes: an update lays the whole screen out again (it may wrap), and this runs at
        every tick and poll."""
        text, warn = "", False
        if self._row_filter:
            text = f"{matching:,} of {total:,} match" if matching else \
                f"no rollout matches — {self.key_of('clear_filter')} clears"
            if self._row_filter.problem:  # after the count (what the filter shows), wrapped under it when long
                text = f"{text} · {self._row_filter.problem}"
            warn = not matching or bool(self._row_filter.problem)
        if (text, warn) == self._filter_shown:
            return
        self._filter_shown = (text, warn)
        self.filter_status.update(Text(text, style="bold yellow" if warn else "bold") if text else "")

    def action_filter(self) -> None:
        self._show_filter_bar(True)
        # focus now, not after a refresh: keys typed right after `/` must reach the filter, not the bindings
        self.set_focus(self.filter_input)

    def action_clear_filter(self) -> None:
        if self.filter_bar.display or self._filter:
            self.filter_input.value = ""
            self._show_filter_bar(False)
            self._set_filter("")
            self._reorder = True
            self.set_focus(self.table)
            self.refresh_views(force=True)
            self.pairing.publish()
        elif self.event_filter.service or self.event_filter.paused:  # then the events panel's, set on `T`
            self.event_filter.service, self.event_filter.paused = "", False
            self.events_panel.border_title = self.event_filter.title("What changed")
            self._events_shown = False
            self.refresh_views(force=True)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._set_filter(event.value.strip())
        self._reorder = True
        self.refresh_views(force=True)
        self.pairing.publish()

    def _leave_filter(self, key: str) -> None:
        """Enter keeps the filter, Esc clears it; either way the table has the keys from the next one on."""
        if key == "escape":
            self.action_clear_filter()
        elif not self._filter:
            self._show_filter_bar(False)
        self.set_focus(self.table)

    async def action_refresh(self) -> None:
        await self.engine.refresh_once()
        self.refresh_views(force=True)

    def action_timeline(self) -> None:
        from monotui.ui.screens.timeline import TimelineScreen

        def changed() -> None:  # the filter or the pause changed on the timeline: the events panel follows
            self.events_panel.border_title = self.event_filter.title("What changed")
            self._events_shown = False
            self.refresh_views(force=True)

        self.app.push_screen(TimelineScreen(self.engine, self.clock, self.event_filter, changed))
    def action_command_line(self) -> None:
        from monotui.ui.screens.command_line import CommandLineScreen

        self.app.push_screen(CommandLineScreen(self._command_choices()), self._command_entered)

    def _command_choices(self) -> list[str]:
        from monotui.render.row_filter import namespace
        from monotui.ui.command_line import candidates

        views = self.engine.state.by_key.values()
        offered = [c for c in COMMANDS if c.offered(self.engine) and c.why_not(self).act is not False
                   and c.id != "command_line"]
        return candidates(offered, list(self.engine.state.sources), sorted({namespace(v) for v in views}),
                          sorted({v.rollout.service for v in views}))

    async def _command_entered(self, text: str | None) -> None:
        from monotui.ui.command_line import parse

        if not text:
            return
        views = self.engine.state.by_key
        parsed = parse(text, {v.rollout.service for v in views.values()})
        if parsed.problem:
            self.say(parsed.problem, severity="warning", timeout=4)
            return
        if parsed.scope is not None:  # a jump: the filter, scoped
            term = f"{parsed.scope.prefix}{parsed.argument}"
            self.filter_input.value = term  # the filter's own Changed handler applies it
            self._set_filter(term)
            self._show_filter_bar(True)
            self._reorder = True
            self.refresh_views(force=True)
            self.pairing.publish()
            return
        if parsed.service is not None:  # its row first (`:cart-api`, or `:history cart-api` before the command)
            key = next((k for k in self._shown if views[k].rollout.service == parsed.service), None)
            if key is None:
                self.say(f"{clean(parsed.service, 60)} is not shown (the filter hides it)", severity="warning")
                return
            self.table.move_cursor(row=self.table.index_of(key), animate=False)
        if parsed.command is not None:
            answer = parsed.command.why_not(self)
            if not answer.act:
                self.say(answer.why or f"{parsed.command.label}: not available now", severity="warning", timeout=4)
                return
            await self.run_action(parsed.command.action_string)

    def action_help(self) -> None:
        from monotui.ui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.settings.read_only, lambda c: c.offered(self.engine),
                                        lambda c: self.key_of(c.id)))
