"""The automatic guard: a suspect canary of a service in `auto_pause_suspects` (one that changed before the breach,
on enough traffic to explain it) is paused, once per revision, through the same pipeline as a person's pause
(audited as automatic)."""

from __future__ import annotations

from typing import Protocol

from monotui.action_kinds import ActionKind
from monotui.config import Settings
from monotui.engine.actions import ActionPlan
from monotui.engine.outcomes import ActionOutcome
from monotui.engine.state import ProductionState
from monotui.models import EventKind, Phase, Rollout, Strategy


class GuardHost(Protocol):
    """What the guard needs of the engine: its state, its settings, and the same plan → execute as a person."""

    @property
    def state(self) -> ProductionState: ...

    @property
    def settings(self) -> Settings: ...

    def plan(self, source: str, rollout: Rollout, kind: ActionKind, revision: int | None = None) -> ActionPlan: ...

    async def execute(self, plan: ActionPlan, reason: str | None = None, *, automatic: bool = False,
                      confirmed_by: str | None = None) -> ActionOutcome: ...


class AutoPause:
    def __init__(self, engine: GuardHost) -> None:
        self.engine = engine
        # the views that changed: the only candidates for the guard
        self.feed = engine.state.watch()
        self.paused: set[tuple[str, str, int]] = set()  # (source, rollout id, revision) already paused

    async def run(self) -> list[ActionOutcome]:
        """Only the rows whose view changed since the last call can have become suspects (the state's clock
        deadlines included)."""
        engine, state, settings = self.engine, self.engine.state, self.engine.settings
        out: list[ActionOutcome] = []
        state.refresh()
        changed, _ = self.feed.drain()
        for changed_key in sorted(changed, key=state.order.index):  # what needs a human first
            view = state.view(changed_key)
            if view is None:
                continue
            r = view.rollout
            if (view.evidence is None or view.evidence.after_breach or view.evidence.explains is False
                    or r.service not in settings.auto_pause_suspects
                    or r.strategy is not Strategy.CANARY or r.phase is not Phase.PROGRESSING or view.read_only):
                continue
            key = (view.source, r.id, r.revision)
            if key in self.paused:
                continue
            self.paused.add(key)
            ev = view.evidence
            reason = (f"automatic: {ev.figure} breached its threshold at {ev.breach_at:%H:%M:%S} "
                      f"after this rollout changed at {ev.changed_at:%H:%M:%S}")
            outcome = await engine.execute(engine.plan(view.source, r, ActionKind.PAUSE), reason, automatic=True)
            state.note(view.source, r, EventKind.PAUSED, f"paused by the monotui guard: {outcome.outcome}",
                       actor=f"monotui guard ({settings.actor})")
            out.append(outcome)
        return out
