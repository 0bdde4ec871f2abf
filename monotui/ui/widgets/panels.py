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

    def compose(self):  # type: ignore[no-untyped-def]
        yield self._body

    def show(self, renderable: RenderableType) -> None:
        self._body.update(renderable)
