"""A bar above the table that appears only while a source is failing: which, why, how old its rows are."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from monotui.engine.state import ProductionState
from monotui.formats import age
from monotui.render.text import plain


class SourceAlerts(Static):
    def __init__(self) -> None:
        super().__init__("", id="alerts", markup=False)
        self._shown: tuple[str, bool] = ("", False)

    def show(self, state: ProductionState, now: float) -> None:
        lines = []
        for name, data in state.sources.items():
            status = data.status
            if status.state != "error":
                continue
            line = Text("⚠ ", style="bold red")
            line.append_text(plain(name, style="bold"))
            line.append(": ")
            line.append_text(plain(status.error or "error", limit=160))
            old = status.age(now)
            line.append(f" — rows {age(old)} old" if old is not None else " — no data yet", style="bold")
            if status.retry_in is not None:
                line.append(f", retrying every {status.retry_in:.0f}s", style="dim")
            lines.append(line)
        text = Text("\n").join(lines)
        if (text.plain, bool(lines)) == self._shown:
            return
        self._shown = (text.plain, bool(lines))
        self.display = bool(lines)
        if lines:
            self.update(text)
