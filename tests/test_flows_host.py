"""An action flow needs only its host (`FlowHost`): the engine, a clock, a dialog, a notice, a worker and an
outcome shown. Driven here by a plain object instead of the app: what it asks, says and sends."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from textual.screen import Screen

from monotui.action_kinds import ActionKind
from monotui.engine.actions import ActionPlan
from monotui.engine.core import ActionOutcome, Engine
from monotui.models import Phase
from monotui.simulator.server import SimulatorServer
from monotui.ui.flows import rollout_action
from monotui.ui.flows.host import FlowHost
from monotui.ui.screens.confirm import ConfirmActionScreen, Confirmation


@dataclass
class Host:
    engine: Engine
    said: list[tuple[str, str]] = field(default_factory=list)
    asked: list[tuple[Screen[Any], Callable[[Any], None], Callable[[], None] | None]] = field(default_factory=list)
    work: list[Coroutine[Any, Any, None]] = field(default_factory=list)
    outcomes: list[ActionOutcome] = field(default_factory=list)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def say(self, text: str, severity: str = "information", timeout: float | None = None) -> None:
        self.said.append((severity, text))

    def ask(self, dialog: Screen[Any], answered: Callable[[Any], None],
            recheck: Callable[[], None] | None = None) -> None:
        self.asked.append((dialog, answered, recheck))

    def run(self, work: Coroutine[Any, Any, None]) -> None:
        self.work.append(work)

    def show_outcome(self, outcome: ActionOutcome) -> None:
        self.outcomes.append(outcome)

    def refresh_views(self, force: bool = False) -> None:
        pass


def _typed(host: Host) -> FlowHost:
    return host  # the fake is a FlowHost: a type checker holds it to the protocol


async def test_a_rollout_action_asks_confirms_sends_and_shows_the_outcome(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    async with engine_for(sim.url) as engine:
        await engine.refresh_once()
        view = next(v for v in engine.state.views() if v.rollout.rollback_to is not None or
                    v.rollout.phase is not Phase.HEALTHY)
        host = Host(engine)
        rollout_action.start(_typed(host), view, ActionKind.ROLLBACK)
        [(dialog, answered, recheck)] = host.asked
        assert isinstance(dialog, ConfirmActionScreen) and dialog.plan.rollout.id == view.rollout.id
        assert recheck is not None, "a pinned confirmation is re-checked while open"
        answered(None)
        assert host.said[-1][1].endswith("Nothing was sent.") and not host.work
        answered(Confirmation("test", "dialog"))
        [work] = host.work
        await work
        [outcome] = host.outcomes
        assert isinstance(outcome.plan, ActionPlan) and outcome.plan.rollout.id == view.rollout.id
        assert outcome.ok, outcome.message()


async def test_in_read_only_mode_the_flow_refuses_without_a_dialog(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    async with engine_for(sim.url, read_only=True) as engine:
        await engine.refresh_once()
        view = engine.state.views()[0]
        host = Host(engine)
        rollout_action.start(_typed(host), view, ActionKind.ROLLBACK)
        assert host.asked == []
        [work] = host.work
        await work
        [outcome] = host.outcomes
        assert not outcome.ok and "read-only" in outcome.message()
