"""The log view (`l` on a row): the canary's log lines as they are written — its instances' lines, each prefixed
with the time it was written (HH:MM:SS, local) and the instance (and container) that wrote it — or the stable
revision's (`t` toggles), with a search (`/`) that shows only the lines holding the text, and a pause (`p`) that
keeps the view still while the lines keep being read.

Memory is bounded: each stream keeps its last RING_LINES lines (a ring buffer), and the widget as many. Lines reach
the screen in batches (FLUSH_S), so a stream of thousands of lines a second costs one repaint per batch and keys stay
quick (bench/logs.py); only the lines on screen are turned into cells (ui/widgets/log_lines.py). Every line was
cleaned by the engine and is drawn as plain text (never read as markup: `[bold]` shows as it is written).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Static

from monotui.engine.core import Engine
from monotui.engine.logs import LogLine, LogRequest, ProviderError, Which, prefix
from monotui.engine.state import RolloutView
from monotui.text import clean
from monotui.ui.widgets.log_lines import LogLines

RING_LINES = 5_000
FLUSH_S = 0.25  # 4 paints a second at most: a line shows within a quarter second, a fast stream costs few repaints
YIELD_EVERY = 64  # lines read before the keys get their turn (a chunk of a fast stream holds thousands)


class LineHeads:
    """`HH:MM:SS [pod/NAME/CONTAINER]` before each line: the clock text once per second and the prefix once per
    instance and container, not once per line (formatting each line's time was an eighth of the view's CPU while
    10,000 lines a second streamed)."""

    def __init__(self) -> None:
        self._second: int | None = None
        self._clock = ""
        self._prefixes: dict[tuple[str, str], str] = {}

    def clock(self, at: datetime | None) -> str:
        if at is None:
            return ""
        second = int(at.timestamp())
        if second != self._second:
            self._second, self._clock = second, time.strftime("%H:%M:%S", time.localtime(second))
        return self._clock

    def text(self, line: LogLine) -> str:
        key = (line.instance, line.container)
        who = self._prefixes.get(key)
        if who is None:
            if len(self._prefixes) > 1000:
                self._prefixes.clear()
            who = self._prefixes[key] = prefix(line)
        clock = self.clock(line.time)
        head = f"{clock} {who}" if clock and who else clock or who
        return f"{head} {line.message}" if head else line.message


@dataclass
class Stream:
    """One stream's lines: the ring, those not drawn yet, and how it stands."""

    which: Which
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=RING_LINES))
    pending: list[str] = field(default_factory=list)
    started: bool = False
    state: str = "connecting"
    received: int = 0


class LogScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "close", "Back", id="logs.close"),
        Binding("q", "close", "Back", show=False),
        Binding("slash", "search", "Search", key_display="/", id="logs.search"),
        Binding("p", "pause", "Pause", id="logs.pause"),
        Binding("t", "switch", "Canary/stable", id="logs.toggle"),
        Binding("c", "container", "Container", id="logs.container"),
    ]
    DEFAULT_CSS = """
    LogScreen { layout: vertical; }
    LogScreen #logs-title { height: 1; background: $boost; }
    LogScreen LogLines { height: 1fr; }
    LogScreen #logs-search { height: 1; }
    LogScreen #logs-keys { height: 1; color: $text-muted; }
    """

    def __init__(self, engine: Engine, view: RolloutView, which: Which = "canary") -> None:
        super().__init__()
        self.engine = engine
        self.view = view
        self.streams: dict[Which, Stream] = {"canary": Stream("canary"), "stable": Stream("stable")}
        self.shown: Which = which
        self.paused = False
        self.needle = ""
        self.container: str | None = None  # one container's lines, or every container's (None)

    def compose(self) -> ComposeResult:
        self.title_line = Static("", id="logs-title", markup=False)
        self.log_widget = LogLines(max_lines=RING_LINES, id="logs")
        self.search = Input(placeholder="search: show only lines holding…", id="logs-search", compact=True)
        self.keys_line = Static(Text("esc back · / search · p pause · t canary/stable · c container"), id="logs-keys",
                                markup=False)
        yield self.title_line
        yield self.log_widget
        yield self.search
        yield self.keys_line

    def on_mount(self) -> None:
        self.search.display = False
        self.log_widget.focus()
        self._start(self.shown)
        self.set_interval(FLUSH_S, self._draw_new)
        self._show_title()

    # ---- reading ------------------------------------------------------------------------------------------

    def _start(self, which: Which) -> None:
        stream = self.streams[which]
        if stream.started:
            return
        stream.started = True
        self.run_worker(self._follow(stream), group=f"logs-{which}", exit_on_error=False)

    async def _follow(self, stream: Stream) -> None:
        request = LogRequest(which=stream.which, container=self.container, tail=200, follow=True)
        stream.state = "following"
        heads = LineHeads()  # when it was written (local time, as the other screens' times), then who wrote it
        try:
            async for line in self.engine.logs(self.view.source, self.view.rollout, request):
                text = heads.text(line)
                stream.lines.append(text)
                stream.pending.append(text)
                stream.received += 1
                if stream.received % YIELD_EVERY == 0:
                    if len(stream.pending) > RING_LINES:
                        del stream.pending[:-RING_LINES]
                    await asyncio.sleep(0)  # a chunk's lines arrive without a pause: let keys and paints in
            stream.state = "ended"
        except ProviderError as e:
            stream.state = f"error: {clean(e.message, 300)}"
        self._show_title()

    # ---- drawing ------------------------------------------------------------------------------------------

    def _matching(self, lines: list[str]) -> list[str]:
        if not self.needle:
            return lines
        needle = self.needle.lower()
        return [line for line in lines if needle in line.lower()]

    def _draw_new(self) -> None:
        stream = self.streams[self.shown]
        for other in self.streams.values():
            if other is not stream:
                other.pending.clear()  # kept in its ring, drawn whole when toggled to
        if self.paused or not stream.pending:
            self._show_title()
            return
        lines, stream.pending = stream.pending, []
        shown = self._matching(lines)
        if shown:
            self.log_widget.write_lines(shown[-RING_LINES:])
        self._show_title()

    def _redraw(self) -> None:
        """Draw the shown stream's ring again (after a toggle, a new search, or the end of a pause)."""
        stream = self.streams[self.shown]
        stream.pending.clear()
        self.log_widget.clear()
        self.log_widget.write_lines(self._matching(list(stream.lines)))
        self._show_title()

    def _show_title(self) -> None:
        if not self.is_mounted:
            return
        stream = self.streams[self.shown]
        r = self.view.rollout
        revision = r.revision if self.shown == "canary" else (r.stable.revision if r.stable else None)
        parts = [f"Logs · {clean(r.service, 40)} · {self.shown}",
                 f"r{revision}" if revision is not None else "", "PAUSED" if self.paused else stream.state,
                 f"{len(stream.lines)} lines"]
        if self.container:
            parts.append(f"-c {clean(self.container, 40)}")
        if self.needle:
            parts.append(f"/{clean(self.needle, 40)}")
        self.title_line.update(Text(" · ".join(p for p in parts if p), style="bold"), layout=False)  # one line, always

    # ---- keys ---------------------------------------------------------------------------------------------

    def action_close(self) -> None:
        if self.search.has_focus:
            self.search.display = False
            self.log_widget.focus()
            return
        self.dismiss(None)

    def action_search(self) -> None:
        self.search.display = True
        self.search.focus()

    @on(Input.Submitted, "#logs-search")
    def _searched(self, event: Input.Submitted) -> None:
        self.needle = event.value.strip()
        if not self.needle:
            self.search.display = False
        self.log_widget.focus()
        self._redraw()

    def action_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused:
            self._redraw()  # what came meanwhile (the ring's last lines)
        self._show_title()

    def action_container(self) -> None:
        """Every container's lines, then each container's alone, in turn."""
        names = sorted({c for i in self.view.rollout.instances for c in i.container_names})
        if len(names) < 2:
            self.notify("its instances run one container: every line is shown already", severity="warning",
                        timeout=4, markup=False)
            return
        choices: list[str | None] = [None, *names]
        self.container = choices[(choices.index(self.container) + 1) % len(choices)]
        for which in list(self.streams):
            self.workers.cancel_group(self, f"logs-{which}")
            self.streams[which] = Stream(which)
        self._start(self.shown)
        self._redraw()

    def action_switch(self) -> None:
        self.shown = "stable" if self.shown == "canary" else "canary"
        self._start(self.shown)
        self._redraw()
