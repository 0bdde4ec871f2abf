"""The rollout action flow: the plan for the selected rollout, its confirmation (screens/confirm.py), the engine's
outcome; in read-only mode a refusal written to the audit log instead. The dialog names anyone else who acted on the
same rollout in the last minutes (engine/others.py). The engine plans, pins, audits and sends."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from monotui.action_kinds import ActionKind
from monotui.engine.actions import ActionPlan
from monotui.engine.core import Engine, describe
from monotui.engine.state import RolloutView
from monotui.text import clean
from monotui.ui.flows.host import FlowHost

if TYPE_CHECKING:
    from rich.text import Text

    from monotui.ui.screens.confirm import ConfirmActionScreen, Confirmation

# The dialog is imported when a key opens one: not on the way to the first rows.


def start(host: FlowHost, view: RolloutView, kind: ActionKind, why: Text | None = None) -> None:
    """`why`: the dialog was opened on a suspect, this is its rank and evidence."""
    engine = host.engine
    plan = engine.plan(view.source, view.rollout, kind)
    if engine.read_only(view.source):
        host.run(refuse(host, plan))
        return

    def confirmed(result: Confirmation | None) -> None:
        if result is None:
            host.say(f"Cancelled: {clean(plan.summary(), 200)}. Nothing was sent.")
            return
        host.run(execute(host, plan, result.reason, result.confirmed_by))

    from monotui.ui.screens.confirm import ConfirmActionScreen

    dialog = ConfirmActionScreen(plan, why, engine.others_acted(plan.source, plan.rollout, host.now()),
                                 owner=engine.owner(plan.rollout.service))
    host.ask(dialog, confirmed, recheck=lambda: recheck(engine, dialog, host.now()))


async def refuse(host: FlowHost, plan: ActionPlan) -> None:
    outcome = await host.engine.refuse(plan, "read-only mode: no mutating request is sent")
    host.show_outcome(outcome)


async def execute(host: FlowHost, plan: ActionPlan, reason: str | None, confirmed_by: str) -> None:
    try:
        outcome = await host.engine.execute(plan, reason, confirmed_by=confirmed_by)
    except Exception as e:  # never silent: the engine maps every provider failure, so this is a bug
        host.say(f"{clean(plan.summary(), 200)}: internal error ({type(e).__name__}); the outcome is "
                 "unknown — check the rollout before acting again", severity="error", timeout=30)
        raise
    host.show_outcome(outcome)


def recheck(engine: Engine, screen: ConfirmActionScreen, when: datetime) -> None:
    """An open confirmation learns at once when its rollout changed (it then refuses to confirm), and who else
    acted on it meanwhile."""
    now = engine.state.rollout(screen.plan.source, screen.plan.rollout.id)
    screen.recheck(engine.target_changed(screen.plan), describe(now) if now else None)
    screen.show_others(engine.others_acted(screen.plan.source, screen.plan.rollout, when))
