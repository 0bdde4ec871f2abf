"""A scrolling view of plain-text lines kept in a ring, for streams of thousands of lines a second.

Textual's `Log` spends per written line (a split, a width measured in a thread worker started at every write, a
cache entry discarded), and that thread takes the GIL from the event loop while keys wait. Here a write appends to
the ring and measures the batch's width in one pass; a line is turned into a Strip only when it is on screen. The
lines are cleaned by the engine before they come here (no control character), and are never read as markup.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from rich.cells import cell_len
from rich.segment import Segment
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


def _width(lines: list[str]) -> int:
    if not lines:
        return 0
    widest = max(lines, key=len)
    if all(line.isascii() for line in lines):
        return len(widest)
    return max(cell_len(line) for line in lines)  # wide characters take two cells


class LogLines(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    LogLines {
        background: $surface;
        color: $text;
        overflow: scroll;
        &:focus { background-tint: $foreground 5%; }
    }
    """

    def __init__(self, max_lines: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._widest = 0

    @property
    def lines(self) -> list[str]:
        return list(self._lines)

    def write_lines(self, lines: Iterable[str]) -> None:
        """Append, keeping the last `max_lines`; follows the end if the view was at the end."""
        batch = list(lines)
        if not batch:
            return
        at_end = self.is_vertical_scroll_end
        bound = self._lines.maxlen
        dropped = 0 if bound is None else max(0, len(self._lines) + len(batch) - bound)
        self._lines.extend(batch)
        self._widest = max(self._widest, _width(batch))
        self.virtual_size = Size(self._widest, len(self._lines))
        if at_end:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        elif dropped:  # a full ring dropped its oldest lines: the lines being read moved up by as many
            self.scroll_to(y=max(0, self.scroll_offset.y - dropped), animate=False, immediate=True)
        self.refresh()

    def action_scroll_end(self) -> None:
        """`end`: to the newest line at once. Animated (Textual's way), a batch arriving mid-way found the view not at
        its end, and the view stopped following."""
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def clear(self) -> None:
        self._lines.clear()
        self._widest = 0
        self.virtual_size = Size(0, 0)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        style = self.rich_style
        if index >= len(self._lines):
            return Strip.blank(width, style)
        text = self._lines[index]
        strip = Strip([Segment(text, style)], cell_len(text))
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_offsets(scroll_x, index)
