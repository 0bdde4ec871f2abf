"""The kill switch's plan: one flag turned on or off in production, with everything its confirmation names (the
flag, its project and environment, its state and strategies, who changed it last). The flag as the confirmation
showed it is the pin: if it is no longer so when the request would leave, nothing is sent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from monotui.engine.audit import AuditRecord, Stage
from monotui.models import Flag, flag_difference


@dataclass(frozen=True)
class FlagPlan:
    source: str
    flag: Flag  # as confirmed: the pin
    enabled: bool  # the state asked for
    protected: bool = False  # in `protected_flags`: the name must be typed
    idempotency_key: str = field(default_factory=lambda: uuid.uuid4().hex)  # ties the audit records together

    @property
    def name(self) -> str:
        return self.flag.name

    @property
    def project(self) -> str:
        return self.flag.project

    @property
    def environment(self) -> str:
        return self.flag.environment

    @property
    def strategies(self) -> list[str]:
        return self.flag.strategies

    @property
    def from_state(self) -> str:
        """'on (rollout 50%)', 'off'."""
        return self.flag.state

    @property
    def to_state(self) -> str:
        return "on" if self.enabled else "off"

    @property
    def action(self) -> str:
        """As in the audit log: 'flag-on' or 'flag-off'."""
        return f"flag-{self.to_state}"

    @property
    def verb(self) -> str:
        return f"turn {self.to_state}"

    @property
    def last_changed_by(self) -> str:
        """Who changed the flag last ('' when the flag server has not said)."""
        return self.flag.last_change.actor if self.flag.last_change else ""

    @property
    def last_changed(self) -> str:
        """'by alice at 2026-11-26 14:02 UTC', or 'unknown'."""
        change = self.flag.last_change
        if change is None:
            return "unknown"
        return f"by {change.actor or '?'} at {change.time:%Y-%m-%d %H:%M:%S %Z}".rstrip()

    @property
    def title(self) -> str:
        return f"Turn {self.to_state} flag {self.name}"

    @property
    def target(self) -> str:
        return f"flag {self.name} in project {self.project}, environment {self.environment} (source {self.source})"

    @property
    def effect(self) -> str:
        if self.enabled:
            return "the flag is served on again with its strategies (Unleash's default: everyone, if it has none)"
        return "the flag is off for everyone in this environment"

    def summary(self) -> str:
        return f"{self.title} (project {self.project}, environment {self.environment}, source {self.source}): " \
               f"{self.from_state} → {self.to_state}"

    def differs(self, now: Flag | None) -> str | None:
        """How the flag as monotui now sees it differs from what was confirmed, or None."""
        if now is None:
            return "it is no longer listed by its source"
        return flag_difference(self.flag, now)

    def audit_fields(self, now: str | None = None) -> dict[str, object]:
        """What the audit log keeps of the flag (the `flag` field of its records)."""
        record: dict[str, object] = {
            "name": self.name, "project": self.project, "environment": self.environment,
            "from": self.from_state, "to": self.to_state, "strategies": list(self.strategies),
            "last_changed_by": self.last_changed_by}
        if now is not None:
            record["now"] = now
        return record

    @property
    def guard(self) -> str:
        """One change at a time per flag."""
        return f"flag:{self.project}/{self.name}"

    @property
    def resend(self) -> bool:
        return False  # a kill switch has no key the flag server honours: never sent again as the same intent

    def audit_record(self, stage: Stage, *, actor: str, reason: str | None, error: str | None,
                     confirmed_by: str | None, automatic: bool = False, answer: Any = None, now: str | None = None,
                     read_back: bool = False) -> AuditRecord:
        if now is None and isinstance(answer, Flag):
            now = answer.state
        return AuditRecord(
            actor=actor, source=self.source, environment=self.environment, service=self.flag.service or "",
            rollout="", action=self.action, from_revision=None, to_revision=None, outcome=stage,
            reason=reason or None, error=error, idempotency_key=self.idempotency_key, confirmed_by=confirmed_by,
            flag=self.audit_fields(now))

    def outcome_message(self, outcome: str, error: str | None, now: str | None) -> str:
        what = f"Turn {self.to_state} flag {self.name} ({self.source})"
        if outcome == "done":
            return f"{what}: done" + (f". Now: {now}" if now else "")
        if outcome == "unknown":
            return (f"{what}: outcome unknown — {error}. " + (f"Now: {now}. " if now else "")
                    + "Check the flag before acting again.")
        return f"{what}: {outcome} — {error}"
