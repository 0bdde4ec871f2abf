"""Rollout actions (pause, promote, roll back, …) through the action pipeline: the plan a confirmation shows, the
send function, the answer checked against the confirmed target, the read-back, and resending an attempt whose
outcome is unknown with its own key (the resend ledger)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import msgspec

from monotui.action_kinds import ActionKind, RevisionRef, action_spec
from monotui.config import Settings
from monotui.engine.actions import ActionPlan, pin_of, plan_action
from monotui.engine.outcomes import ActionOutcome
from monotui.engine.pipeline import ActionPipeline, Sender
from monotui.engine.resend_ledger import ResendLedger
from monotui.engine.state import ProductionState
from monotui.models import Rollout
from monotui.providers import ProviderError, Source
from monotui.providers.base import Pin, PinsRollbackTargets, RolloutActor, SkipsUnchangedLists
from monotui.text import clean

log = logging.getLogger(__name__)


def unchanged(seen: Pin | None, rollout: Rollout) -> bool:
    """Whether an unknown attempt may be sent again with its key: the rollout is as read back after it, or it was
    never read back (then nothing tells a new intent from the old one, and a new key could act twice — e.g. a
    second rollback — while the same key is replayed if it acted, and refused by the server's pin if it is stale)."""
    return seen is None or seen.differs(rollout) is None


def describe(rollout: Rollout) -> str:
    """A rollout in one line, as a read-back reports it, with the step as the Step column shows it."""
    step = f", step {shown}" if (shown := rollout.step_text()) else ""
    return f"{rollout.service} r{rollout.revision} ({rollout.version}) {rollout.phase.value}{step}"


def other_rollout(plan: ActionPlan, answer: Rollout) -> str | None:
    """How an answer is about another rollout than the one confirmed (None: it is about that one). The id alone is
    not enough: a server can answer about another service, environment or namespace under the same id."""
    want = plan.rollout
    if answer.id != want.id:
        return f"the answer was about another rollout ({clean(answer.id, 80)}), not {clean(want.id, 80)}"
    seen = [f"{name} {clean(got, 80)!r}" for name, expected, got in (
        ("service", want.service, answer.service), ("environment", want.environment, answer.environment))
        if expected != got]
    if not seen:
        return None
    return (f"the answer was about another rollout ({', '.join(seen)} under the same id {clean(want.id, 80)}), "
            f"not {clean(want.service, 80)} in {clean(want.environment, 80)}")


def plan_from_record(settings: Settings, source: str, rollout: Rollout,
                     record: Mapping[str, Any]) -> tuple[ActionPlan, Pin | None] | None:
    """The intent a record describes, to be sent again — and shown exactly as it will be sent: its target, its
    revisions and its effect come from the record, never from the rollout as it is now (None: not a usable
    record)."""
    pin, seen = pin_of(record.get("pin")), pin_of(record.get("seen"))
    if pin is None:
        return None
    shown = record.get("shown") if isinstance(record.get("shown"), dict) else {}
    assert isinstance(shown, dict)
    try:
        spec = action_spec(str(record["action"]))
        from_ref = RevisionRef(int(record["from_revision"]), str(shown.get("from_version") or "?"))
        to_ref = RevisionRef(int(record["to_revision"]), str(shown.get("to_version") or "?"))
        target = record.get("target_revision")
        target_revision = int(target) if isinstance(target, int) else None
        service = record.get("service") if isinstance(record.get("service"), str) else rollout.service
        environment = (record.get("environment") if isinstance(record.get("environment"), str)
                       else rollout.environment)
        effect = shown.get("effect")
        if not isinstance(effect, str):  # a record from before `shown`: say only what the record holds
            effect = (f"all traffic moves to r{target_revision if target_revision is not None else to_ref.revision}"
                      if spec.kind is ActionKind.ROLLBACK else
                      f"{spec.verb} as first sent: {from_ref} → {to_ref}")
        reason = record.get("reason")
        plan = ActionPlan(
            source, msgspec.structs.replace(rollout, service=str(service), environment=str(environment)), spec,
            from_ref, to_ref,
            effect, protected=settings.is_protected(str(service)), target_revision=target_revision,
            idempotency_key=str(record["idempotency_key"]), pin=pin,
            attempt=int(record.get("attempt") or 1),
            resend_reason=reason if isinstance(reason, str) else None)
    except (KeyError, ValueError, TypeError):
        return None
    # what the rollout looked like after that attempt (None: never read back — killed in flight, or the read
    # failed — so whether it acted is not known and only the same key is safe)
    return plan, seen


class RolloutActions:
    def __init__(self, settings: Settings, providers: Mapping[str, Source], state: ProductionState,
                 pipeline: ActionPipeline, ledger: ResendLedger[ActionPlan, Pin | None]) -> None:
        self.settings = settings
        self.providers = providers
        self.state = state
        self.pipeline = pipeline
        self.ledger = ledger
        # why an action is refused by a freeze (engine/freeze.py), set by the engine: (source, service, kind)
        self.frozen: Callable[[str, str, ActionKind], str | None] = lambda source, service, kind: None
        # audit-log (and ledger) intents without a known outcome, not yet matched to a rollout on screen
        self.unresolved: list[dict[str, Any]] = [
            record for record in ledger.unresolved()
            # another person's key cannot be re-sent by this one (its body names the actor); a kill switch has
            # no key to send again
            if record.get("actor") == settings.actor and not record.get("automatic") and not record.get("flag")
            and record.get("rollout")]

    # ---- what can act ----

    def can(self, source: str, kind: ActionKind) -> bool:
        provider = self.providers[source]
        return isinstance(provider, RolloutActor) and kind in provider.capabilities

    def idempotent(self, source: str) -> bool:
        provider = self.providers.get(source)
        return isinstance(provider, RolloutActor) and provider.idempotent

    def _actor(self, source: str) -> RolloutActor:
        provider = self.providers[source]
        if not isinstance(provider, RolloutActor):  # `execute` refuses before this: the source cannot act
            raise ProviderError("conflict", f"source {source} takes no rollout actions")
        return provider

    # ---- planning ----

    def plan(self, source: str, rollout: Rollout, kind: ActionKind, revision: int | None = None) -> ActionPlan:
        key = (source, rollout.id, kind.value)
        pending = self.ledger.get(key)
        if pending is not None:
            earlier, seen = pending
            if unchanged(seen, rollout) and (revision is None or revision == earlier.target_revision):
                return replace(earlier, attempt=earlier.attempt + 1)
            self.ledger.settle(key)
        plan = plan_action(source, rollout, kind, protected=self.settings.is_protected(rollout.service),
                           revision=revision)
        provider = self.providers.get(source)
        if plan.target_revision is not None and isinstance(provider, PinsRollbackTargets):
            # what the rollback will send, as shown now: an edit of the target's objects meanwhile refuses it
            target = provider.target_fingerprint(rollout, plan.target_revision)
            if target is not None:
                plan = replace(plan, pin=replace(plan.pinned, target=target))
        return plan

    def pending_resend(self, source: str, rollout_id: str, kind: ActionKind) -> bool:
        pending = self.ledger.get((source, rollout_id, kind.value))
        now = self.state.rollout(source, rollout_id)
        return pending is not None and now is not None and unchanged(pending[1], now)

    def adopt_unresolved(self) -> list[ActionPlan]:
        out = []
        for record in list(self.unresolved):
            source, rollout_id = str(record.get("source")), str(record.get("rollout"))
            rollout = self.state.rollout(source, rollout_id) if source in self.providers else None
            if rollout is None:
                continue
            self.unresolved.remove(record)
            found = plan_from_record(self.settings, source, rollout, record)
            if found is None or not self.idempotent(source) or not unchanged(found[1], rollout):
                continue
            self.ledger.adopt(found[0].ledger_key, *found)
            out.append(found[0])
        return out

    def target_changed(self, plan: ActionPlan) -> str | None:
        now = self.state.rollout(plan.source, plan.rollout.id)
        if now is None:
            return "it is no longer listed by its source"
        if plan.resend and self.idempotent(plan.source):
            pending = self.ledger.get(plan.ledger_key)
            return None if pending is not None and unchanged(pending[1], now) else \
                "it changed since the attempt whose outcome is unknown"
        return plan.pinned.differs(now)

    # ---- sending ----

    async def refuse(self, plan: ActionPlan, why: str, reason: str | None = None,
                     confirmed_by: str | None = None) -> ActionOutcome:
        result = await self.pipeline.refuse(plan, why, reason=reason, confirmed_by=confirmed_by)
        return ActionOutcome(plan, "refused", why, audit_error=result.audit_error)

    def _refusal(self, plan: ActionPlan) -> str | None:
        if not self.can(plan.source, plan.spec.kind):
            return f"source {plan.source} cannot {plan.spec.verb}"
        if frozen := self.frozen(plan.source, plan.rollout.service, plan.spec.kind):
            return f"{frozen}. Nothing was sent (pause, abort and rollback stay allowed)"
        if changed := self.target_changed(plan):
            return f"target changed since it was confirmed: {changed}. Nothing was sent; look again and re-open " \
                   "the action"
        return None

    async def execute(self, plan: ActionPlan, reason: str | None, *, automatic: bool,
                      confirmed_by: str | None) -> ActionOutcome:
        sender: Sender[ActionPlan, Rollout] = Sender(
            send=self._send, what="action", other_target=other_rollout, read_back=self._read_back,
            apply=lambda p, rollout: self.show_answer(p.source, rollout))
        result = await self.pipeline.run(
            plan, sender, reason=reason, confirmed_by=confirmed_by, automatic=automatic,
            refusal=lambda: self._refusal(plan), busy=f"another action on {plan.rollout.service} is still in flight",
            ledger=self.ledger, target_name=plan.rollout.service)
        if not result.sent:
            return ActionOutcome(plan, result.outcome, result.error, audit_error=result.audit_error)
        rollout = result.answer
        if result.outcome == "unknown" and self.idempotent(plan.source):
            seen = Pin.of(rollout, with_step=True) if rollout is not None else None
            self.ledger.keep(plan.ledger_key, plan, seen)
        else:
            self.ledger.settle(plan.ledger_key)
        return ActionOutcome(plan, result.outcome, result.error, rollout, result.now, result.audit_error,
                             self.idempotent(plan.source))

    async def _send(self, plan: ActionPlan, reason: str | None) -> Rollout:
        return await self._actor(plan.source).act(
            plan.rollout, plan.spec.kind, actor=self.settings.actor, reason=reason, revision=plan.target_revision,
            idempotency_key=plan.idempotency_key, pin=plan.pinned)

    async def _read_back(self, plan: ActionPlan) -> tuple[Rollout | None, str]:
        """After an unknown outcome or a resend: the rollout as the backend shows it now (best effort, bounded)."""
        try:
            async with asyncio.timeout(self.settings.source(plan.source).timeout + 1):
                rollout = await self._actor(plan.source).read(plan.rollout.id)
        except Exception as e:  # any failure only means we cannot say
            return None, f"cannot read {plan.rollout.service} back ({type(e).__name__})"
        if other_rollout(plan, rollout):
            return None, f"cannot read {plan.rollout.service} back (the answer was about another rollout)"
        return rollout, describe(rollout)

    def show_answer(self, source: str, rollout: Rollout) -> None:
        """An action's answer (or its read-back) on screen at once; the source's next list is read whole, so the
        list has the last word even if it is byte for byte as before (no await between: a poll ending in between
        would note the list as seen with the answer not yet shown)."""
        self.state.apply_rollout(source, rollout)
        provider = self.providers[source]
        if isinstance(provider, SkipsUnchangedLists):
            provider.forget_etag()
