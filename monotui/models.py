"""Domain models shared by every layer: what a rollout, its health and its events are.

These are also the wire format of the monotui deploy API (docs/deploy-api.md): the simulator serialises them and
the HTTP client validates responses against them, so the contract lives in one place.
No module here imports textual.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class Phase(StrEnum):
    HEALTHY = "Healthy"
    PROGRESSING = "Progressing"
    PAUSED = "Paused"
    DEGRADED = "Degraded"
    ABORTED = "Aborted"


class Strategy(StrEnum):
    CANARY = "canary"
    BLUE_GREEN = "blue-green"


class ActionKind(StrEnum):
    """Every action monotui can ask a deploy engine to take; the value is the API path segment."""

    PAUSE = "pause"
    RESUME = "resume"
    PROMOTE = "promote"
    PROMOTE_FULL = "promote-full"
    ABORT = "abort"
    ROLLBACK = "rollback"
    RETRY = "retry"  # Argo Rollouts: start an aborted rollout again
    RESTART = "restart"  # Argo Rollouts: restart the pods


# what the monotui deploy API offers (retry and restart are Argo Rollouts actions)
DEPLOY_API_ACTIONS = (ActionKind.PAUSE, ActionKind.RESUME, ActionKind.PROMOTE, ActionKind.PROMOTE_FULL,
                      ActionKind.ABORT, ActionKind.ROLLBACK)


class EventKind(StrEnum):
    DEPLOY_STARTED = "deploy_started"
    STEP_ADVANCED = "step_advanced"
    PAUSED = "paused"
    RESUMED = "resumed"
    PROMOTED = "promoted"
    PROMOTED_FULL = "promoted_full"
    COMPLETED = "completed"
    DEGRADED = "degraded"
    ABORTED = "aborted"
    ROLLED_BACK = "rolled_back"
    FLAG = "flag"  # a feature flag changed (monotui's own, from a flag source; the deploy API never sends it)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


M = TypeVar("M", bound=BaseModel)


def replace(model: M, **changes: Any) -> M:
    """A copy of `model` with `changes`: the one way the rest of the code copies a model, so the models' library
    can change (docs/performance.md, decoding) without touching every caller."""
    return model.model_copy(update=changes)


def as_json(model: BaseModel, exclude: set[str] | None = None) -> dict[str, Any]:
    """`model` as JSON-ready data (times as ISO strings, enums as their values)."""
    return model.model_dump(mode="json", exclude=exclude)


class Step(_Model):
    """One step of a rollout: shift traffic to `weight`, or pause (for `duration_s`, or until a human acts)."""

    weight: int | None = Field(default=None, ge=0,
                               description="setWeight step: the canary's weight, out of the rollout's max_weight")
    pause: bool = Field(default=False, description="pause step")
    duration_s: float | None = Field(default=None, ge=0, description="pause length; null = until a human acts")
    label: str | None = Field(default=None, description="any other kind of step, as its engine names it")


class RevisionInfo(_Model):
    revision: int
    version: str
    image: str = ""
    commit: str = ""
    commit_message: str = ""
    author: str = ""
    deployed_at: AwareDatetime | None = None


class ImageTag(_Model):
    image: str
    tags: list[str] = Field(default_factory=list, description="stable, canary, active, preview, Σ:template")


class Metric(_Model):
    name: str
    phase: str = ""
    message: str = ""
    values: list[str] = Field(default_factory=list, description="last measured values, oldest first")
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0


class Analysis(_Model):
    name: str
    revision: int | None = None
    phase: str = ""
    message: str = ""
    metrics: list[Metric] = Field(default_factory=list)


class Rollout(_Model):
    """One live rollout: the newest release of one service in one environment."""

    id: str = Field(description="stable identifier, unique within a source")
    service: str
    environment: str = Field(description="environment or cluster the service runs in")
    strategy: Strategy
    phase: Phase
    message: str = ""
    revision: int = Field(description="revision being rolled out (or running, when Healthy)")
    version: str
    image: str = ""
    commit: str = ""
    commit_message: str = ""
    author: str = ""
    started_at: AwareDatetime
    updated_at: AwareDatetime | None = None
    steps: list[Step] = Field(default_factory=list)
    current_step: int | None = Field(default=None, ge=0, description="index into steps; == len(steps) when done")
    set_weight: int = Field(default=0, ge=0, description="desired weight of the new revision, out of max_weight")
    actual_weight: int = Field(default=0, ge=0, description="the weight it really takes, out of max_weight")
    max_weight: int = Field(default=100, description="the weight that is all of the traffic (100: weights are %); "
                                                     "0 or below gives no share of traffic")
    pause_reason: str | None = None
    stable: RevisionInfo | None = Field(default=None, description="the revision serving the rest of traffic")
    rollback_to: RevisionInfo | None = Field(default=None, description="what a rollback with no revision targets")
    rolled_back_at: AwareDatetime | None = None
    images: list[ImageTag] = Field(default_factory=list, description="running images and their roles")
    analysis: list[Analysis] = Field(default_factory=list, description="analysis runs, newest first")
    errors: list[str] = Field(default_factory=list, description="error conditions the engine reports")
    resource_version: str | None = Field(
        default=None, description="opaque version of the object in its engine (Kubernetes metadata."
        "resourceVersion), if it has one: an action is pinned to the version that was confirmed")

    @model_validator(mode="after")
    def _weights_within_max(self) -> Rollout:
        if self.max_weight > 0:
            weights = [self.set_weight, self.actual_weight, *(s.weight for s in self.steps if s.weight is not None)]
            if max(weights) > self.max_weight:
                raise ValueError(f"a weight of {max(weights)} is more than max_weight {self.max_weight}")
        return self

    def share(self, weight: int) -> float | None:
        """`weight` as a percentage of all traffic; None when max_weight gives no scale (0 or below)."""
        return weight * 100 / self.max_weight if self.max_weight > 0 else None


class HealthSeries(_Model):
    interval_s: float = 1.0
    error_ratio: list[float] = Field(default_factory=list)
    p99_ms: list[float] = Field(default_factory=list)


class ServiceHealth(_Model):
    service: str
    error_ratio: float = Field(ge=0, le=1)
    p99_ms: float = Field(ge=0)
    rps: float = Field(ge=0)
    series: HealthSeries = Field(default_factory=HealthSeries)


class Event(_Model):
    id: int = Field(description="monotonically increasing; the `since` cursor")
    time: AwareDatetime
    kind: EventKind
    service: str
    rollout_id: str
    revision: int | None = None
    actor: str = ""
    message: str = ""


class Alert(_Model):
    """A firing alert, matched to a service by a label."""

    fingerprint: str
    name: str
    service: str
    severity: str = ""
    summary: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    starts_at: AwareDatetime | None = None
    silenced_by: list[str] = Field(default_factory=list)

    @property
    def silenced(self) -> bool:
        return bool(self.silenced_by)


# ---- API envelopes -------------------------------------------------------------------------------------------


class RolloutList(_Model):
    rollouts: list[Rollout]
    generated_at: AwareDatetime | None = None


class HealthList(_Model):
    services: list[ServiceHealth]
    generated_at: AwareDatetime | None = None


class EventPage(_Model):
    events: list[Event]
    cursor: int = Field(description="pass as `since` to get only newer events")


class RolloutChanges(_Model):
    """The change feed of rollouts: everything (`full`) or what changed since the cursor given."""

    cursor: str = Field(description="opaque; pass as `since` to get only later changes")
    full: bool = Field(description="true: `rollouts` is every live rollout (replace what you have)")
    rollouts: list[Rollout] = Field(description="the changed rollouts as they are now (all when `full`)")
    removed: list[str] = Field(default_factory=list, description="ids of rollouts that went away")


class HealthChanges(_Model):
    """The change feed of health: every service (`full`) or those whose figures moved beyond a step."""

    cursor: str = Field(description="opaque; pass as `since` to get only later changes")
    full: bool = Field(description="true: `services` is every service (replace what you have)")
    services: list[ServiceHealth]


class ActionRequest(_Model):
    actor: str = Field(min_length=1, description="the person asking, e.g. alice@bastion-1")
    reason: str | None = None
    revision: int | None = Field(default=None, description="rollback only: target revision (default: rollback_to)")
    expected_revision: int | None = Field(
        default=None, description="precondition: act only if the rollout's current revision is still this one "
        "(else 412 target_changed); monotui always sends the revision its confirmation showed")
    expected_step: int | None = Field(
        default=None, description="promote only, precondition: act only if the rollout is still at this step "
        "(0-based current_step; else 412 target_changed)")


class ActionResponse(_Model):
    rollout: Rollout
    event: Event | None = None


class ApiError(_Model):
    error: str
    message: str


# ---- feature flags (Unleash) ---------------------------------------------------------------------------------


class FlagChangeKind(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    STRATEGY_CHANGED = "strategy_changed"  # a strategy added, removed, or changed (e.g. its rollout %)


class FlagChange(_Model):
    """One change of a flag in the production environment, from the flag server's event log."""

    id: int = Field(description="the flag server's event id; increasing, the cursor")
    time: AwareDatetime
    kind: FlagChangeKind
    flag: str
    project: str
    environment: str
    service: str | None = None
    actor: str = ""
    summary: str = Field(default="", description="what changed, e.g. 'rollout 25% → 50%'")


class Flag(_Model):
    """A feature flag as it is in the production environment."""

    name: str
    project: str
    environment: str
    enabled: bool
    service: str | None = Field(default=None, description="the service it belongs to (tag or name prefix)")
    type: str = ""
    description: str = ""
    strategies: list[str] = Field(default_factory=list, description="one summary per active strategy")
    rollout: int | None = Field(default=None, ge=0, le=100, description="% of traffic it is on for, if known")
    stale: bool = False
    potentially_stale: bool = False
    created_at: AwareDatetime | None = None
    last_change: FlagChange | None = None
    unreadable: str = Field(default="", description="what of the server's answer could not be read (then its "
                            "state and strategies are not known); empty when all was read")

    @property
    def state(self) -> str:
        """'on (rollout 50%)', 'off': what a kill switch pins, in words."""
        state = "on" if self.enabled else "off"
        return f"{state} ({', '.join(self.strategies)})" if self.strategies else state
