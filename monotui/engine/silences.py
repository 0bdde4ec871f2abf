"""Silencing a service's alerts (and expiring a silence) through the action pipeline: guarded per service, audited
write-ahead, and read back when the outcome is unknown (the alert source polled: are the alerts silenced now?)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from monotui.config import Settings
from monotui.engine.audit import AuditRecord, Stage
from monotui.engine.pipeline import ActionPipeline, Sender
from monotui.engine.state import ProductionState
from monotui.providers import ProviderError, Source
from monotui.providers.base import AlertSilencer


@dataclass(frozen=True)
class SilencePlan:
    source: str
    service: str
    action: str  # "silence" or "expire-silence", as in the audit log
    reason: str  # the silence's comment, or which silence is expired
    duration_s: float = 0.0
    silence_id: str = ""  # expire-silence: the silence
    idempotency_key: str = field(default_factory=lambda: uuid.uuid4().hex)  # ties the audit records together

    @property
    def guard(self) -> str:
        return f"silence:{self.service}"

    @property
    def resend(self) -> bool:
        return False

    def audit_record(self, stage: Stage, *, actor: str, reason: str | None, error: str | None,
                     confirmed_by: str | None, automatic: bool = False, answer: Any = None, now: str | None = None,
                     read_back: bool = False) -> AuditRecord:
        return AuditRecord(
            actor=actor, source=self.source, environment="", service=self.service, rollout="", action=self.action,
            from_revision=None, to_revision=None, outcome=stage, reason=reason or None,
            error=error if now is None else f"{error}; now: {now}", idempotency_key=self.idempotency_key,
            confirmed_by=confirmed_by)


class Silences:
    def __init__(self, settings: Settings, providers: Mapping[str, Source], state: ProductionState,
                 pipeline: ActionPipeline) -> None:
        self.settings = settings
        self.providers = providers
        self.state = state
        self.pipeline = pipeline

    def _silencer(self, source: str) -> AlertSilencer:
        provider = self.providers.get(source)
        if not isinstance(provider, AlertSilencer):
            raise ProviderError("conflict", f"source {source} has no silences")
        return provider

    async def _send(self, plan: SilencePlan, _reason: str | None) -> str:
        silencer = self._silencer(plan.source)
        if plan.action == "silence":
            return await silencer.silence(plan.service, plan.duration_s, plan.reason, self.settings.actor)
        await silencer.expire(plan.silence_id)
        return "done"

    async def _read_back(self, plan: SilencePlan) -> tuple[str | None, str]:
        """After an unknown outcome: the source polled again, and how many of the service's alerts are silenced."""
        provider = self.providers[plan.source]
        try:
            async with asyncio.timeout(self.settings.source(plan.source).timeout + 1):
                result = await provider.poll()
        except Exception as e:  # any failure only means we cannot say
            return None, f"cannot read the alerts of {plan.service} back ({type(e).__name__})"
        self.state.apply_poll(plan.source, result)
        alerts = [a for a in result.alerts or [] if a.service == plan.service]
        silenced = sum(1 for a in alerts if a.silenced)
        return None, f"{silenced} of {len(alerts)} alert(s) of {plan.service} silenced"

    async def run(self, plan: SilencePlan) -> tuple[bool, str]:
        """(True, the silence id or "done") or (False, why): refused, failed or outcome unknown."""
        refusal = None if isinstance(self.providers.get(plan.source), AlertSilencer) else \
            f"source {plan.source} has no silences"
        result = await self.pipeline.run(
            plan, Sender(send=self._send, what="silence", read_back=self._read_back), reason=plan.reason,
            confirmed_by="dialog", refusal=lambda: refusal,
            busy=f"another silence change of {plan.service} is still in flight")
        error = result.error or ""
        if not result.sent:
            text = error if error.startswith("not sent") else f"refused: {error}. Nothing was sent"
        elif result.outcome == "done":
            text = str(result.answer or "done")
        elif result.outcome == "unknown":
            text = f"outcome unknown: {result.error}" + (f". Now: {result.now}" if result.now else "")
        else:
            text = f"{result.outcome}: {result.error}"
        if result.audit_error:
            text += f" (WARNING: the outcome is not in the audit log: {result.audit_error})"
        return result.outcome == "done", text
