"""The plan that names exactly what one rollout action will do to which target.

The actions themselves (keys, words, when each applies, what each does) are one table, monotui/action_kinds.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from monotui.action_kinds import ActionKind, ActionSpec, RevisionRef, action_spec
from monotui.engine.audit import AuditRecord, Stage
from monotui.models import Phase, Rollout
from monotui.providers.base import Pin


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
            object.__setattr__(self, "pin", Pin.of(self.rollout, with_step=self.spec.kind is ActionKind.PROMOTE,
                                                   with_progress=self.spec.pins_progress))

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
    effect = spec.effect(rollout, revision)
    return ActionPlan(source, rollout, spec, effect.from_revision, effect.to_revision, effect.text, protected,
                      effect.target_revision)
