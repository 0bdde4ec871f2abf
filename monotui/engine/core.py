"""The engine: owns the providers, the production state and the audit log; plans and executes actions.

The TUI, the non-interactive CLI and the benchmarks all drive production through this one class.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from monotui.config import Settings, security_warnings
from monotui.engine.actions import ActionPlan, plan_action
from monotui.engine.audit import AuditLog, AuditRecord, Outcome
from monotui.engine.polling import SourceUpdate, poll_forever, poll_once
from monotui.engine.state import ProductionState
from monotui.models import ActionKind, EventKind, Phase, Rollout, Strategy
from monotui.providers import DeployProvider, ProviderError, build_provider

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionOutcome:
    plan: ActionPlan
    outcome: Outcome
    error: str | None = None
    rollout: Rollout | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "done"

    def message(self) -> str:
        what = f"{self.plan.spec.label} {self.plan.rollout.service} ({self.plan.source})"
        if self.outcome == "done":
            return f"{what}: done"
        if self.outcome == "unknown":
            return f"{what}: outcome unknown — {self.error}. The next refresh shows the real state."
        return f"{what}: {self.outcome} — {self.error}"


class Engine:
    def __init__(
        self, settings: Settings, *, providers: dict[str, DeployProvider] | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.settings = settings
        self.state = ProductionState(settings)
        self.providers = providers or {s.name: build_provider(s) for s in settings.sources}
        self.warnings = security_warnings(settings)  # allowed but unsafe: shown once, and logged
        for warning in self.warnings:
            log.warning("%s", warning)
        self.audit = audit or AuditLog(settings.audit_log)
        self._in_flight: set[tuple[str, str]] = set()
        self._guarded: set[tuple[str, str, int]] = set()

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
        return kind in self.providers[source].capabilities

    def read_only(self, source: str) -> bool:
        return self.settings.is_read_only(source)

    def find(self, service: str, source: str | None = None) -> list[tuple[str, Rollout]]:
        return [(name, r) for name, r in self.state.iter_rollouts()
                if (r.service == service or r.id == service) and (source is None or name == source)]

    # ---- acting -----------------------------------------------------------------------------------------

    def plan(self, source: str, rollout: Rollout, kind: ActionKind, revision: int | None = None) -> ActionPlan:
        return plan_action(source, rollout, kind, protected=self.settings.is_protected(rollout.service),
                           revision=revision)

    def _record(self, plan: ActionPlan, outcome: Outcome, reason: str | None, error: str | None,
                automatic: bool = False) -> None:
        r = plan.rollout
        self.audit.append(AuditRecord(
            actor=self.settings.actor, source=plan.source, environment=r.environment, service=r.service,
            rollout=r.id, action=plan.spec.kind.value, from_revision=plan.from_revision.revision,
            to_revision=plan.to_revision.revision, outcome=outcome, reason=reason or None, error=error,
            idempotency_key=plan.idempotency_key, automatic=automatic,
        ))

    async def refuse(self, plan: ActionPlan, why: str, reason: str | None = None) -> ActionOutcome:
        """Record an action that monotui itself refused to send."""
        await asyncio.to_thread(self._record, plan, "refused", reason, why)
        return ActionOutcome(plan, "refused", why)

    async def execute(self, plan: ActionPlan, reason: str | None = None, *, automatic: bool = False) -> ActionOutcome:
        """Send one action, once. The audit record is on disk before this returns."""
        reason = (reason or "").strip() or None
        if self.read_only(plan.source):
            return await self.refuse(plan, "read-only mode: no mutating request is sent", reason)
        if not self.can(plan.source, plan.spec.kind):
            return await self.refuse(plan, f"source {plan.source} cannot {plan.spec.verb}", reason)
        target = (plan.source, plan.rollout.id)
        if target in self._in_flight:
            return await self.refuse(plan, f"another action on {plan.rollout.service} is still in flight", reason)
        self._in_flight.add(target)
        try:
            rollout = await self.providers[plan.source].act(
                plan.rollout, plan.spec.kind, actor=self.settings.actor, reason=reason,
                revision=plan.target_revision, idempotency_key=plan.idempotency_key,
            )
        except ProviderError as e:
            outcome: Outcome = "refused" if e.refused else "unknown" if e.kind == "timeout" else "failed"
            await asyncio.to_thread(self._record, plan, outcome, reason, e.message, automatic)
            return ActionOutcome(plan, outcome, e.message)
        finally:
            self._in_flight.discard(target)
        await asyncio.to_thread(self._record, plan, "done", reason, None, automatic)
        self.state.apply_rollout(plan.source, rollout)
        return ActionOutcome(plan, "done", None, rollout)

    async def history(self, service: str) -> Any:
        """The last 30 minutes of a service's health from the first Prometheus source (None without one)."""
        for name, provider in self.providers.items():
            if self.settings.source(name).kind == "prometheus":
                return await provider.history(service)  # type: ignore[attr-defined]
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
        def record(outcome: Outcome, error: str | None) -> None:
            self.audit.append(AuditRecord(
                actor=self.settings.actor, source=source, environment="", service=service, rollout="",
                action=action, from_revision=None, to_revision=None, outcome=outcome, reason=reason or None,
                error=error))

        if self.read_only(source):
            await asyncio.to_thread(record, "refused", "read-only mode: no mutating request is sent")
            return False, "refused: read-only mode, nothing was sent"
        try:
            result = await call(self.providers[source])
        except ProviderError as e:
            outcome: Outcome = "refused" if e.refused else "unknown" if e.kind == "timeout" else "failed"
            await asyncio.to_thread(record, outcome, e.message)
            return False, f"{outcome}: {e.message}"
        await asyncio.to_thread(record, "done", None)
        return True, str(result or "done")

    async def aclose(self) -> None:
        await asyncio.gather(*(p.aclose() for p in self.providers.values()), return_exceptions=True)

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
