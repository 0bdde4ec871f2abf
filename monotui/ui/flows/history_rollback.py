"""Roll back to one revision chosen in the history screen: the plan pinned to that revision (engine/revisions.py),
the same confirmation, pipeline and audit as every rollout action (flows/rollout_action.py); in read-only mode a
refusal written to the audit log instead."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from monotui.engine import revisions as engine_revisions
from monotui.revisions import Revision
from monotui.text import clean
from monotui.ui.flows import rollout_action
from monotui.ui.flows.host import FlowHost

if TYPE_CHECKING:
    from monotui.ui.screens.confirm import Confirmation


def start(host: FlowHost, source: str, rollout_id: str, revision: Revision,
          after: Callable[[], None] | None = None) -> None:
    """Open the confirmation of a rollback to `revision`, for the rollout as the state has it now. `after` runs once
    the outcome is shown (the history screen reads the revisions again)."""
    engine = host.engine
    rollout = engine.state.rollout(source, rollout_id)
    if rollout is None:
        host.say(f"{clean(rollout_id, 80)} is no longer listed by source {clean(source, 40)}.", severity="warning")
        return
    if revision.revision == rollout.revision:
        host.say(f"r{revision.revision} is the revision {clean(rollout.service, 60)} is at now: choose another one "
                 "to roll back to.", severity="warning")
        return
    plan = engine_revisions.plan_rollback_to(engine, source, rollout, revision)
    if engine.read_only(source):
        host.run(_then(rollout_action.refuse(host, plan), after))
        return

    def confirmed(result: Confirmation | None) -> None:
        if result is None:
            host.say(f"Cancelled: {clean(plan.summary(), 200)}. Nothing was sent.")
            return
        host.run(_then(rollout_action.execute(host, plan, result.reason, result.confirmed_by), after))

    from monotui.ui.screens.confirm import ConfirmActionScreen

    dialog = ConfirmActionScreen(plan, None, engine.others_acted(plan.source, plan.rollout, host.now()),
                                 owner=engine.owner(plan.rollout.service))  # who to tell, as `b`'s dialog says
    host.ask(dialog, confirmed, recheck=lambda: rollout_action.recheck(engine, dialog, host.now()))


async def _then(work: Coroutine[Any, Any, None], after: Callable[[], None] | None) -> None:
    await work
    if after is not None:
        after()
