"""The rollouts table, updated in place by row key so the cursor stays on the operator's rollout. It shows the
columns that fit its width (by priority), and rebuilds itself only when that set changes."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from monotui.render.rollouts import COLUMNS, cell_width, content_width, fit_columns

SCROLLBAR = 2  # room kept for the vertical scrollbar, so a long table does not push a column out


class RolloutsTable(DataTable[Text]):
    def __init__(self) -> None:
        super().__init__(id="rollouts", cursor_type="row", zebra_stripes=False, cursor_foreground_priority="renderable")
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._first: dict[str, Text] = {}  # the first cell object the table holds, per row (see sync)
        self._order: list[str] = []
        self._shown: tuple[int, ...] = ()  # indices into COLUMNS, in table order
        self._widths: list[int] = [0] * len(COLUMNS)
        self._labels: dict[str, str] = {}  # column key → a mark after its label (the sort column)

    def on_mount(self) -> None:
        self._rebuild(self._wanted_columns())

    def on_resize(self, event: events.Resize) -> None:
        wanted = self._wanted_columns()
        if wanted != self._shown:
            self._rebuild(wanted)

    def mark_column(self, key: str | None, mark: str) -> None:
        """Show `mark` after one column's label (the sort order), none on the others."""
        labels = {key: mark} if key else {}
        if labels == self._labels:
            return
        self._labels = labels
        for i in self._shown:  # relabel in place: rebuilding thousands of rows for a header mark would lag the key
            column = self.columns[ColumnKey(COLUMNS[i].key)]
            column.label = Text(COLUMNS[i].label + labels.get(COLUMNS[i].key, ""))
            column.content_width = max(self._widths[i], column.label.cell_len)
        self._clear_caches()
        self._require_update_dimensions = True
        self.refresh()

    @property
    def shown_columns(self) -> list[str]:
        return [COLUMNS[i].key for i in self._shown]

    def index_of(self, key: str) -> int:
        return self._order.index(key)

    @property
    def selected_key(self) -> str | None:
        if not self._order or self.cursor_row < 0 or self.cursor_row >= len(self._order):
            return None
        return self._order[self.cursor_row]

    def _wanted_columns(self) -> tuple[int, ...]:
        return fit_columns(self._widths, max(0, self.size.width - SCROLLBAR) if self.size.width else 10_000)

    def _project(self, cells: tuple[Text, ...]) -> tuple[Text, ...]:
        return tuple(cells[i] for i in self._shown)

    def _rebuild(self, shown: tuple[int, ...], selected: str | None = None) -> None:
        """Columns changed: lay the table out again from the rows it holds, keeping the cursor's rollout."""
        selected = selected or self.selected_key
        self.clear(columns=True)
        self._shown = shown
        for i in shown:
            column = COLUMNS[i]
            label = column.label + self._labels.get(column.key, "")
            self.add_column(Text(label), key=column.key, width=None)
        for key in self._order:
            cells = self._cells[key]
            self.add_row(*self._project(cells), key=key)
            self._first[key] = cells[0]
        if selected is not None and selected in self._cells:
            self.move_cursor(row=self._order.index(selected), animate=False, scroll=True)

    def held(self) -> set[str]:
        return set(self._cells)

    def visible_keys(self) -> list[str]:
        """The rows on screen now (their ages move with the clock; the others are brought up to it when shown)."""
        top = max(0, int(self.scroll_y))
        return self._order[top:top + max(1, self.size.height)]

    def sync(self, order: list[str], cells: dict[str, tuple[Text, ...]], moved: bool) -> None:
        """Show the rows of `order` (the caller's list, not copied), with new cells for the rows in `cells`;
        `moved`: the order or the set of rows may have changed. Costs what changed, plus C-speed set and list
        passes when rows moved. Keeps the cursor on the selected rollout."""
        selected = self.selected_key
        widths = self._widths
        narrower: set[int] = set()  # columns whose widest cell may have gone: measured again
        if moved:
            wanted = set(order)
            for key in [k for k in self._cells if k not in wanted]:
                self.remove_row(key)
                narrower.update(i for i, cell in enumerate(self._cells.pop(key)) if cell_width(cell) == widths[i])
                del self._first[key]
        pending: list[tuple[str, tuple[Text, ...] | None, tuple[Text, ...]]] = []
        for key, row in cells.items():
            old = self._cells.get(key)
            if old is row:
                continue  # the renderer gave back the very cells the table holds: nothing changed
            pending.append((key, old, row))
            self._cells[key] = row
            for i, cell in enumerate(row):
                width = cell_width(cell)
                if width > widths[i]:
                    widths[i] = width
                elif old is not None and width < widths[i] and cell_width(old[i]) == widths[i]:
                    narrower.add(i)
        for i in narrower:
            widths[i] = content_width(row[i] for row in self._cells.values())
        if pending or narrower:
            shown = self._wanted_columns()
            if shown != self._shown:
                self._order = list(order)
                self._rebuild(shown, selected)
                return
        for key, old, row in pending:
            if old is None:
                self.add_row(*self._project(row), key=key)
                self._first[key] = row[0]
                continue
            for i in self._shown:
                before, after = old[i], row[i]
                if not _same(before, after):
                    column = COLUMNS[i]
                    # widen the column only when needed: that costs a relayout
                    wider = after.cell_len > self.columns[ColumnKey(column.key)].content_width
                    self.update_cell(key, column.key, after, update_width=wider)
                    if i == 0:
                        self._first[key] = after
        if moved and order != self._order:
            # DataTable's sort key sees cell values, not row keys: the first cell object the table holds for
            # each row is unique to it, so its identity tells the row.
            position = {id(self._first[key]): i for i, key in enumerate(order)}
            self.sort(key=lambda values: position[id(values[0])])
            self._order = list(order)
        if selected is not None and moved and selected in self._cells:
            at = self._order.index(selected)
            if at != self.cursor_row:
                self.move_cursor(row=at, animate=False, scroll=False)


def _same(a: Text, b: Text) -> bool:
    # rich's Text.__eq__ ignores the base style, which is how a row turns stale (dim)
    return a.plain == b.plain and a.style == b.style and a.spans == b.spans and a.justify == b.justify
