"""The detail panel of the selected rollout and the production-wide events panel: lines of text drawn line by line
(Textual's Line API), so that what did not change on screen costs nothing."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from monotui.compat.textual import update_scrollbars


def _key(line: RenderableType) -> Hashable | None:
    """What a line looks like, as a dictionary key (None: not a Text, rendered every time)."""
    if not isinstance(line, Text):
        return None
    return (line.plain, tuple(line.spans), line.style, line.justify, line.overflow, line.no_wrap, line.end)


class RenderablePanel(ScrollView):
    """A bordered, scrollable panel of lines built by `monotui.render` (rich Text, never markup).

    Each line is rendered once and kept while it is shown (a new event renders one line, not the 200 under it),
    only the screen lines whose content changed are repainted, and a change in the number of lines relays the
    screen out only when the scrollbar comes or goes: the panel's size is the layout's, not its content's."""

    DEFAULT_CSS: ClassVar[str] = """
    RenderablePanel {
        overflow-x: hidden;
        overflow-y: auto;
    }
    """

    def __init__(self, *, id: str, title: str) -> None:
        super().__init__(id=id)
        self.border_title = title
        self._lines: list[RenderableType] = []
        self._rendered: dict[int, dict[Hashable, list[Strip]]] = {}  # width → a line's look → its strips
        self._width = 0  # the width the lines were last rendered at
        self._keys: dict[int, tuple[RenderableType, Hashable | None]] = {}  # id of a line shown → it, its key
        self._strips: list[Strip] = []  # what the panel shows, one strip per screen line
        self.repaints = 0  # how many times showing new lines changed what is on screen (a test's hook)

    @property
    def lines(self) -> list[str]:
        """What the panel holds, one string per line given to `show` (a wrapped line stays one)."""
        return [line.plain if isinstance(line, Text) else str(line) for line in self._lines]

    def show(self, renderable: RenderableType | Sequence[Text]) -> None:
        """Show a Group of lines (or one Text, or a list of lines). Lines that look as before keep their render;
        nothing is repainted when nothing on screen changed."""
        if isinstance(renderable, Group):
            lines = list(renderable.renderables)
        elif isinstance(renderable, Sequence) and not isinstance(renderable, str):
            lines = list(renderable)
        else:
            lines = [renderable]
        self._lines = lines
        self._update()

    def _update(self) -> None:
        if not self.size:  # not laid out yet: drawn when it is (on_resize)
            return
        strips = self._render_all()
        old = self._strips
        self._strips = strips
        height = len(strips)
        if height != len(old):
            self._set_height(height)
            self.refresh()
            self.repaints += 1
            return
        top, rows = int(self.scroll_y), self.scrollable_content_region.height
        changed = [y for y in range(top, min(top + rows, height)) if strips[y] is not old[y] and strips[y] != old[y]]
        if changed:
            self.repaints += 1
            width = self.scrollable_content_region.width
            for y in changed:
                self.refresh(Region(0, y - top, width, 1))

    def _set_height(self, height: int) -> None:
        """The scrollable height, without relaying the screen out (a `virtual_size` assignment would); the
        scrollbar follows, and only its coming or going relays out (Textual's own reactive does that)."""
        size = Size(0, height)
        if size != self.virtual_size:
            self.set_reactive(Widget.virtual_size, size)
            update_scrollbars(self, size)

    def _render_all(self) -> list[Strip]:
        """Every line's strips at the width the text gets: the panel's, less the scrollbar when the lines do
        not fit (the way a wrapping Static inside a VerticalScroll behaves). The width the last lines needed is
        tried first, so a panel that keeps its scrollbar renders each line once."""
        full = max(1, self.size.width)  # the size inside border and padding, scrollbar included
        narrow = max(1, full - self.styles.scrollbar_size_vertical)
        kept: dict[int, dict[Hashable, list[Strip]]] = {}
        width = self._width if self._width in (full, narrow) else full
        strips = self._render_at(width, kept)
        if width == full and len(strips) > self.size.height:
            width, strips = narrow, self._render_at(narrow, kept)
        elif width != full and len(strips) <= self.size.height:
            wide = self._render_at(full, kept)
            if len(wide) <= self.size.height:  # else the narrow lines stand: a scrollbar after all
                width, strips = full, wide
        self._width = width
        self._rendered = kept  # only what the lines shown now need is kept
        return strips

    def _render_at(self, width: int, kept: dict[int, dict[Hashable, list[Strip]]]) -> list[Strip]:
        before = self._rendered.get(width, {})
        now = kept.setdefault(width, {})
        out: list[Strip] = []
        known, self._keys = self._keys, {}
        for line in self._lines:
            hit = known.get(id(line))  # the same Text as last time (the events panel's lines): its key is known
            key = hit[1] if hit is not None and hit[0] is line else _key(line)
            self._keys[id(line)] = (line, key)
            strips = (now.get(key) or before.get(key)) if key is not None else None
            if strips is None:
                strips = self._render_line(line, width)
            if key is not None:
                now[key] = strips
            out.extend(strips)
        return out

    def _render_line(self, line: RenderableType, width: int) -> list[Strip]:
        base = self.visual_style.rich_style
        if (isinstance(line, Text) and line.justify in (None, "default") and not self.styles.has_rule("text_align")
                and "\n" not in line.plain and "\t" not in line.plain and line.cell_len <= width):
            # one line that fits, with no `text-align` (Textual then passes rich no justify method): rich's wrapping
            # would hand it back as it is, so render it directly (the same strips, checked by
            # tests/test_idle_repaints.py)
            console = self.app.console
            # rich's Text.render leaves out the base style of a text without spans (its wrapping keeps it)
            segments = (line.render(console, end="") if line.spans else
                        [Segment(line.plain, console.get_style(line.style, default=Style.null()))])
            return [Strip([Segment(text, base + style if style else base) for text, style, _ in segments]
                          if base else list(segments))]
        return self._render_wrapped(line, width, base)

    def _render_wrapped(self, line: RenderableType, width: int, base: Style) -> list[Strip]:
        # as Textual renders a rich renderable in a Static (RichVisual): the widget's style under the text
        console = self.app.console
        options = self.app.console_options.update(highlight=False, width=width)
        segments = console.render(self.post_render(line, base), options)
        return [Strip(segs) for segs in Segment.split_and_crop_lines(segments, width, include_new_lines=False,
                                                                    pad=False)]

    def on_resize(self, event: events.Resize) -> None:
        self._strips = []
        self._update()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._rendered.clear()  # a theme change: the base style under every line changed
        self._width = 0
        if self._lines and self.is_mounted:
            self._strips = []
            self._update()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base: Style = self.visual_style.rich_style
        row = int(self.scroll_y) + y
        if row >= len(self._strips):
            return Strip.blank(width, base)
        return self._strips[row].extend_cell_length(width, base).crop(0, width)
