"""Scrollbars drawn in whole cells. Textual draws a thumb's ends with the partial blocks ▁▂▃▄▅▆▇ for finer
positions; a two-cell-wide scrollbar then shows "▂▂" or "▅▅" at a dialog's edge, which reads as one of monotui's
sparklines drawn over the dialog. Whole cells only (Textual's public `ScrollBar.renderer` hook)."""

from __future__ import annotations

from typing import ClassVar

from textual.scrollbar import ScrollBar, ScrollBarRender


class WholeCellScrollBar(ScrollBarRender):
    VERTICAL_BARS: ClassVar[list[str]] = [" "] * 8  # " ": no partial glyph at the thumb's ends
    HORIZONTAL_BARS: ClassVar[list[str]] = [" "] * 8


def whole_cell_scrollbars() -> None:
    ScrollBar.renderer = WholeCellScrollBar
