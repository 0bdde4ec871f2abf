"""The rollouts table, drawn line by line (Textual's Line API, the way its own DataTable and Log draw): it holds the
shown order of row keys and each row's cells, and renders only the lines on screen, each row's line cached until
that row changes. So the first table at 10,000 rows is one screenful of work, a change to k rows costs k, and the
cursor stays on the operator's rollout as rows move. It shows the columns that fit its width (by priority)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from monotui.engine.row_order import RowOrder
from monotui.render.rollouts import COLUMNS, cell_width, fit_columns

SCROLLBAR = 2  # room kept for the vertical scrollbar, so a long table does not push a column out
PADDING = 1  # blank cells each side of a column's text
STRIPS_KEPT = 1_000  # rendered lines kept (a few screenfuls); the rest are drawn again when scrolled to


def _same_look(a: tuple[Text, ...], b: tuple[Text, ...]) -> bool:
    """Two rows' cells that draw the same line (rich's Text equality leaves out the base style)."""
    return len(a) == len(b) and all(x.plain == y.plain and x.spans == y.spans and x.style == y.style
                                    and x.justify == y.justify for x, y in zip(a, b, strict=True))


class RolloutsTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"rollouts-table--header", "rollouts-table--cursor"}
    DEFAULT_CSS = """
    RolloutsTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .rollouts-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .rollouts-table--header {
                background-tint: $foreground 5%;
            }
        }
        & > .rollouts-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .rollouts-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .rollouts-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Cursor up", show=False),
        Binding("down", "cursor(1)", "Cursor down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "Top", show=False),
        Binding("end", "cursor_to(-1)", "Bottom", show=False),
    ]

    class RowHighlighted(Message):
        """The cursor moved to another row (or its row moved)."""

        def __init__(self, key: str | None) -> None:
            super().__init__()
            self.key = key

    class HeaderSelected(Message):
        """A column's header was clicked."""

        def __init__(self, column_key: str) -> None:
            super().__init__()
            self.column_key = column_key

    def __init__(self) -> None:
        super().__init__(id="rollouts")
        self._rows = RowOrder()
        self._limit: int | None = None
        self.cells_of: Callable[[str], tuple[Text, ...]] | None = None  # the app's renderer: a row's cells
        self._cells: dict[str, tuple[Text, ...]] = {}  # the rows rendered (drawn, or asked for), until they change
        self._row_widths: dict[str, tuple[int, ...]] = {}
        self._counts: list[Counter[int]] = [Counter() for _ in COLUMNS]  # per column: how many rows need width w
        self._widths: list[int] = [0] * len(COLUMNS)  # per column: the widest cell (0: every cell empty)
        self._shown: tuple[int, ...] = fit_columns(self._widths, 10_000)  # indices into COLUMNS, in table order
        self._labels: dict[str, str] = {}  # column key → a mark after its label (the sort column)
        self._strips: dict[str, Strip] = {}  # row key → its line, without the cursor
        self._styles: tuple[Style, Style, Style] = (Style(), Style(), Style())  # row, header, cursor: per frame
        self._selected: str | None = None
        self.cursor_row = 0
        self.repaints = 0  # how many times rows were drawn again (the whole table or one line): a test's hook
        self._painted: tuple[list[str], int] = ([], -1)  # the rows on screen after the last sync, and the top row
        self.when_rows_drawn: Callable[[], object] | None = None  # called once, when the first rows are drawn

    # ---- what the app and the tests read ------------------------------------------------------------------

    @property
    def _order(self) -> list[str]:
        keys = self._rows.keys
        return keys if self._limit is None or len(keys) <= self._limit else keys[:self._limit]

    @property
    def row_count(self) -> int:
        return len(self._rows) if self._limit is None else min(len(self._rows), self._limit)

    @property
    def shown_columns(self) -> list[str]:
        return [COLUMNS[i].key for i in self._shown]

    @property
    def selected_key(self) -> str | None:
        return self._selected

    def index_of(self, key: str) -> int:
        return self._rows.index(key)

    def shows(self, key: str) -> bool:
        """Whether the table has this row now (filtered in, within the shown rows)."""
        return key in self._order

    def get_row(self, key: str) -> list[Text]:
        """The shown cells of a row."""
        cells = self._row_cells(key)
        return [cells[i] for i in self._shown]

    def get_cell(self, key: str, column: str) -> Text:
        """One shown cell; KeyError for a hidden column or an unknown row."""
        index = next((i for i in self._shown if COLUMNS[i].key == column), None)
        if index is None:
            raise KeyError(column)
        return self._row_cells(key)[index]

    def visible_keys(self) -> list[str]:
        """The rows on screen now (their ages move with the clock; the others are brought up to it when shown)."""
        top = max(0, int(self.scroll_y))
        return self._rows.keys[top:min(top + max(1, self.size.height), self.row_count)]

    # ---- the app's updates ---------------------------------------------------------------------------------

    def sync(self, rows: RowOrder, limit: int | None, changed: Iterable[str], moved: bool) -> None:
        """Show the first `limit` rows of `rows` (the caller's order, kept by reference); `changed`: rows whose
        data changed; `moved`: rows may have come, gone or moved. Keeps the cursor on the selected rollout.
        Only the screen lines that now show another row, or a row that looks different, are drawn again (a
        health figure that moved within its rounding repaints nothing; a row moving up three places repaints
        four lines). Costs what changed: only rows on screen are rendered here, the others when drawn."""
        self._rows, self._limit = rows, limit
        top = max(0, int(self.scroll_y))
        visible = self.visible_keys()
        on_screen = set(visible)
        if moved:
            shown = rows if limit is None or len(rows) <= limit else set(self._order)
            for key in [k for k in self._cells if k not in shown]:
                self._drop(key)
        looks: set[str] = set()  # rows on screen that look different
        for key in changed:
            old = self._cells.get(key)
            if old is None:
                continue
            if key in on_screen and self.cells_of is not None:
                row = self.cells_of(key)
                if row is not old and not _same_look(row, old):
                    self._drop(key)
                    self._take(key, row)  # now: its widths may widen a column (then every line is drawn again)
                    looks.add(key)
                else:
                    self._cells[key] = row  # same widths, same line: the strip stays
                continue
            self._drop(key)
        columns_moved = self._relayout()
        height = self.row_count + 1
        if height != self.virtual_size.height:
            # no width: the columns are fitted to the table's width, never scrolled sideways, and a column
            # widening must not relay the screen out
            self.virtual_size = Size(0, height)
        cursor = self.cursor_row
        self._follow_selection()
        before, before_top = self._painted
        if columns_moved or int(self.scroll_y) != top or before_top != top:
            self._repaint()
        else:
            visible = self.visible_keys()
            lines = [i for i in range(max(len(before), len(visible)))
                     if i >= len(before) or i >= len(visible) or before[i] != visible[i] or visible[i] in looks]
            lines += [row - top for row in {cursor, self.cursor_row} if cursor != self.cursor_row]
            if len(lines) > len(visible) // 2:
                self._repaint()
            else:
                for i in lines:
                    self._refresh_row(top + i)
        self._painted = (self.visible_keys(), int(self.scroll_y))

    def refresh_ages(self) -> None:
        """The clock moved: bring the rows on screen up to it (only rows whose age text changed are redrawn)."""
        top = max(0, int(self.scroll_y))
        for i, key in enumerate(self.visible_keys()):
            old = self._cells.get(key)
            if old is not None and self.cells_of is not None and (row := self.cells_of(key)) is not old:
                self._drop(key)
                self._take(key, row)
                self._refresh_row(top + i)

    def _repaint(self) -> None:
        self.repaints += 1
        self.refresh()

    def _row_cells(self, key: str) -> tuple[Text, ...]:
        row = self._cells.get(key)
        if row is None:
            if self.cells_of is None:
                raise KeyError(key)
            row = self.cells_of(key)
            self._take(key, row)
        return row

    def _take(self, key: str, row: tuple[Text, ...]) -> None:
        self._cells[key] = row
        widths = tuple(cell_width(cell) for cell in row)
        self._row_widths[key] = widths
        self._count(widths, 1)

    def _drop(self, key: str) -> None:
        del self._cells[key]
        self._strips.pop(key, None)
        self._count(self._row_widths.pop(key), -1)

    def _count(self, widths: tuple[int, ...], step: int) -> None:
        for i, width in enumerate(widths):
            counts = self._counts[i]
            counts[width] += step
            if counts[width] <= 0:
                del counts[width]

    def _relayout(self) -> bool:
        """Columns as wide as their widest rendered cell, and those that fit the width; True when that changed
        (every line is then drawn again)."""
        widths = [max(counts, default=0) for counts in self._counts]
        changed = False
        if widths != self._widths:
            self._widths = widths
            changed = True
        shown = self._wanted_columns()
        if shown != self._shown:
            self._shown = shown
            changed = True
        if changed:
            self._strips.clear()
        return changed

    def _follow_selection(self) -> None:
        count = self.row_count
        at = self._rows.index(self._selected) if self._selected is not None and self._selected in self._rows else count
        if at < count:
            if at != self.cursor_row:
                # the rollout moved (a poll, a re-sort): the cursor goes with it, and the view scrolls only as far
                # as keeps it in sight (a highlighted line off screen is a selection nobody sees)
                self.cursor_row = at
                self._scroll_to_cursor()
            return
        row = max(0, min(self.cursor_row, count - 1))
        key = self._rows.keys[row] if count else None
        if key != self._selected or row != self.cursor_row:
            self.cursor_row, self._selected = row, key
            self.post_message(self.RowHighlighted(key))

    def mark_column(self, key: str | None, mark: str) -> None:
        """Show `mark` after one column's label (the sort order), none on the others."""
        labels = {key: mark} if key else {}
        if labels != self._labels:
            self._labels = labels
            self._strips.clear()
            self._relayout()
            self.refresh()

    def move_cursor(self, *, row: int, animate: bool = False, scroll: bool = True) -> None:
        count = self.row_count
        if not count:
            return
        row = max(0, min(row, count - 1))
        key = self._rows.keys[row]
        changed = row != self.cursor_row or key != self._selected
        before, top = self.cursor_row, self.scroll_y
        self.cursor_row, self._selected = row, key
        if scroll:
            self._scroll_to_cursor()
        if changed:
            if self.scroll_y == top:  # only the two lines the cursor left and reached are drawn again
                self._refresh_row(before)
                self._refresh_row(row)
            else:
                self.refresh()
            self.post_message(self.RowHighlighted(key))

    def _refresh_row(self, row: int) -> None:
        """Draw one row's line again, if it is on screen (a column it widens: see `render_lines`)."""
        y = row - int(self.scroll_y) + 1
        if 0 < y < self.size.height:
            self.repaints += 1
            self.refresh(Region(0, y, self.size.width, 1))

    def _scroll_to_cursor(self) -> None:
        rows_visible = max(1, self.size.height - 1)  # under the header
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + rows_visible:
            self.scroll_to(y=self.cursor_row - rows_visible + 1, animate=False, immediate=True)

    def action_cursor(self, step: int) -> None:
        self.move_cursor(row=self.cursor_row + step)

    def action_page(self, step: int) -> None:
        self.move_cursor(row=self.cursor_row + step * max(1, self.size.height - 1))

    def action_cursor_to(self, row: int) -> None:
        self.move_cursor(row=row if row >= 0 else self.row_count - 1)

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()
        self._scroll_to_cursor()
        self._painted = (self.visible_keys(), int(self.scroll_y))  # a resize draws every line

    def on_click(self, event: events.Click) -> None:
        meta = event.style.meta
        if meta.get("row") == -1 and "column" in meta:
            self.post_message(self.HeaderSelected(COLUMNS[meta["column"]].key))
            return
        offset = event.get_content_offset(self)
        if offset is not None and offset.y > 0:  # under the header: the row at that line
            row = int(self.scroll_y) + offset.y - 1
            if row < self.row_count:
                self.move_cursor(row=row, scroll=False)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def on_focus(self, event: events.Focus) -> None:
        self._strips.clear()  # the focused table is tinted
        self.refresh()

    def on_blur(self, event: events.Blur) -> None:
        self._strips.clear()
        self.refresh()

    # ---- drawing ------------------------------------------------------------------------------------------

    def _wanted_columns(self) -> tuple[int, ...]:
        return fit_columns(self._widths, max(0, self.size.width - SCROLLBAR) if self.size.width else 10_000)

    def _label(self, i: int) -> str:
        return COLUMNS[i].label + self._labels.get(COLUMNS[i].key, "")

    def _column_width(self, i: int) -> int:
        return max(self._widths[i], len(self._label(i)))

    def _line(self, cells: list[Text], base: Style, row: int | None = None) -> Strip:
        """One row's line; `row` goes into the style's meta (the header's -1 tells a click on a label)."""
        console = self.app.console
        segments: list[Segment] = []
        for i, cell in zip(self._shown, cells, strict=True):
            width = self._column_width(i)
            text = cell
            if cell.cell_len > width:
                text = cell.copy()
                text.truncate(width)
            # the room a cell leaves is the row's, not the cell's (an underlined figure underlines no blanks)
            room = width - text.cell_len
            left = room if cell.justify == "right" else room // 2 if cell.justify == "center" else 0
            meta = Style.from_meta({"row": row, "column": i} if row is not None else {"column": i})
            blank = base + meta
            # rich's Text.render leaves out the base style of a text without spans
            rendered = (text.render(console) if text.spans else
                        [Segment(text.plain, console.get_style(text.style, default=Style.null()))])
            segments.append(Segment(" " * (PADDING + left), blank))
            segments.extend(Segment.apply_style(rendered, base, meta))
            segments.append(Segment(" " * (PADDING + room - left), blank))
        return Strip(segments)

    def render_lines(self, crop: Region) -> list[Strip]:
        # the rows about to be drawn are rendered first, so the columns fit them before any line is drawn
        top = int(self.scroll_y)
        keys = self._rows.keys
        for row in range(max(0, top + crop.y - 1), min(self.row_count, top + crop.bottom - 1)):
            self._row_cells(keys[row])
        if self._relayout():  # a row drawn now widened or narrowed a column: every line is drawn again
            self._repaint()
        base = self.rich_style  # computed once a frame, not once a line
        self._styles = (base, base + self.get_component_rich_style("rollouts-table--header"),
                        base + self.get_component_rich_style("rollouts-table--cursor"))
        if self.when_rows_drawn is not None and self.row_count:
            callback, self.when_rows_drawn = self.when_rows_drawn, None
            callback()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        base, header, cursor = self._styles
        if y == 0:
            labels = self._line([Text(self._label(i)) for i in self._shown], header, -1)
            return labels.crop_extend(scroll_x, scroll_x + width, header)
        row = scroll_y + y - 1
        if row >= self.row_count:
            return Strip.blank(width, base)
        key = self._rows.keys[row]
        if row == self.cursor_row:
            return self._line(self.get_row(key), cursor, row).crop_extend(scroll_x, scroll_x + width, cursor)
        strip = self._strips.get(key)
        if strip is None:
            if len(self._strips) >= STRIPS_KEPT:
                self._strips.clear()
            strip = self._strips[key] = self._line(self.get_row(key), base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)
