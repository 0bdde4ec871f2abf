"""How an action ended, as the UI and the CLI say it: done, refused, failed or outcome unknown."""

from __future__ import annotations

from dataclasses import dataclass

from monotui.engine.actions import ActionPlan
from monotui.engine.audit import Outcome
from monotui.engine.flag_plan import FlagPlan
from monotui.models import Flag, Rollout


@dataclass(frozen=True)
class ActionOutcome:
    plan: ActionPlan | FlagPlan
    outcome: Outcome
    error: str | None = None
    rollout: Rollout | None = None
    now: str | None = None  # after an unknown outcome: what monotui read back from the backend
    audit_error: str | None = None  # the outcome record could not be written (the intent was)
    resendable: bool = True  # the backend honours Idempotency-Keys, so the same intent can be sent again
    flag: Flag | None = None  # a kill switch: the flag as it is after (done, or read back)

    @property
    def ok(self) -> bool:
        return self.outcome == "done"

    def message(self) -> str:
        if isinstance(self.plan, FlagPlan):
            text = self.plan.outcome_message(self.outcome, self.error, self.now)
            if self.audit_error:
                text += f" (WARNING: the outcome is not in the audit log: {self.audit_error})"
            return text
        what = f"{self.plan.spec.label} {self.plan.rollout.service} ({self.plan.source})"
        if self.outcome == "done":
            text = f"{what}: done" + (" (sent again with the same key)" if self.plan.resend else "")
            if self.plan.resend and self.now:
                text += f". Now: {self.now}"
        elif self.outcome == "unknown":
            text = f"{what}: outcome unknown — {self.error}. " + (f"Now: {self.now}. " if self.now else "")
            if self.resendable:
                text += (f"While it stays so, the same command or key sends it again with the same "
                         f"Idempotency-Key ({self.plan.idempotency_key[:12]}…): the server acts at most once.")
            else:
                text += "This backend has no idempotency key: check the rollout before acting again."
        else:
            text = f"{what}: {self.outcome} — {self.error}"
        if self.audit_error:
            text += f" (WARNING: the outcome is not in the audit log: {self.audit_error})"
        return text
