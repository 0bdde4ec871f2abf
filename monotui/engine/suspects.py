""""What changed?": when a service's health breaches its threshold, the rollouts of that service that started or
advanced in a window before the breach are suspects, with the evidence, ranked by it.

The rank (`rank_key`): a change before the breach comes before every change after it (those are only listed, and
only within a grace derived from the health source's measured lag: `grace_for`); then whether the share of traffic
the change touches can explain the jump of the breaching figure (a blue-green preview at 0% or a flag at 1%
cannot explain a service-wide rise of 18 points); then how close to the breach it happened."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

from monotui.config import Thresholds
from monotui.models import Phase, Rollout, ServiceHealth

WINDOW = timedelta(minutes=15)  # a change this long before the breach is still a suspect
GRACE = timedelta(seconds=30)  # the most an after-breach change is listed for (the grace is the measured lag)
MIN_GRACE = timedelta(seconds=1)
EXPLAIN_SLACK = 0.8  # a share that explains 80% of the jump explains it (the figures are noisy)
FLAT = 0.2  # a rise under 20% of the threshold since the change is no rise: the change did not move the figure


def grace_for(lag_s: float | None) -> timedelta:
    """How long after the breach a change is still listed: twice the health source's measured lag (the time
    between two readings of its figures), within [1 s, 30 s]; 30 s while no lag is measured yet."""
    if lag_s is None or not math.isfinite(lag_s):
        return GRACE
    return max(MIN_GRACE, min(GRACE, timedelta(seconds=2 * lag_s)))


@dataclass(frozen=True)
class Evidence:
    figure: str  # "error ratio" or "p99"
    before: float | None  # the figure just before the change (None: older than the history)
    now: float
    changed_at: datetime  # when the rollout started or last advanced, or the flag changed
    breach_at: datetime
    actor: str = ""  # who made the change, when the source says (flag changes)
    share: float | None = None  # the part of the service's traffic the change touches, 0..1 (None: not known)
    after_breach: bool = False  # every change of it in the window came after the breach: listed only
    threshold: float = 0.0  # the breaching figure's threshold (what a "rise" is measured against)
    began_at: datetime | None = None  # when the change began (a rollout's start; a flip: changed_at)
    flat_until: datetime | None = None  # the figure did not rise after it, until another change at this time
    rank: int = 0  # 1: the best evidenced suspect of its service (0: not ranked)
    of: int = 0  # how many suspects its service has

    @property
    def jump(self) -> float | None:
        return None if self.before is None else self.now - self.before

    @property
    def explains(self) -> bool | None:
        """Can the share of traffic the change touches explain how far the figure moved since it? None: not known.
        An error ratio rises by at most the share (every request the change touches failing); a p99 moves once a
        percent of requests is slow. A figure that did not rise since the change is not the change's doing."""
        jump = self.jump
        if self.flat_until is not None or (jump is not None and jump < FLAT * self.threshold):
            return False
        return self.share_covers

    @property
    def share_covers(self) -> bool | None:
        """Is the share of traffic the change touches enough for the rise (None: the share is not known)?"""
        if self.share is None:
            return None
        jump = self.jump
        if self.figure == "error ratio":
            if jump is None:
                return self.share > 0
            return self.share * (1.0 - (self.before or 0.0)) >= EXPLAIN_SLACK * jump
        return self.share >= 0.01

    @property
    def gap_s(self) -> float:
        return abs((self.breach_at - self.changed_at).total_seconds())


def rank_key(ev: Evidence) -> tuple[bool, int, float]:
    """Best evidenced first: before the breach, then a share that explains the jump (unknown between), closest."""
    explains = ev.explains
    return (ev.after_breach, 0 if explains else 1 if explains is None else 2, ev.gap_s)


T = TypeVar("T")


Readings = Callable[[datetime, datetime], list[tuple[float, float]]]


def flat_after(ev: Evidence, cases: Sequence[Evidence], readings: Readings) -> Evidence:
    """`ev` marked `flat_until` a later change of the same service when the service's readings between its start
    and that later change show the breaching figure did not rise (and stayed under its threshold): while it was
    on its own, it did not move the figure."""
    began = ev.began_at or ev.changed_at
    if ev.after_breach or ev.before is None:
        return ev
    later = sorted(t for c in cases if not c.after_breach and (t := c.began_at or c.changed_at) > began)
    known = 0 if ev.figure == "error ratio" else 1
    for until in later:
        points = [p[known] for p in readings(began, until)]
        if points and all(v - ev.before < FLAT * ev.threshold and v < ev.threshold for v in points):
            return replace(ev, flat_until=until)
    return ev


def ranked(cases: Iterable[tuple[Evidence, T]], readings: Readings | None = None) -> list[tuple[Evidence, T]]:
    """The cases of one service in rank order, each evidence numbered (rank, of); with `readings` (the service's
    health between two times), a change after which the figure stayed flat until another change ranks below."""
    cases = list(cases)
    if readings is not None and len(cases) > 1:
        evidences = [ev for ev, _ in cases]
        cases = [(flat_after(ev, evidences, readings), item) for ev, item in cases]
    ordered = sorted(cases, key=lambda c: rank_key(c[0]))
    return [(replace(ev, rank=i, of=len(ordered)), item) for i, (ev, item) in enumerate(ordered, 1)]


def rollout_share(rollout: Rollout) -> float | None:
    """The part of traffic a rollout's new revision serves now: its actual weight (a blue-green preview: 0%), all
    of it once fully promoted, none once aborted; None when the weights give no share."""
    if rollout.phase is Phase.ABORTED:
        return 0.0
    done = not rollout.steps or (rollout.current_step is not None and rollout.current_step >= len(rollout.steps))
    if rollout.phase is Phase.HEALTHY and done:
        return 1.0
    share = rollout.share(rollout.actual_weight)
    return None if share is None else max(0.0, min(1.0, share / 100))


def figure_at(series: list[float], interval_s: float, now: datetime, at: datetime) -> float | None:
    """The point of a health series (its last point is `now`) taken just before `at`; None when the series does
    not reach back that far."""
    if not series or interval_s <= 0:
        return None
    back = math.ceil((now - at).total_seconds() / interval_s)
    index = len(series) - 1 - max(back, 0)
    return series[index] if index >= 0 else None


def evidence(rollout: Rollout, health: ServiceHealth | None, thresholds: Thresholds, breach_at: datetime | None,
             baseline: tuple[float, float] | None = None, now: datetime | None = None,
             grace: timedelta = GRACE) -> Evidence | None:
    """The case against `rollout`, or None when it is not a suspect. `baseline` is (error ratio, p99) as monotui
    saw them when it first saw this revision; without it (the rollout was live before monotui started), the
    health history's point at the rollout's start stands in, or nothing ("?") when the history is shorter."""
    if health is None or breach_at is None:
        return None
    if rollout.rolled_back_at is not None and rollout.rolled_back_at >= breach_at:
        return None  # already mitigated
    changes = [t for t in (rollout.started_at, rollout.updated_at) if t is not None]
    before = [t for t in changes if breach_at - WINDOW <= t <= breach_at]
    after = [t for t in changes if breach_at < t <= breach_at + grace]
    if not before and not after:
        return None
    changed_at = max(before) if before else min(after)
    found = case(health, thresholds, changed_at, breach_at, baseline, now, rollout.started_at,
                 share=rollout_share(rollout), after_breach=not before)
    return replace(found, began_at=rollout.started_at)


def case(health: ServiceHealth, thresholds: Thresholds, changed_at: datetime, breach_at: datetime,
         baseline: tuple[float, float] | None, now: datetime | None, before_at: datetime,
         actor: str = "", share: float | None = None, after_breach: bool | None = None) -> Evidence:
    """The evidence against a change at `changed_at` (the figure that breached, before `before_at` and now)."""
    # the figure over its threshold (the error ratio first); in a breach's last stretch, both back under their
    # thresholds but not yet under RECOVERED of them, the one nearer its threshold
    over = health.error_ratio >= thresholds.error_ratio
    if over or (health.p99_ms < thresholds.p99_ms
                and health.error_ratio * thresholds.p99_ms >= health.p99_ms * thresholds.error_ratio):
        figure, value, series, known, limit = ("error ratio", health.error_ratio, health.series.error_ratio, 0,
                                               thresholds.error_ratio)
    else:
        figure, value, series, known, limit = "p99", health.p99_ms, health.series.p99_ms, 1, thresholds.p99_ms
    if baseline is not None:
        before: float | None = baseline[known]
    else:
        before = figure_at(series, health.series.interval_s, now, before_at) if now else None
    after = changed_at > breach_at if after_breach is None else after_breach
    return Evidence(figure, before, value, changed_at, breach_at, actor, share, after, limit)
