"""Domain models shared by every layer: what a rollout, its health and its events are.

These are also the wire format of the monotui deploy API (docs/deploy-api.md): the simulator serialises them and
the HTTP client validates responses against them, so the contract lives in one place.
No module here imports textual.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import msgspec
from msgspec import Meta

# A time without a zone is invalid on the wire (it would be read as local time and shift ages by hours).
AwareDatetime = Annotated[datetime, Meta(tz=True)]
NonNegative = Annotated[float, Meta(ge=0)]


class Phase(StrEnum):
    HEALTHY = "Healthy"
    PROGRESSING = "Progressing"
    PAUSED = "Paused"
    DEGRADED = "Degraded"
    ABORTED = "Aborted"


class Strategy(StrEnum):
    CANARY = "canary"
    BLUE_GREEN = "blue-green"


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


class _Model(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Unknown fields ignored. gc=False: these are acyclic data, so the garbage collector never scans the
    thousands of them a large production keeps alive (docs/performance.md). Each model repeats frozen and kw_only
    (neither msgspec nor the type checker carries them over from a base)."""


M = TypeVar("M", bound=msgspec.Struct)


def replace(model: M, **changes: Any) -> M:
    """A copy of `model` with `changes`: the one way the rest of the code copies a model."""
    return msgspec.structs.replace(model, **changes)


def as_json(model: msgspec.Struct, exclude: set[str] | None = None) -> dict[str, Any]:
    """`model` as JSON-ready data (times as ISO strings, enums as their values)."""
    data: dict[str, Any] = msgspec.to_builtins(model)
    for key in exclude or ():
        data.pop(key, None)
    return data


def fields_of(model: msgspec.Struct, exclude: set[str] | None = None) -> dict[str, Any]:
    """`model`'s fields as a dict, nested models, times and enums as they are: for msgspec to encode in C (what
    `as_json` gives, once encoded), without converting every value in Python first."""
    data = msgspec.structs.asdict(model)
    for key in exclude or ():
        data.pop(key, None)
    return data


def checked(model: M) -> M:
    """`model` validated as if it had been read from JSON (keyword construction checks no constraint): raises
    msgspec.ValidationError naming the field."""
    return msgspec.convert(msgspec.to_builtins(model), type(model))


class Step(_Model, frozen=True, kw_only=True):
    """One step of a rollout: shift traffic to `weight`, or pause (for `duration_s`, or until a human acts)."""

    weight: Annotated[int, Meta(ge=0, description="setWeight step: the canary's weight, out of the rollout's "
                                                  "max_weight")] | None = None
    pause: Annotated[bool, Meta(description="pause step")] = False
    duration_s: Annotated[float, Meta(ge=0, description="pause length; null = until a human acts")] | None = None
    label: Annotated[str | None, Meta(description="any other kind of step, as its engine names it")] = None


class RevisionInfo(_Model, frozen=True, kw_only=True):
    revision: int
    version: str
    image: str = ""
    commit: str = ""
    commit_message: str = ""
    author: str = ""
    deployed_at: AwareDatetime | None = None


class ImageTag(_Model, frozen=True, kw_only=True):
    image: str
    tags: Annotated[list[str], Meta(description="stable, canary, active, preview, Σ:template")] = []


class Metric(_Model, frozen=True, kw_only=True):
    name: str
    phase: str = ""
    message: str = ""
    values: Annotated[list[str], Meta(description="last measured values, oldest first")] = []
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0


class Analysis(_Model, frozen=True, kw_only=True):
    name: str
    revision: int | None = None
    phase: str = ""
    message: str = ""
    metrics: list[Metric] = []


class Owner(_Model, frozen=True, kw_only=True, omit_defaults=True):
    """Who owns a service: the team, who is on call, where the runbook and the dashboard are. Every field is
    optional; monotui/owners.py merges what the config, the deploy engine and the flag server say (the config wins)."""

    team: Annotated[str, Meta(description="the owning team, e.g. payments-team")] = ""
    on_call: Annotated[str, Meta(description="who is on call: a person or a rotation, e.g. payments-primary")] = ""
    runbook: Annotated[str, Meta(description="the runbook's URL (shown as text, never opened by monotui)")] = ""
    dashboard: Annotated[str, Meta(description="the service dashboard's URL (shown as text)")] = ""


class Instance(_Model, frozen=True, kw_only=True):
    """One running instance of a revision (a Kubernetes pod), as `kubectl get pods` shows it."""

    name: str
    revision: Annotated[int | None, Meta(description="the revision it runs")] = None
    phase: Annotated[str, Meta(description="Pending, Running, Succeeded, Failed, Unknown")] = "Running"
    status: Annotated[str, Meta(description="what `kubectl get pods` shows in STATUS when it is not the phase "
                                            "(CrashLoopBackOff, Terminating, OOMKilled…); empty: the phase")] = ""
    ready: Annotated[int, Meta(ge=0, description="containers ready")] = 0
    containers: Annotated[int, Meta(ge=0, description="containers in all")] = 0
    restarts: Annotated[int, Meta(ge=0, description="container restarts, summed")] = 0
    started_at: AwareDatetime | None = None
    node: str = ""
    container_names: list[str] = []


class LogLine(_Model, frozen=True, kw_only=True):
    """One line an instance wrote (the deploy API's logs endpoint sends one per line, newline-delimited JSON)."""

    time: AwareDatetime | None = None
    instance: Annotated[str, Meta(description="the instance (pod) that wrote it")] = ""
    container: str = ""
    revision: int | None = None
    message: str


class Rollout(_Model, frozen=True, kw_only=True):
    """One live rollout: the newest release of one service in one environment."""

    id: Annotated[str, Meta(description="stable identifier, unique within a source")]
    service: str
    environment: Annotated[str, Meta(description="environment or cluster the service runs in")]
    strategy: Strategy
    phase: Phase
    message: str = ""
    revision: Annotated[int, Meta(description="revision being rolled out (or running, when Healthy)")]
    version: str
    image: str = ""
    commit: str = ""
    commit_message: str = ""
    author: str = ""
    started_at: AwareDatetime
    updated_at: AwareDatetime | None = None
    steps: list[Step] = []
    current_step: Annotated[int, Meta(ge=0, description="index into steps; == len(steps) when done")] | None = None
    set_weight: Annotated[int, Meta(ge=0, description="desired weight of the new revision, out of max_weight")] = 0
    actual_weight: Annotated[int, Meta(ge=0, description="the weight it really takes, out of max_weight")] = 0
    max_weight: Annotated[int, Meta(description="the weight that is all of the traffic (100: weights are %); "
                                               "0 or below gives no share of traffic")] = 100
    pause_reason: str | None = None
    stable: Annotated[RevisionInfo | None, Meta(description="the revision serving the rest of traffic")] = None
    rollback_to: Annotated[RevisionInfo | None, Meta(description="what a rollback with no revision targets")] = None
    rolled_back_at: AwareDatetime | None = None
    images: Annotated[list[ImageTag], Meta(description="running images and their roles")] = []
    analysis: Annotated[list[Analysis], Meta(description="analysis runs, newest first")] = []
    errors: Annotated[list[str], Meta(description="error conditions the engine reports")] = []
    resource_version: Annotated[str | None, Meta(
        description="opaque version of the object in its engine (Kubernetes metadata.resourceVersion), if it has "
        "one: an action is pinned to the version that was confirmed")] = None
    owner: Annotated[Owner | None, Meta(description="optional: who owns the service (team, on call, runbook, "
                                              "dashboard)")] = None
    instances: Annotated[list[Instance], Meta(
        description="optional: the instances (pods) running the current and the stable revision, each with its "
        "revision")] = []

    def __post_init__(self) -> None:
        if self.max_weight > 0:
            weights = [self.set_weight, self.actual_weight, *(s.weight for s in self.steps if s.weight is not None)]
            if max(weights) > self.max_weight:
                raise ValueError(f"a weight of {max(weights)} is more than max_weight {self.max_weight}")

    def share(self, weight: int) -> float | None:
        """`weight` as a percentage of all traffic; None when max_weight gives no scale (0 or below)."""
        return weight * 100 / self.max_weight if self.max_weight > 0 else None

    def step_text(self, index: int | None = None) -> str | None:
        """The step (`current_step`, or `index`) as every view shows it, the Argo Rollouts plugin's
        `currentStepIndex/steps`: steps completed of all, `0/8` at the first step, `8/8` once done, and an index
        past the end as it is (`7/5`, never clamped). None without steps or without a step."""
        index = self.current_step if index is None else index
        return f"{index}/{len(self.steps)}" if index is not None and self.steps else None


class HealthSeries(_Model, frozen=True, kw_only=True):
    interval_s: float = 1.0
    error_ratio: list[float] = []
    p99_ms: list[float] = []


class ServiceHealth(_Model, frozen=True, kw_only=True):
    service: str
    error_ratio: Annotated[float, Meta(ge=0, le=1)]
    p99_ms: NonNegative
    rps: NonNegative
    series: HealthSeries = msgspec.field(default_factory=HealthSeries)


class Event(_Model, frozen=True, kw_only=True):
    id: Annotated[int, Meta(description="monotonically increasing; the `since` cursor")]
    time: AwareDatetime
    kind: EventKind
    service: str
    rollout_id: str
    revision: int | None = None
    actor: str = ""
    message: str = ""


class Alert(_Model, frozen=True, kw_only=True):
    """A firing alert, matched to a service by a label."""

    fingerprint: str
    name: str
    service: str
    severity: str = ""
    summary: str = ""
    labels: dict[str, str] = {}
    starts_at: AwareDatetime | None = None
    silenced_by: list[str] = []

    @property
    def silenced(self) -> bool:
        return bool(self.silenced_by)


# ---- API envelopes -------------------------------------------------------------------------------------------


CONTINUE_DOC = ("a paged list (asked with `limit`) has more items: pass this as `continue` for the next page; "
                "absent or null on the last page")


class RolloutList(_Model, frozen=True, kw_only=True):
    rollouts: list[Rollout]
    generated_at: AwareDatetime | None = None
    continue_: Annotated[str | None, Meta(description=CONTINUE_DOC)] = msgspec.field(default=None, name="continue")


class HealthList(_Model, frozen=True, kw_only=True):
    services: list[ServiceHealth]
    generated_at: AwareDatetime | None = None
    continue_: Annotated[str | None, Meta(description=CONTINUE_DOC)] = msgspec.field(default=None, name="continue")


class EventPage(_Model, frozen=True, kw_only=True):
    events: list[Event]
    cursor: Annotated[int, Meta(description="pass as `since` to get only newer events")]


class RolloutChanges(_Model, frozen=True, kw_only=True):
    """The change feed of rollouts: everything (`full`) or what changed since the cursor given."""

    cursor: Annotated[str, Meta(description="opaque; pass as `since` to get only later changes")]
    full: Annotated[bool, Meta(description="true: `rollouts` is every live rollout (replace what you have)")]
    rollouts: Annotated[list[Rollout], Meta(description="the changed rollouts as they are now (all when `full`)")]
    removed: Annotated[list[str], Meta(description="ids of rollouts that went away")] = []
    continue_: Annotated[str | None, Meta(description=CONTINUE_DOC)] = msgspec.field(default=None, name="continue")


class HealthChanges(_Model, frozen=True, kw_only=True):
    """The change feed of health: every service (`full`) or those whose figures moved beyond a step."""

    cursor: Annotated[str, Meta(description="opaque; pass as `since` to get only later changes")]
    full: Annotated[bool, Meta(description="true: `services` is every service (replace what you have)")]
    services: list[ServiceHealth]
    continue_: Annotated[str | None, Meta(description=CONTINUE_DOC)] = msgspec.field(default=None, name="continue")


class ActionRequest(_Model, frozen=True, kw_only=True, omit_defaults=True):  # what is not given is not sent
    actor: Annotated[str, Meta(min_length=1, description="the person asking, e.g. alice@bastion-1")]
    reason: str | None = None
    revision: Annotated[int | None, Meta(description="rollback only: target revision (default: rollback_to)")] = None
    expected_revision: Annotated[int | None, Meta(
        description="precondition: act only if the rollout's current revision is still this one "
        "(else 412 target_changed); monotui always sends the revision its confirmation showed")] = None
    expected_step: Annotated[int | None, Meta(
        description="promote only, precondition: act only if the rollout is still at this step "
        "(0-based current_step; else 412 target_changed)")] = None


class ActionResponse(_Model, frozen=True, kw_only=True):
    rollout: Rollout
    event: Event | None = None


class Freeze(_Model, frozen=True, kw_only=True):
    """The line is stopped: no new deploy starts and promotions and resumes are refused (rollback, abort and pause
    stay allowed: mitigation is never blocked)."""

    frozen: bool
    since: AwareDatetime | None = None
    actor: str = ""
    reason: str = ""
    services: Annotated[list[str], Meta(description="the services held; empty: every service")] = []


class FreezeRequest(_Model, frozen=True, kw_only=True, omit_defaults=True):
    actor: Annotated[str, Meta(min_length=1, description="the person asking, e.g. alice@bastion-1")]
    reason: str | None = None
    services: Annotated[list[str] | None, Meta(description="hold only these services; absent: every one")] = None


class ApiError(_Model, frozen=True, kw_only=True):
    error: str
    message: str


# ---- feature flags (Unleash) ---------------------------------------------------------------------------------


class FlagChangeKind(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    STRATEGY_CHANGED = "strategy_changed"  # a strategy added, removed, or changed (e.g. its rollout %)


class FlagChange(_Model, frozen=True, kw_only=True):
    """One change of a flag in the production environment, from the flag server's event log."""

    id: Annotated[int, Meta(description="the flag server's event id; increasing, the cursor")]
    time: AwareDatetime
    kind: FlagChangeKind
    flag: str
    project: str
    environment: str
    service: str | None = None
    actor: str = ""
    summary: Annotated[str, Meta(description="what changed, e.g. 'rollout 25% → 50%'")] = ""


class Flag(_Model, frozen=True, kw_only=True):
    """A feature flag as it is in the production environment."""

    name: str
    project: str
    environment: str
    enabled: bool
    service: Annotated[str | None, Meta(description="the service it belongs to (tag or name prefix)")] = None
    type: str = ""
    description: str = ""
    strategies: Annotated[list[str], Meta(description="one summary per active strategy")] = []
    rollout: Annotated[int, Meta(ge=0, le=100, description="% of traffic it is on for, if known")] | None = None
    stale: bool = False
    potentially_stale: bool = False
    created_at: AwareDatetime | None = None
    last_change: FlagChange | None = None
    strategy_pin: Annotated[str, Meta(description="a digest of the strategies' parameters, constraints, segments "
                                               "and variants: what a kill switch is pinned to besides on/off")] = ""
    unreadable: Annotated[str, Meta(description="what of the server's answer could not be read (then its state "
                                     "and strategies are not known); empty when all was read")] = ""
    team: Annotated[str, Meta(description="the owning team, from a tag (Unleash: tag types `team`, `owner`)")] = ""

    @property
    def state(self) -> str:
        """'on (rollout 50%)', 'off': what a kill switch pins, in words."""
        state = "on" if self.enabled else "off"
        return f"{state} ({', '.join(self.strategies)})" if self.strategies else state


def flag_difference(confirmed: Flag, now: Flag) -> str | None:
    """How `now` differs from the `confirmed` flag in what a kill switch is pinned to, in words; None: it does not."""
    if (now.enabled, now.strategies) != (confirmed.enabled, confirmed.strategies):
        return f"it was {confirmed.state}, it is now {now.state}"
    if now.strategy_pin != confirmed.strategy_pin:
        return f"its strategies' parameters, constraints or variants changed (it reads {now.state} still)"
    return None
