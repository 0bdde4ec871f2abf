"""The registry of rollout actions, and the plan that names exactly what one action will do to which target.

The UI builds its key bindings, footer, help screen and command palette from `ROLLOUT_ACTIONS`; the CLI uses the
same specs, so an action has one name, one key and one description everywhere.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from monotui.engine.audit import AuditRecord, Stage
from monotui.formats import traffic_percent
from monotui.models import ActionKind, Phase, RevisionInfo, Rollout
from monotui.providers.base import Pin

_ACTIVE = frozenset({Phase.PROGRESSING, Phase.PAUSED})


@dataclass(frozen=True)
class ActionSpec:
    kind: ActionKind
    key: str
    label: str  # as on a button: "Roll back"
    verb: str  # in a sentence: "roll back"
    description: str
    applies_to: frozenset[Phase]
    short: str | None = None  # where space is scarce (the footer at 80 columns)

    def applies(self, rollout: Rollout) -> bool:
        if self.kind is ActionKind.RETRY:
            return rollout.phase is Phase.ABORTED or (
                rollout.phase is Phase.DEGRADED and "RolloutAborted" in rollout.message)
        if self.kind is ActionKind.ROLLBACK:
            return rollout.rollback_to is not None or rollout.phase is not Phase.HEALTHY
        if self.kind in (ActionKind.PROMOTE_FULL, ActionKind.ABORT):
            in_rollout = rollout.stable is None or rollout.stable.revision != rollout.revision
            return rollout.phase in self.applies_to and in_rollout
        return rollout.phase in self.applies_to

    def why_not(self, rollout: Rollout) -> str | None:
        """Why this action does not apply to the rollout, in one line (None when it does)."""
        if self.applies(rollout):
            return None
        state = f"{rollout.service} is {rollout.phase.value}"
        if self.kind in (ActionKind.PROMOTE_FULL, ActionKind.ABORT) and rollout.phase in self.applies_to:
            return f"nothing to {self.verb}: r{rollout.revision} is already the stable revision of {rollout.service}"
        if self.kind is ActionKind.ROLLBACK:
            return f"{self.verb} needs an earlier revision to go back to, and {rollout.service} shows none"
        return f"{self.verb} needs {_NEEDS[self.kind]} ({state})"


_NEEDS = {
    ActionKind.PAUSE: "a progressing rollout",
    ActionKind.RESUME: "a paused rollout",
    ActionKind.PROMOTE: "a paused or progressing rollout",
    ActionKind.PROMOTE_FULL: "a rollout in progress (paused, progressing or degraded)",
    ActionKind.ABORT: "a rollout in progress (paused, progressing or degraded)",
    ActionKind.RETRY: "an aborted rollout",
    ActionKind.RESTART: "a rollout",
}


ROLLOUT_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(ActionKind.PAUSE, "p", "Pause", "pause", "Stop the rollout where it is; traffic stays as it is",
               frozenset({Phase.PROGRESSING})),
    ActionSpec(ActionKind.RESUME, "r", "Resume", "resume",
               "Unpause: continue from the current step (ends a pause that waits for a human)",
               frozenset({Phase.PAUSED})),
    ActionSpec(ActionKind.PROMOTE, "n", "Promote", "promote",
               "Skip to the next step now (the next weight, or past a pause)", _ACTIVE),
    ActionSpec(ActionKind.PROMOTE_FULL, "F", "Promote fully", "promote fully",
               "Skip every remaining step: the new revision takes 100% of traffic",
               _ACTIVE | {Phase.DEGRADED}, short="Full"),
    ActionSpec(ActionKind.ABORT, "A", "Abort", "abort",
               "Stop the rollout and send all traffic back to the stable revision",
               _ACTIVE | {Phase.DEGRADED}),
    ActionSpec(ActionKind.ROLLBACK, "b", "Roll back", "roll back",
               "Return to the previous good revision (the stable one during a rollout)",
               frozenset(Phase), short="Rollback"),
    ActionSpec(ActionKind.RETRY, "t", "Retry", "retry", "Start an aborted rollout's steps again",
               frozenset({Phase.ABORTED, Phase.DEGRADED})),
    ActionSpec(ActionKind.RESTART, "R", "Restart", "restart", "Restart the rollout's pods",
               frozenset(Phase)),
)

_BY_KIND = {spec.kind: spec for spec in ROLLOUT_ACTIONS}


def action_spec(kind: ActionKind | str) -> ActionSpec:
    return _BY_KIND[ActionKind(kind)]


@dataclass(frozen=True)
class RevisionRef:
    revision: int
    version: str

    def __str__(self) -> str:
        return f"r{self.revision} ({self.version})"

    @classmethod
    def of(cls, info: RevisionInfo | Rollout) -> RevisionRef:
        return cls(info.revision, info.version)


@dataclass(frozen=True)
class ActionPlan:
    """One intended action on one rollout, with everything a confirmation must name. One plan = one intent:
    its idempotency key goes with every request sent for it, so a retry can never act twice."""

    source: str
    rollout: Rollout
    spec: ActionSpec
    from_revision: RevisionRef
    to_revision: RevisionRef
    effect: str
    protected: bool = False
    target_revision: int | None = None  # rollback to this revision, always the one the confirmation names
    idempotency_key: str = field(default_factory=lambda: uuid.uuid4().hex)
    pin: Pin | None = None  # what the confirmation showed; the request carries it (None: built from `rollout`)
    attempt: int = 1  # > 1: the same intent sent again, with the same key, after an unknown outcome
    resend_reason: str | None = None  # a resend carries the first attempt's reason, so its body is identical

    def __post_init__(self) -> None:
        if self.pin is None:
            object.__setattr__(self, "pin", Pin.of(self.rollout, with_step=self.spec.kind is ActionKind.PROMOTE))

    @property
    def pinned(self) -> Pin:
        assert self.pin is not None
        return self.pin

    @property
    def resend(self) -> bool:
        return self.attempt > 1

    @property
    def title(self) -> str:
        return f"{self.spec.label} {self.rollout.service}"

    @property
    def target(self) -> str:
        return f"{self.rollout.service} in {self.rollout.environment} (source {self.source})"

    def summary(self) -> str:
        return (f"{self.spec.label} {self.rollout.service} in {self.rollout.environment} "
                f"(source {self.source}): {self.from_revision} → {self.to_revision}")

    @property
    def guard(self) -> str:
        """One action at a time per rollout."""
        return f"rollout:{self.rollout.id}"

    @property
    def ledger_key(self) -> tuple[str, str, str]:
        return (self.source, self.rollout.id, self.spec.kind.value)

    def shown(self) -> dict[str, object]:
        """What the confirmation showed beyond the record's own fields: a resend shows exactly this."""
        return {"from_version": self.from_revision.version, "to_version": self.to_revision.version,
                "effect": self.effect}

    def audit_record(self, stage: Stage, *, actor: str, reason: str | None, error: str | None,
                     confirmed_by: str | None, automatic: bool, answer: Any = None, now: str | None = None,
                     read_back: bool = False) -> AuditRecord:
        r = self.rollout
        seen = Pin.of(answer, with_step=True) if read_back and isinstance(answer, Rollout) else None
        return AuditRecord(
            actor=actor, source=self.source, environment=r.environment, service=r.service, rollout=r.id,
            action=self.spec.kind.value, from_revision=self.from_revision.revision,
            to_revision=self.to_revision.revision, outcome=stage, reason=reason or None, error=error,
            idempotency_key=self.idempotency_key, automatic=automatic, confirmed_by=confirmed_by,
            expected_revision=self.pinned.revision, expected_step=self.pinned.step,
            target_revision=self.target_revision, attempt=self.attempt, pin=pin_record(self.pinned),
            seen=pin_record(seen) if seen is not None else None, shown=self.shown())


def pin_record(pin: Pin) -> dict[str, object]:
    return {"revision": pin.revision, "step": pin.step, "phase": pin.phase.value if pin.phase else None,
            "weight": pin.weight, "version": pin.version}


def pin_of(data: object) -> Pin | None:
    """A pin as an audit record keeps it (None: not one)."""
    if not isinstance(data, dict) or not isinstance(data.get("revision"), int):
        return None
    phase = data.get("phase")
    return Pin(data["revision"], data.get("step") if isinstance(data.get("step"), int) else None,
               Phase(phase) if phase in {p.value for p in Phase} else None,
               data.get("weight") if isinstance(data.get("weight"), int) else None,
               data.get("version") if isinstance(data.get("version"), str) else None)


def plan_action(
    source: str, rollout: Rollout, kind: ActionKind, *, protected: bool = False, revision: int | None = None
) -> ActionPlan:
    spec = action_spec(kind)
    current = RevisionRef.of(rollout)
    stable = RevisionRef.of(rollout.stable) if rollout.stable else current
    steps = len(rollout.steps)
    step = rollout.current_step
    if kind is ActionKind.ROLLBACK:
        target = rollout.rollback_to
        if revision is not None and (target is None or target.revision != revision):
            to = RevisionRef(revision, "?")
        else:
            to = RevisionRef.of(target) if target else stable
        effect = f"all traffic moves to {to}"
        return ActionPlan(source, rollout, spec, current, to, effect, protected, to.revision)
    if kind is ActionKind.ABORT:
        return ActionPlan(source, rollout, spec, current, stable,
                          f"{current} stops taking traffic; all traffic back on {stable}", protected)
    if kind is ActionKind.PROMOTE_FULL:
        return ActionPlan(source, rollout, spec, stable, current,
                          f"{current} takes 100% of traffic, skipping the remaining steps", protected)
    if kind is ActionKind.PROMOTE:
        # the step as the Step column shows it (Rollout.step_text); promote moves it one on, never past the end
        if step is None or not steps:
            where = "next step"
        elif step >= steps:
            where = f"step {rollout.step_text()} (past the last step)"
        elif step + 1 < steps:
            where = f"step {rollout.step_text()} → {rollout.step_text(step + 1)}"
        else:  # the last step: the rollout completes
            where = f"step {rollout.step_text()} → {rollout.step_text(steps)}, done: 100% of traffic"
        return ActionPlan(source, rollout, spec, stable, current, f"{current} advances: {where}", protected)
    if kind is ActionKind.RETRY:
        return ActionPlan(source, rollout, spec, stable, current,
                          f"{current} starts its steps again from the first", protected)
    if kind is ActionKind.RESTART:
        return ActionPlan(source, rollout, spec, current, current,
                          f"the pods of {current} restart, one by one", protected)
    share = rollout.share(rollout.actual_weight)
    at = f"{traffic_percent(share)} of traffic" if share is not None else f"weight {rollout.actual_weight}"
    if kind is ActionKind.PAUSE:
        return ActionPlan(source, rollout, spec, current, current, f"{current} stays at {at} until resumed",
                          protected)
    return ActionPlan(source, rollout, spec, current, current, f"{current} continues from {at}", protected)
