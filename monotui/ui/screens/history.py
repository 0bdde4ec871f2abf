"""The history of one rollout: its revisions newest first (how each ended, which is stable), the selected one in
full below, `d` the diff of the selected revision against the one before it (or of two marked with space), and
`Enter` the roll-back confirmation pinned to the selected revision (ui/flows/history_rollback.py: the same pipeline
and audit as every action). Fits 80×24."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static

from monotui.engine import revisions as engine_revisions
from monotui.render.history import diff_text, revision_detail, revision_header, revision_line
from monotui.render.text import join, plain
from monotui.revisions import Revision, diff, previous
from monotui.ui.flows import history_rollback
from monotui.ui.flows.host import FlowHost
from monotui.ui.widgets.panels import RenderablePanel


class HistoryScreen(Screen[None]):
    DEFAULT_CSS: ClassVar[str] = """
    HistoryScreen #history-title { height: 1; background: $panel; }
    HistoryScreen #revisions-box { height: 45%; min-height: 6; border: round $primary-darken-1; padding: 0; }
    HistoryScreen #revisions-head { height: 1; padding: 0; }
    HistoryScreen #revisions { height: 1fr; border: none; padding: 0; }
    HistoryScreen #revision-detail { height: 1fr; min-height: 5; border: round $primary-darken-1; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back", id="history.back"),
        Binding("enter", "rollback", "Roll back to", id="history.rollback", priority=True),
        Binding("d", "diff", "Diff", id="history.diff"),
        Binding("space", "mark", "Mark", id="history.mark"),
        Binding("j", "move(1)", "Down", show=False, id="history.down"),
        Binding("k", "move(-1)", "Up", show=False, id="history.up"),
    ]

    def __init__(self, host: FlowHost, source: str, rollout_id: str, service: str,
                 clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.host = host
        self.source = source
        self.rollout_id = rollout_id
        self.service = service
        self.clock = clock
        self.revisions: list[Revision] = []
        self.marked: list[int] = []  # revision numbers marked with space, oldest mark first (two at most)
        self.error: str | None = None
        self.showing_diff = False

    @property
    def follow_title(self) -> str:
        """How observers who follow the operator see this screen named (ui/pairing.py)."""
        return f"History of {self.service}"

    def compose(self) -> ComposeResult:
        self.title_line = Static(join(Text("History", style="bold"), plain(self.service, style="bold", limit=60),
                                      Text("· source"), plain(self.source, limit=40)), id="history-title",
                                 markup=False)
        self.options = OptionList(id="revisions", markup=False)
        self.panel = RenderablePanel(id="revision-detail", title="Revision")
        yield self.title_line
        self.options_box = Vertical(id="revisions-box")
        with self.options_box:
            yield Static(revision_header(), id="revisions-head", markup=False)  # which column is which
            yield self.options
        yield self.panel
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.options_box.border_title = "Revisions, newest first (S stable, C current)"
        self.panel.show([Text("Reading the revisions…", style="dim")])
        self.options.focus()
        self.load()
        self.set_interval(2.0, self._reload_if_changed)

    def _seen(self) -> object:
        rollout = self.host.engine.state.rollout(self.source, self.rollout_id)
        return None if rollout is None else (rollout.revision, rollout.phase, rollout.stable, rollout.rolled_back_at,
                                             rollout.resource_version)

    def _reload_if_changed(self) -> None:
        """The rollout moved on (a new revision, a promotion, an abort, someone else's rollback): read again."""
        if self._seen() != self.loaded_for:
            self.load()

    @work(group="revisions", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        self.loaded_for = self._seen()
        try:
            found = await engine_revisions.read(self.host.engine, self.source, self.rollout_id)
        except engine_revisions.CannotList as e:
            self.error = e.message
            self.panel.show([join(Text("Cannot list revisions:", style="bold red"), plain(e.message, limit=400))])
            return
        self.error = None
        selected = self.selected
        self.revisions = found.revisions
        self.marked = [m for m in self.marked if any(r.revision == m for r in self.revisions)]
        self._fill(selected.revision if selected else None)

    def _fill(self, keep: int | None = None) -> None:
        now = self.clock()
        index = self.options.highlighted
        self.options.clear_options()
        self.options.add_options([revision_line(r, now, r.revision in self.marked) for r in self.revisions])
        if not self.revisions:
            self.panel.show([Text("No revisions listed.", style="dim")])
            return
        numbers = [r.revision for r in self.revisions]
        target = numbers.index(keep) if keep in numbers else min(index or 0, len(numbers) - 1)
        self.options.highlighted = target
        self._show_selected()

    @property
    def selected(self) -> Revision | None:
        index = self.options.highlighted if hasattr(self, "options") else None
        return self.revisions[index] if index is not None and 0 <= index < len(self.revisions) else None

    @on(OptionList.OptionHighlighted)
    def _highlighted(self) -> None:
        if not self.showing_diff:
            self._show_selected()

    def _show_selected(self) -> None:
        self.showing_diff = False
        revision = self.selected
        if revision is not None:
            self.panel.border_title = f"r{revision.revision}"
            self.panel.show(revision_detail(revision, self.clock()))

    # ---- keys ------------------------------------------------------------------------------------------------

    def action_back(self) -> None:
        if self.showing_diff:
            self._show_selected()
            return
        self.dismiss(None)

    def action_move(self, by: int) -> None:
        if self.revisions:
            now = self.options.highlighted or 0
            self.options.highlighted = max(0, min(len(self.revisions) - 1, now + by))
            self._show_selected()

    def action_mark(self) -> None:
        revision = self.selected
        if revision is None:
            return
        if revision.revision in self.marked:
            self.marked.remove(revision.revision)
        else:
            self.marked = [*self.marked, revision.revision][-2:]
        self._fill(revision.revision)

    def action_diff(self) -> None:
        pair = self.diff_pair()
        if pair is None:
            self.notify("Nothing to compare: mark two revisions with space, or select one that has an earlier one.",
                        severity="warning", markup=False)
            return
        old, new = pair
        self.showing_diff = True
        self.panel.border_title = f"Diff r{old.revision} → r{new.revision}"
        self.panel.show(diff_text(diff(old, new, self.revisions)))

    def diff_pair(self) -> tuple[Revision, Revision] | None:
        """Two marked revisions (older first), else the selected one against the one before it."""
        if len(self.marked) == 2:
            chosen = [r for r in self.revisions if r.revision in self.marked]
            if len(chosen) == 2:
                new, old = chosen  # newest first
                return old, new
        selected = self.selected
        if selected is None:
            return None
        before = previous(self.revisions, selected)
        return (before, selected) if before is not None else None

    def action_rollback(self) -> None:
        revision = self.selected
        if revision is None:
            return
        history_rollback.start(self.host, self.source, self.rollout_id, revision, after=self._reload)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_rollback()

    def _reload(self) -> None:
        if self.is_attached:
            self.load()
