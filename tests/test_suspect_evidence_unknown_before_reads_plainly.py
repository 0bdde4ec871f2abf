"""A suspect whose figure before the change is unknown reads "error ratio before it started: not known (…) → 9.58%
now" in the detail panel at 80×24 — the figure, when, then what is not known — where it read "error ratio not known
(live before monotui started) before it started → …"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult
from textual.widgets import Static

from monotui.engine.suspects import Evidence
from monotui.render.detail import evidence_text

NOW = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)


class Panel(App[None]):
    def compose(self) -> ComposeResult:
        ev = Evidence("error ratio", None, 0.0958, NOW - timedelta(minutes=3), NOW, threshold=0.05)
        yield Static(evidence_text(ev, "it started"), markup=False)


async def test_unknown_before_reads_figure_when_then_unknown_at_80x24() -> None:
    app = Panel()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        shown = " ".join(strip.text.strip() for strip in app.screen._compositor.render_strips() if strip.text.strip())
        assert shown.startswith("error ratio before it started: not known (live before monotui started) → 9.58% "
                                "now;"), shown
        assert "not known (live before monotui started) before it started" not in shown
