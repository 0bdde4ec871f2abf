"""The timeline screen (T): what happened, in order, full screen — deploys, pauses, rollbacks (the platform's with
why), flag flips, alerts, breaches, freezes and every action of the audit log with its actor and outcome
(engine/timeline.py builds the entries; `monotui timeline` prints the same).

`/` filters by service (a part of its name), `o` turns newest first / oldest first, `p` pauses: the lines hold still
and the header counts what waits; Esc closes (or leaves the filter being typed). The filter and the pause hold for the
events panel of the rollouts screen too (ui/event_filter.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Static

from monotui.engine.core import Engine
from monotui.engine.timeline import AuditTail, Entry, EventEntries, build
from monotui.formats import age
from monotui.render.timeline import entry_line
from monotui.text import clean
from monotui.ui.event_filter import EventFilter
from monotui.ui.widgets.panels import RenderablePanel
from monotui.ui.widgets.steady_footer import SteadyFooter

SHOWN = 2000  # lines drawn at most (the newest, or the oldest when oldest first): `monotui timeline` prints all


class TimelineScreen(Screen[None]):
    DEFAULT_CSS: ClassVar[str] = """
    TimelineScreen #timeline-head { height: 1; background: $panel; padding: 0 1; }
    TimelineScreen #timeline-filter { height: 1; margin: 0 1; }
    TimelineScreen #timeline-list { height: 1fr; border: round $primary-darken-1; border-title-color: $text;
                                    padding: 0 1; }
    """
    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("escape", "close", "Close", id="timeline.close", key_display="esc"),
        Binding("slash", "filter", "Service", id="timeline.filter", key_display="/"),
        Binding("o", "order", "Order", id="timeline.order"),
        Binding("p", "pause", "Pause", id="timeline.pause"),
    ]

    def __init__(self, engine: Engine, clock: Callable[[], datetime], view: EventFilter,
                 changed: Callable[[], None] = lambda: None) -> None:
        super().__init__()
        self.engine = engine
        self.clock = clock
        self.view = view  # shared with the events panel
        self._changed = changed  # the rollouts screen redraws its events panel
        self._audit = AuditTail(engine.audit)
        self._made = EventEntries()  # each event's entry, made once
        self._built_for: object = None
        self.entries: list[Entry] = []  # what is shown, in the order shown
        self.waiting = 0  # entries that came while paused
        self._shown_count = 0
        self._total = 0  # entries in the window (those drawn: SHOWN at most)

    def compose(self) -> ComposeResult:
        self.head = Static("", id="timeline-head", markup=False)
        self.filter_input = Input(value=self.view.service, placeholder="service (a part of its name)",
                                  id="timeline-filter", compact=True)
        self.panel = RenderablePanel(id="timeline-list", title="Timeline")
        yield self.head
        yield self.filter_input
        yield self.panel
        yield SteadyFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.filter_input.display = bool(self.view.service)
        self.panel.focus()
        self.rebuild(force=True)
        self.set_interval(1.0, self.rebuild)

    @property
    def window_s(self) -> float:
        return self.engine.settings.events_window

    def _all(self) -> list[Entry]:
        now = self.clock()
        return build(self.engine.state, self._audit.records(), now - timedelta(seconds=self.window_s), None,
                     self.view.service or None, made=self._made)

    def rebuild(self, force: bool = False) -> None:
        """At each tick: built again only when the state or the audit log moved (or the filter, order, pause)."""
        stamp = (self.engine.state.version, len(self._audit.records()), self.view.service, self.view.newest_first)
        if not force and stamp == self._built_for:
            self._show_head()
            return
        self._built_for = stamp
        entries = self._all()
        if self.view.paused and not force:
            self.waiting = max(0, len(entries) - self._shown_count)
            self._show_head()
            return
        self.waiting = 0
        self._shown_count = len(entries)
        shown = entries[-SHOWN:] if self.view.newest_first else entries[:SHOWN]
        if self.view.newest_first:
            shown.reverse()
        self.entries = shown
        self._total = len(entries)
        self.panel.show([entry_line(e) for e in shown] or [Text("Nothing happened in this window.", style="dim")])
        self._show_head()

    def _show_head(self) -> None:
        view = self.view
        # one line at 80 columns: the pause first (it is why the lines stand still); the service filter is not
        # repeated when its input line shows it
        parts = [f"‖ PAUSED, {self.waiting} new (p: resume)" if self.waiting else "‖ PAUSED (p: resume)"] \
            if view.paused else []
        parts += [f"Timeline: last {age(self.window_s)}", "newest first" if view.newest_first else "oldest first"]
        if view.service and not self.filter_input.display:
            parts.append(f"service ~ {clean(view.service, 40)}")
        total = self._total
        parts.append(f"{total} entries" if total <= SHOWN else f"{SHOWN} of {total} shown")
        self.head.update(Text(" · ".join(parts), style="bold reverse" if view.paused else "bold"))
        self.panel.border_title = view.title("Timeline")

    # ---- keys ---------------------------------------------------------------------------------------------

    def action_close(self) -> None:
        if self.focused is self.filter_input:
            self.filter_input.display = bool(self.view.service)
            self.panel.focus()
            return
        self.dismiss(None)

    def action_filter(self) -> None:
        self.filter_input.display = True
        self.set_focus(self.filter_input)

    def action_order(self) -> None:
        self.view.newest_first = not self.view.newest_first
        self.rebuild(force=True)

    def action_pause(self) -> None:
        self.view.paused = not self.view.paused
        self.rebuild(force=True)
        self._changed()

    @on(Input.Changed, "#timeline-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.view.service = event.value.strip()
        self.rebuild(force=True)
        self._changed()

    @on(Input.Submitted, "#timeline-filter")
    def _filter_submitted(self) -> None:
        self.filter_input.display = bool(self.view.service)
        self.panel.focus()
