"""The simulated production's services and their releases (the world's state, apart from how it moves), so that
the modules that read them (revisions.py, instances.py) need not import the world that calls them."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from monotui.models import Phase, RevisionInfo, ServiceHealth, Step, Strategy

SERIES_POINTS = 30  # the detail panel shows 30; every poll carries them for every service


class UnknownRollout(KeyError):
    """No rollout with that id (HTTP 404)."""



@dataclass
class Release:
    revision: int
    version: str
    image: str
    commit: str
    commit_message: str
    author: str
    deployed_at: datetime
    bad: bool = False
    # how its time ended (simulator/revisions.py keeps these): an Ending value, why, who, and when it was live
    ended: str = ""
    end_reason: str = ""
    ended_by: str = ""
    live_from: datetime | None = None
    live_until: datetime | None = None

    def info(self) -> RevisionInfo:
        return RevisionInfo(
            revision=self.revision, version=self.version, image=self.image, commit=self.commit,
            commit_message=self.commit_message, author=self.author, deployed_at=self.deployed_at,
        )


@dataclass
class ServiceSim:
    name: str
    environment: str
    strategy: Strategy
    base_error: float
    base_p99: float
    base_rps: float
    history: list[Release]
    stable: Release
    current: Release
    phase: Phase = Phase.HEALTHY
    message: str = ""
    steps: tuple[Step, ...] = ()
    step_index: int | None = None
    step_elapsed: float = 0.0
    set_weight: int = 100
    actual_weight: float = 100.0
    pause_reason: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    rolled_back_at: datetime | None = None
    phase_since: float = 0.0  # sim seconds in the current phase
    # health
    error_ratio: float = 0.0
    p99_ms: float = 0.0
    rps: float = 0.0
    series_error: deque[float] = field(default_factory=lambda: deque(maxlen=SERIES_POINTS))
    series_p99: deque[float] = field(default_factory=lambda: deque(maxlen=SERIES_POINTS))
    # Prometheus counters
    requests: dict[str, float] = field(default_factory=lambda: {"200": 0.0, "500": 0.0})
    latency_buckets: list[float] = field(default_factory=list)
    latency_sum: float = 0.0
    health_at: float = 0.0  # the world's elapsed seconds at its last health sample
    # the health figures last published on the change feed: (error ratio, p99, rps, series)
    published: ServiceHealth | None = None

    @property
    def in_rollout(self) -> bool:
        return self.current.revision != self.stable.revision

    def rollback_target(self) -> Release | None:
        if self.in_rollout:
            return self.stable
        older = [r for r in self.history if r.revision < self.current.revision]
        return older[-1] if older else None


class ServiceTable(Protocol):
    """What the readers of the world's services ask of it (world.World): its lock, its services by name, and one
    service by rollout id (UnknownRollout when none)."""

    lock: Any
    services: dict[str, ServiceSim]

    def _service(self, rollout_id: str) -> ServiceSim: ...

