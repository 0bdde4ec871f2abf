"""What needs a human first: the order of the rollouts table, and whether a service's health is bad."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import IntEnum

from monotui.config import Thresholds
from monotui.models import Phase, Rollout, ServiceHealth

RECENT_ROLLBACK = timedelta(minutes=15)
# A breach ends when every figure is back under this share of its threshold, not the moment one reading dips under
# it: a figure hovering at its threshold (a canary's noisy error ratio) otherwise starts and ends a breach at every
# reading, and the suspect the operator is about to act on (`s`) comes and goes under the key.
RECOVERED = 0.9


class Attention(IntEnum):
    """Lower sorts first."""

    SUSPECT = -1  # changed just before its service's health breached: "what changed?"
    WAITING_FOR_HUMAN = 0
    UNHEALTHY = 1  # Degraded, or health figures over their thresholds
    ABORTED = 2
    ROLLED_BACK = 3  # just rolled back
    PROGRESSING = 4
    HEALTHY = 5


def is_unhealthy(health: ServiceHealth | None, thresholds: Thresholds, share: float = 1.0) -> bool:
    """A figure at or over its threshold (or over `share` of it)."""
    return health is not None and (
        health.error_ratio >= thresholds.error_ratio * share or health.p99_ms >= thresholds.p99_ms * share
    )


def still_breached(health: ServiceHealth | None, thresholds: Thresholds) -> bool:
    """Whether a breach that began goes on: until every figure is back under RECOVERED of its threshold."""
    return is_unhealthy(health, thresholds, RECOVERED)


def attention(rollout: Rollout, health: ServiceHealth | None, thresholds: Thresholds, now: datetime) -> Attention:
    if rollout.phase is Phase.PAUSED:
        return Attention.WAITING_FOR_HUMAN
    if rollout.phase is Phase.DEGRADED or is_unhealthy(health, thresholds):
        return Attention.UNHEALTHY
    if rollout.phase is Phase.ABORTED:
        return Attention.ABORTED
    if rollout.rolled_back_at is not None and now - rollout.rolled_back_at < RECENT_ROLLBACK:
        return Attention.ROLLED_BACK
    if rollout.phase is Phase.PROGRESSING:
        return Attention.PROGRESSING
    return Attention.HEALTHY


def sort_key(rank: Attention, rollout: Rollout) -> tuple[int, float, str]:
    # within a group: most recently started first, then by name for a stable order
    return (int(rank), -rollout.started_at.timestamp(), rollout.service)
