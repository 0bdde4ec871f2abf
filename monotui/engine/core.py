"""The engine: owns the providers, the production state and the audit log; plans and executes actions.

The TUI, the non-interactive CLI and the benchmarks all drive production through this one class.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from monotui.config import Settings, security_warnings
from monotui.engine.actions import ActionPlan, RevisionRef, plan_action
from monotui.engine.audit import AuditError, AuditLog, AuditRecord, Outcome, Stage
from monotui.engine.polling import SourceUpdate, poll_forever, poll_once
from monotui.engine.state import ProductionState
from monotui.models import ActionKind, EventKind, Phase, Rollout, Strategy
from monotui.providers import ProviderError, Source, build_provider
from monotui.providers.base import AlertSilencer, HealthHistorySource, Pin, RolloutActor
from monotui.render.text import clean

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionOutcome:
    plan: ActionPlan
    outcome: Outcome
    error: str | None = None
    rollout: Rollout | None = None
    now: str | None = None  # after an unknown outcome: what monotui read back from the backend
    audit_error: str | None = None  # the outcome record could not be written (the intent was)

    @property
    def ok(self) -> bool:
        return self.outcome == "done"

    def message(self) -> str:
        what = f"{self.plan.spec.label} {self.plan.rollout.service} ({self.plan.source})"
        if self.outcome == "done":
            text = f"{what}: done" + (" (sent again with the same key)" if self.plan.resend else "")
        elif self.outcome == "unknown":
            text = (f"{what}: outcome unknown — {self.error}. "
                    + (f"Now: {self.now}. " if self.now else "")
                    + f"The same command or key sends it again with the same Idempotency-Key "
                    f"({self.plan.idempotency_key[:12]}…), so it cannot act twice.")
        else:
            text = f"{what}: {self.outcome} — {self.error}"
        if self.audit_error:
            text += f" (WARNING: the outcome is not in the audit log: {self.audit_error})"
        return text


def outcome_of(error: ProviderError) -> Outcome:
    """refused: the backend answered no; failed: the request provably never left; else unknown."""
    if error.refused:
        return "refused"
    return "failed" if error.not_sent else "unknown"


def describe(rollout: Rollout) -> str:
    step = f", step {rollout.current_step + 1}/{len(rollout.steps)}" if (
        rollout.current_step is not None and rollout.steps) else ""
    return f"{rollout.service} r{rollout.revision} ({rollout.version}) {rollout.phase.value}{step}"


class Engine:
    def __init__(
        self, settings: Settings, *, providers: dict[str, Source] | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.settings = settings
        self.providers = providers or {s.name: build_provider(s) for s in settings.sources}
        # a health source with history (Prometheus) speaks for every source's services
        self.state = ProductionState(settings, health_sources=[
            name for name, p in self.providers.items() if isinstance(p, HealthHistorySource)])
        self.warnings = security_warnings(settings)  # allowed but unsafe: shown once, and logged
        for warning in self.warnings:
            log.warning("%s", warning)
        self.audit = audit or AuditLog(settings.audit_log)
        self._in_flight: set[tuple[str, str]] = set()
        self._guarded: set[tuple[str, str, int]] = set()
        # (source, rollout id, action) → the plan whose outcome is unknown: the next one is sent with its key
        self._unknown: dict[tuple[str, str, str], ActionPlan] = {}
        self.unresolved: list[dict[str, Any]] = []  # audit-log intents without a known outcome, not yet matched
        self._load_unresolved()

    # ---- reading ----------------------------------------------------------------------------------------

    async def updates(self, source: str) -> AsyncIterator[SourceUpdate]:
        async for update in poll_forever(self.state, self.providers[source]):
            if update.ok:
                await self.run_guards()
            yield update

    async def run_guards(self) -> list[ActionOutcome]:
        """Pause each suspect canary of a guarded service, once per revision; audited as automatic."""
        out = []
        for view in self.state.views():
            r = view.rollout
            if (view.evidence is None or r.service not in self.settings.auto_pause_suspects
                    or r.strategy is not Strategy.CANARY or r.phase is not Phase.PROGRESSING or view.read_only):
                continue
            key = (view.source, r.id, r.revision)
            if key in self._guarded:
                continue
            self._guarded.add(key)
            ev = view.evidence
            reason = (f"automatic: {ev.figure} breached its threshold at {ev.breach_at:%H:%M:%S} "
                      f"after this rollout changed at {ev.changed_at:%H:%M:%S}")
            outcome = await self.execute(self.plan(view.source, r, ActionKind.PAUSE), reason, automatic=True)
            self.state.note(view.source, r, EventKind.PAUSED, f"paused by the monotui guard: {outcome.outcome}",
                            actor=f"monotui guard ({self.settings.actor})")
            out.append(outcome)
        return out

    async def refresh_once(self) -> list[SourceUpdate]:
        return list(await asyncio.gather(*(
            poll_once(self.state, p, self.settings.source(name).timeout) for name, p in self.providers.items()
        )))

    def can(self, source: str, kind: ActionKind) -> bool:
        """Whether the source's engine offers this action at all (Argo Rollouts has retry; the deploy API not)."""
        provider = self.providers[source]
        return isinstance(provider, RolloutActor) and kind in provider.capabilities

    def _actor(self, source: str) -> RolloutActor:
        provider = self.providers[source]
        if not isinstance(provider, RolloutActor):  # `execute` refuses before this: the source cannot act
            raise ProviderError("conflict", f"source {source} takes no rollout actions")
        return provider

    @property
    def has_history(self) -> bool:
        return any(isinstance(p, HealthHistorySource) for p in self.providers.values())

    def alert_sources(self) -> list[str]:
        """Sources whose alerts can be silenced."""
        return [name for name, p in self.providers.items() if isinstance(p, AlertSilencer)]

    def read_only(self, source: str) -> bool:
        return self.settings.is_read_only(source)

    def find(self, service: str, source: str | None = None) -> list[tuple[str, Rollout]]:
        return [(name, r) for name, r in self.state.iter_rollouts()
                if (r.service == service or r.id == service) and (source is None or name == source)]

    # ---- acting -----------------------------------------------------------------------------------------

    def plan(self, source: str, rollout: Rollout, kind: ActionKind, revision: int | None = None) -> ActionPlan:
        """The plan a confirmation shows. If the same action on the same rollout has an unknown outcome (this
        session, or an intent left without outcome in the audit log), it is that intent again: same
        Idempotency-Key, same pinned target, same reason — so sending it cannot act twice."""
        pending = self._unknown.get((source, rollout.id, kind.value))
        if pending is not None and (revision is None or revision == pending.target_revision):
            return replace(pending, rollout=rollout, attempt=pending.attempt + 1)
        return plan_action(source, rollout, kind, protected=self.settings.is_protected(rollout.service),
                           revision=revision)

    def pending_resend(self, source: str, rollout_id: str, kind: ActionKind) -> bool:
        """Whether this action on this rollout has an unknown outcome (so it can be sent again, same key)."""
        return (source, rollout_id, kind.value) in self._unknown

    def _load_unresolved(self) -> None:
        """Intents from the audit log with no outcome, or an unknown one, become resendable plans."""
        for record in self.audit.unresolved():
            if record.get("actor") != self.settings.actor or record.get("automatic"):
                continue  # another person's key cannot be re-sent by this one (its body names the actor)
            self.unresolved.append(record)

    def _plan_from_record(self, source: str, rollout: Rollout, record: dict[str, Any]) -> ActionPlan | None:
        try:
            kind = ActionKind(str(record["action"]))
            base = plan_action(source, rollout, kind, protected=self.settings.is_protected(rollout.service))
            pin = Pin(int(record["expected_revision"]),  # type: ignore[call-overload]
                      None if record.get("expected_step") is None else int(record["expected_step"]))  # type: ignore[call-overload]
            target = record.get("target_revision")
            return replace(
                base, idempotency_key=str(record["idempotency_key"]), pin=pin,
                target_revision=int(target) if isinstance(target, int) else None,  # type: ignore[arg-type]
                from_revision=RevisionRef(int(record["from_revision"]), "?"),  # type: ignore[call-overload]
                to_revision=RevisionRef(int(record["to_revision"]), "?"),  # type: ignore[call-overload]
                attempt=int(record.get("attempt") or 1),  # type: ignore[call-overload]
                resend_reason=record.get("reason") if isinstance(record.get("reason"), str) else None,
            )
        except (KeyError, ValueError, TypeError):
            return None

    def adopt_unresolved(self) -> list[ActionPlan]:
        """Match the audit log's unresolved intents to rollouts now in the state (after a first refresh)."""
        out = []
        for record in list(self.unresolved):
            source, rollout_id = str(record.get("source")), str(record.get("rollout"))
            rollout = self.state.rollout(source, rollout_id) if source in self.providers else None
            if rollout is None:
                continue
            plan = self._plan_from_record(source, rollout, record)
            if plan is not None:
                self._unknown.setdefault((source, rollout.id, plan.spec.kind.value), plan)
                out.append(plan)
            self.unresolved.remove(record)
        return out

    def _record(self, plan: ActionPlan, outcome: Stage, reason: str | None, error: str | None,
                automatic: bool = False, confirmed_by: str | None = None) -> None:
        r = plan.rollout
        self.audit.append(AuditRecord(
            actor=self.settings.actor, source=plan.source, environment=r.environment, service=r.service,
            rollout=r.id, action=plan.spec.kind.value, from_revision=plan.from_revision.revision,
            to_revision=plan.to_revision.revision, outcome=outcome, reason=reason or None, error=error,
            idempotency_key=plan.idempotency_key, automatic=automatic, confirmed_by=confirmed_by,
            expected_revision=plan.pinned.revision, expected_step=plan.pinned.step,
            target_revision=plan.target_revision, attempt=plan.attempt,
        ))

    async def refuse(self, plan: ActionPlan, why: str, reason: str | None = None,
                     confirmed_by: str | None = None) -> ActionOutcome:
        """Record an action that monotui itself refused to send (nothing is sent)."""
        try:
            await asyncio.to_thread(self._record, plan, "refused", reason, why, False, confirmed_by)
        except AuditError as e:
            return ActionOutcome(plan, "refused", why, audit_error=str(e))
        return ActionOutcome(plan, "refused", why)

    def target_changed(self, plan: ActionPlan) -> str | None:
        """How the rollout in the state differs from what `plan` pinned (None: still the same).

        A resend through an idempotent API is not checked here: if the first attempt acted, the target moved
        because of it and the server replays its answer; if it did not, the server checks the pin itself."""
        if plan.resend and self._actor(plan.source).idempotent:
            return None
        now = self.state.rollout(plan.source, plan.rollout.id)
        if now is None:
            return "it is no longer listed by its source"
        return plan.pinned.differs(now)

    async def execute(self, plan: ActionPlan, reason: str | None = None, *, automatic: bool = False,
                      confirmed_by: str | None = None) -> ActionOutcome:
        """Send one action, once, exactly as confirmed. The intent is on disk before the request leaves, and the
        outcome record before this returns (docs/reliability.md)."""
        reason = plan.resend_reason if plan.resend else ((reason or "").strip() or None)
        confirmed_by = "automatic" if automatic else confirmed_by
        if self.read_only(plan.source):
            return await self.refuse(plan, "read-only mode: no mutating request is sent", reason, confirmed_by)
        if not self.can(plan.source, plan.spec.kind):
            return await self.refuse(plan, f"source {plan.source} cannot {plan.spec.verb}", reason, confirmed_by)
        target = (plan.source, plan.rollout.id)
        if target in self._in_flight:
            return await self.refuse(plan, f"another action on {plan.rollout.service} is still in flight", reason,
                                     confirmed_by)
        if changed := self.target_changed(plan):
            return await self.refuse(plan, f"target changed since it was confirmed: {changed}. Nothing was sent; "
                                     "look again and re-open the action", reason, confirmed_by)
        self._in_flight.add(target)
        try:
            try:
                await asyncio.to_thread(self._record, plan, "intent", reason, None, automatic, confirmed_by)
            except AuditError as e:
                return ActionOutcome(plan, "refused", f"not sent: the audit log cannot be written ({e})")
            outcome, error, rollout = await self._send(plan, reason)
            now = None
            if outcome == "unknown":
                self._unknown[(plan.source, plan.rollout.id, plan.spec.kind.value)] = plan
                now = await self._read_back(plan)
            else:
                self._unknown.pop((plan.source, plan.rollout.id, plan.spec.kind.value), None)
            audit_error = None
            try:
                await asyncio.to_thread(self._record, plan, outcome, reason, error, automatic, confirmed_by)
            except AuditError as e:
                audit_error = str(e)
        finally:
            self._in_flight.discard(target)
        if rollout is not None:
            self.state.apply_rollout(plan.source, rollout)
        return ActionOutcome(plan, outcome, error, rollout, now, audit_error)

    async def _send(self, plan: ActionPlan, reason: str | None) -> tuple[Outcome, str | None, Rollout | None]:
        deadline = self.settings.source(plan.source).action_deadline_s
        try:
            async with asyncio.timeout(deadline):
                rollout = await self._actor(plan.source).act(
                    plan.rollout, plan.spec.kind, actor=self.settings.actor, reason=reason,
                    revision=plan.target_revision, idempotency_key=plan.idempotency_key, pin=plan.pinned,
                )
        except ProviderError as e:
            return outcome_of(e), e.message, None
        except TimeoutError:
            return "unknown", f"no complete answer within the action deadline of {deadline:g}s", None
        except asyncio.CancelledError:
            # monotui is stopping with the request in flight: the intent stays without outcome, which reads
            # back as "outcome unknown" at the next start
            raise
        except Exception as e:  # a provider bug after the request may have left: never silent, never "failed"
            log.exception("action %s on %s", plan.spec.kind.value, plan.rollout.id)
            return "unknown", f"internal error while sending ({type(e).__name__})", None
        if rollout.id != plan.rollout.id:
            return "unknown", (f"the answer was about another rollout ({clean(rollout.id, 80)}), not "
                               f"{clean(plan.rollout.id, 80)}"), None
        return "done", None, rollout

    async def _read_back(self, plan: ActionPlan) -> str | None:
        """After an unknown outcome: what the backend shows now (best effort, bounded)."""
        try:
            async with asyncio.timeout(self.settings.source(plan.source).timeout + 1):
                rollout = await self._actor(plan.source).read(plan.rollout.id)
        except Exception as e:  # any failure only means we cannot say
            return f"cannot read {plan.rollout.service} back ({type(e).__name__})"
        if rollout.id != plan.rollout.id:
            return None
        self.state.apply_rollout(plan.source, rollout)
        return describe(rollout)

    async def history(self, service: str) -> Any:
        """The last 30 minutes of a service's health from the first source that keeps history (None without)."""
        for provider in self.providers.values():
            if isinstance(provider, HealthHistorySource):
                return await provider.history(service)
        return None

    async def silence(self, source: str, service: str, duration_s: float, comment: str) -> tuple[bool, str]:
        """Silence a service's alerts (audited): (True, silence id) or (False, why)."""
        return await self._alert_action(source, service, "silence", comment,
                                        lambda p: p.silence(service, duration_s, comment, self.settings.actor))

    async def expire_silence(self, source: str, service: str, silence_id: str) -> tuple[bool, str]:
        return await self._alert_action(source, service, "expire-silence", f"silence {silence_id}",
                                        lambda p: p.expire(silence_id))

    async def _alert_action(self, source: str, service: str, action: str, reason: str,
                            call: Any) -> tuple[bool, str]:
        """Write-ahead like rollout actions: intent, then the request, then the outcome."""
        key = uuid.uuid4().hex

        def record(outcome: Stage, error: str | None) -> None:
            self.audit.append(AuditRecord(
                actor=self.settings.actor, source=source, environment="", service=service, rollout="",
                action=action, from_revision=None, to_revision=None, outcome=outcome, reason=reason or None,
                error=error, idempotency_key=key))

        provider = self.providers.get(source)
        try:
            if self.read_only(source):
                await asyncio.to_thread(record, "refused", "read-only mode: no mutating request is sent")
                return False, "refused: read-only mode, nothing was sent"
            if not isinstance(provider, AlertSilencer):
                await asyncio.to_thread(record, "refused", f"source {source} has no silences")
                return False, f"refused: source {source} has no silences, nothing was sent"
            await asyncio.to_thread(record, "intent", None)
        except AuditError as e:
            return False, f"not sent: the audit log cannot be written ({e})"
        outcome: Outcome
        try:
            async with asyncio.timeout(self.settings.source(source).action_deadline_s):
                result = await call(provider)
            outcome, error, text = "done", None, str(result or "done")
        except ProviderError as e:
            outcome, error = outcome_of(e), e.message
            text = f"{outcome}: {e.message}"
        except TimeoutError:
            outcome, error = "unknown", "no complete answer within the action deadline"
            text = f"outcome unknown: {error}"
        try:
            await asyncio.to_thread(record, outcome, error)
        except AuditError as e:
            text += f" (WARNING: the outcome is not in the audit log: {e})"
        return outcome == "done", text

    async def aclose(self) -> None:
        await asyncio.gather(*(p.aclose() for p in self.providers.values()), return_exceptions=True)

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
