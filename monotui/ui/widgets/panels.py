"""The detail panel of the selected rollout and the production-wide events panel."""

from __future__ import annotations

from rich.console import RenderableType
from textual.containers import VerticalScroll
from textual.widgets import Static


class RenderablePanel(VerticalScroll):
    """A scrollable panel showing one rich renderable built by `monotui.render` (never markup)."""

    def __init__(self, *, id: str, title: str) -> None:
        super().__init__(id=id)
        self.border_title = title
        self._body = Static("", markup=False)
        self._shown: tuple[str, int] | None = None

    def compose(self):  # type: ignore[no-untyped-def]
        yield self._body

    def show(self, renderable: RenderableType) -> None:
        # Skip what would not change the screen, and relayout only when the height may have changed:
        # a relayout of the whole screen every second is most of the app's idle CPU otherwise.
        console = self.app.console
        lines = console.render_lines(renderable, console.options.update(width=max(1, self.size.width - 2)),
                                     pad=False)
        signature = ("\n".join("".join(seg.text for seg in line) for line in lines), len(lines))
        if signature == self._shown:
            return
        layout = self._shown is None or signature[1] != self._shown[1]
        self._shown = signature
        self._body.update(renderable, layout=layout)
