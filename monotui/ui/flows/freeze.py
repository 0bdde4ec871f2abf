"""Freezing production (and unfreezing it): the plan for every source (engine/freeze.py), its confirmation listing
every rollout it pauses or resumes (screens/confirm_freeze.py), then the engine's outcome, line by line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from monotui.engine.freeze import FreezePlan
from monotui.text import clean
from monotui.ui.flows.host import FlowHost

if TYPE_CHECKING:
    from monotui.ui.screens.confirm import Confirmation

# The dialog is imported when a key opens one: not on the way to the first rows.

NOTICE_LINES = 8  # lines of the outcome in the notice; the audit log has every one


def start(host: FlowHost, unfreeze: bool) -> None:
    engine = host.engine
    plan = engine.plan_unfreeze() if unfreeze else engine.plan_freeze()

    def confirmed(result: Confirmation | None) -> None:
        if result is None:
            host.say(f"Cancelled: {plan.action}. Nothing was sent.")
            return
        host.run(execute(host, plan, result.reason, result.confirmed_by))

    from monotui.ui.screens.confirm_freeze import ConfirmFreezeScreen

    owners = {step.rollout.service: engine.owner(step.rollout.service) for step in plan.steps}
    dialog = ConfirmFreezeScreen(plan, owners)
    host.ask(dialog, confirmed, recheck=lambda: dialog.recheck(engine.freeze_target_changed(plan)))


def notice(lines: list[str]) -> str:
    """The outcome's lines, the failures first, the count last; cut at NOTICE_LINES."""
    *steps, total = lines if lines else ["nothing done"]
    failing = [line for line in steps if not line.endswith(": done") and not line.endswith("unfrozen")
               and "frozen on the server" not in line]
    shown = [line for line in steps if line not in failing]
    ordered = [*failing, *shown]
    more = len(ordered) - (NOTICE_LINES - 1)
    if more > 0:
        ordered = [*ordered[:NOTICE_LINES - 2], f"… and {more + 1} more (in the audit log)"]
    return "\n".join(clean(line, 200) for line in [*ordered, total])


async def execute(host: FlowHost, plan: FreezePlan, reason: str | None, confirmed_by: str) -> None:
    try:
        result = await host.engine.execute_freeze(plan, reason, confirmed_by=confirmed_by)
    except Exception as e:  # never silent: the engine maps every provider failure, so this is a bug
        host.say(f"{plan.action}: internal error ({type(e).__name__}); the outcome is unknown — check the rollouts "
                 "before acting again", severity="error", timeout=30)
        raise
    host.say(notice(result.lines), severity="information" if result.ok else "error", timeout=12)
    await host.engine.refresh_once()
    host.refresh_views(force=True)
