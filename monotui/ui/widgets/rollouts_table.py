"""The rollouts table, updated in place by row key so the cursor stays on the operator's rollout."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from monotui.render.rollouts import COLUMNS


class RolloutsTable(DataTable[Text]):
    def __init__(self) -> None:
        super().__init__(id="rollouts", cursor_type="row", zebra_stripes=False, cursor_foreground_priority="renderable")
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._first: dict[str, Text] = {}  # the first cell object the table holds, per row (see sync)
        self._order: list[str] = []

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(Text(column.label), key=column.key)

    def index_of(self, key: str) -> int:
        return self._order.index(key)

    @property
    def selected_key(self) -> str | None:
        if not self._order or self.cursor_row < 0 or self.cursor_row >= len(self._order):
            return None
        return self._order[self.cursor_row]

    def sync(self, rows: Sequence[tuple[str, tuple[Text, ...]]]) -> None:
        """Make the table show `rows` (in this order), touching only what changed; keep the cursor's rollout."""
        selected = self.selected_key
        wanted = {key for key, _ in rows}
        for key in [k for k in self._cells if k not in wanted]:
            self.remove_row(key)
            del self._cells[key]
            del self._first[key]
        for key, cells in rows:
            old = self._cells.get(key)
            if old is cells:
                continue  # the renderer gave back the very cells the table holds: nothing changed
            if old is None:
                self.add_row(*cells, key=key)
                self._cells[key] = cells
                self._first[key] = cells[0]
                continue
            for i, (column, before, after) in enumerate(zip(COLUMNS, old, cells, strict=True)):
                if not _same(before, after):
                    # widen the column only when needed: that costs a relayout
                    wider = after.cell_len > self.columns[ColumnKey(column.key)].content_width
                    self.update_cell(key, column.key, after, update_width=wider)
                    if i == 0:
                        self._first[key] = after
            self._cells[key] = cells
        order = [key for key, _ in rows]
        if order != self._order:
            # DataTable's sort key sees cell values, not row keys: the first cell object the table holds for
            # each row is unique to it, so its identity tells the row.
            position = {id(self._first[key]): i for i, key in enumerate(order)}
            self.sort(key=lambda values: position[id(values[0])])
            self._order = order
        if selected is not None and selected in wanted:
            row = order.index(selected)
            if row != self.cursor_row:
                self.move_cursor(row=row, animate=False, scroll=False)


def _same(a: Text, b: Text) -> bool:
    # rich's Text.__eq__ ignores the base style, which is how a row turns stale (dim)
    return a.plain == b.plain and a.style == b.style and a.spans == b.spans and a.justify == b.justify
