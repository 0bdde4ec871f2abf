"""A suspect whose change is older than the health history (a rollout already live when monotui started) says so,
instead of a bare "?" for the figure before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monotui.engine.suspects import Evidence
from monotui.render.detail import evidence_text

NOW = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)


def test_an_unknown_figure_before_the_change_says_the_rollout_was_live_before_monotui() -> None:
    ev = Evidence("error ratio", None, 0.096, NOW - timedelta(minutes=3), NOW, threshold=0.05)
    text = evidence_text(ev, "it started").plain
    assert "live before monotui started" in text and "?" not in text
    assert "9.60% now" in text


def test_a_known_figure_before_the_change_is_shown() -> None:
    ev = Evidence("error ratio", 0.004, 0.096, NOW - timedelta(minutes=3), NOW, threshold=0.05)
    text = evidence_text(ev, "it started").plain
    assert "0.40% before it started → 9.60% now" in text and "monotui started" not in text
