"""The kill switch through the action pipeline: one flag turned on or off, pinned to the flag as confirmed."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from monotui.config import Settings
from monotui.engine.flag_plan import FlagPlan
from monotui.engine.outcomes import ActionOutcome
from monotui.engine.pipeline import ActionPipeline, Sender
from monotui.engine.state import ProductionState
from monotui.models import Flag
from monotui.providers import ProviderError, Source
from monotui.providers.base import FlagSource
from monotui.text import clean


def other_flag(plan: FlagPlan, answer: Flag) -> str | None:
    """How an answer is about another flag than the one confirmed (None: it is that one)."""
    seen = [f"{name} {clean(got, 80)!r}" for name, expected, got in (
        ("name", plan.name, answer.name), ("project", plan.project, answer.project),
        ("environment", plan.environment, answer.environment)) if expected != got]
    if not seen:
        return None
    return (f"the answer was about another flag ({', '.join(seen)}), not {clean(plan.name, 80)} in project "
            f"{clean(plan.project, 80)}, environment {clean(plan.environment, 80)}")


class FlagActions:
    def __init__(self, settings: Settings, providers: Mapping[str, Source], state: ProductionState,
                 pipeline: ActionPipeline) -> None:
        self.settings = settings
        self.providers = providers
        self.state = state
        self.pipeline = pipeline

    def plan(self, source: str, flag: Flag, enabled: bool) -> FlagPlan:
        return FlagPlan(source, flag, enabled, protected=self.settings.is_protected_flag(flag.name))

    def target_changed(self, plan: FlagPlan) -> str | None:
        return plan.differs(self.state.flag(plan.source, plan.name))

    async def refuse(self, plan: FlagPlan, why: str, reason: str | None = None,
                     confirmed_by: str | None = None) -> ActionOutcome:
        result = await self.pipeline.refuse(plan, why, reason=reason, confirmed_by=confirmed_by)
        return ActionOutcome(plan, "refused", why, audit_error=result.audit_error, resendable=False)

    def _refusal(self, plan: FlagPlan) -> str | None:
        if not isinstance(self.providers.get(plan.source), FlagSource):
            return f"source {plan.source} has no flags"
        if plan.flag.unreadable:
            return f"the flag cannot be read ({plan.flag.unreadable}): its state is not known. Nothing was sent"
        if plan.flag.enabled == plan.enabled:
            return f"flag {plan.name} is already {plan.to_state}: nothing to do, nothing was sent"
        if changed := self.target_changed(plan):
            return f"the flag changed since it was confirmed: {changed}. Nothing was sent; look again"
        return None

    def _provider(self, source: str) -> FlagSource:
        provider = self.providers.get(source)
        if not isinstance(provider, FlagSource):  # refused before sending: the source has no flags
            raise ProviderError("conflict", f"source {source} has no flags")
        return provider

    async def execute(self, plan: FlagPlan, reason: str | None, *, confirmed_by: str) -> ActionOutcome:
        sender: Sender[FlagPlan, Flag] = Sender(
            send=lambda p, _reason: self._provider(p.source).set_flag(p.flag, p.enabled), what="flag",
            other_target=other_flag, read_back=self._read_back, apply=self._apply)
        result = await self.pipeline.run(
            plan, sender, reason=reason, confirmed_by=confirmed_by, refusal=lambda: self._refusal(plan),
            busy=f"another change of flag {plan.name} is still in flight")
        if not result.sent:
            return ActionOutcome(plan, result.outcome, result.error, audit_error=result.audit_error,
                                 resendable=False)
        flag = result.answer
        now = result.now if result.now is not None else (flag.state if flag is not None else None)
        return ActionOutcome(plan, result.outcome, result.error, now=now, audit_error=result.audit_error,
                             resendable=False, flag=flag)

    async def _read_back(self, plan: FlagPlan) -> tuple[Flag | None, str]:
        """After an unknown outcome: the flag as the server shows it now (best effort, bounded)."""
        try:
            async with asyncio.timeout(self.settings.source(plan.source).timeout + 1):
                flag = await self._provider(plan.source).read_flag(plan.project, plan.name)
        except Exception as e:  # any failure only means we cannot say
            return None, f"cannot read flag {plan.name} back ({type(e).__name__})"
        if other_flag(plan, flag):
            return None, f"cannot read flag {plan.name} back (the answer was about another flag)"
        return flag, flag.state

    def _apply(self, plan: FlagPlan, flag: Flag) -> None:
        self.state.apply_flag(plan.source, flag)
        self.state.version += 1
