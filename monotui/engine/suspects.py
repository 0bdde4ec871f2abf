""""What changed?": when a service's health breaches its threshold, the rollouts of that service that started or
advanced in a window before the breach are suspects, with the evidence."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from monotui.config import Thresholds
from monotui.models import Rollout, ServiceHealth

WINDOW = timedelta(minutes=15)  # a change this long before the breach is still a suspect
GRACE = timedelta(seconds=30)  # health lags the change it reflects by a scrape or two


@dataclass(frozen=True)
class Evidence:
    figure: str  # "error ratio" or "p99"
    before: float | None  # the figure just before the rollout started (None: older than the history)
    now: float
    changed_at: datetime  # when the rollout started or last advanced, or the flag changed
    breach_at: datetime
    actor: str = ""  # who made the change, when the source says (flag changes)


def figure_at(series: list[float], interval_s: float, now: datetime, at: datetime) -> float | None:
    """The point of a health series (its last point is `now`) taken just before `at`; None when the series does
    not reach back that far."""
    if not series or interval_s <= 0:
        return None
    back = math.ceil((now - at).total_seconds() / interval_s)
    index = len(series) - 1 - max(back, 0)
    return series[index] if index >= 0 else None


def evidence(rollout: Rollout, health: ServiceHealth | None, thresholds: Thresholds, breach_at: datetime | None,
             baseline: tuple[float, float] | None = None, now: datetime | None = None) -> Evidence | None:
    """The case against `rollout`, or None when it is not a suspect. `baseline` is (error ratio, p99) as monotui
    saw them when it first saw this revision; without it (the rollout was live before monotui started), the
    health history's point at the rollout's start stands in, or nothing ("?") when the history is shorter."""
    if health is None or breach_at is None:
        return None
    if rollout.rolled_back_at is not None and rollout.rolled_back_at >= breach_at:
        return None  # already mitigated
    changes = [t for t in (rollout.started_at, rollout.updated_at) if t is not None]
    hits = [t for t in changes if breach_at - WINDOW <= t <= breach_at + GRACE]
    if not hits:
        return None
    return case(health, thresholds, max(hits), breach_at, baseline, now, rollout.started_at)


def case(health: ServiceHealth, thresholds: Thresholds, changed_at: datetime, breach_at: datetime,
         baseline: tuple[float, float] | None, now: datetime | None, before_at: datetime,
         actor: str = "") -> Evidence:
    """The evidence against a change at `changed_at` (the figure that breached, before `before_at` and now)."""
    if health.error_ratio >= thresholds.error_ratio:
        figure, value, series, known = "error ratio", health.error_ratio, health.series.error_ratio, 0
    else:
        figure, value, series, known = "p99", health.p99_ms, health.series.p99_ms, 1
    if baseline is not None:
        before: float | None = baseline[known]
    else:
        before = figure_at(series, health.series.interval_s, now, before_at) if now else None
    return Evidence(figure, before, value, changed_at, breach_at, actor)
