"""A rollout's revisions (providers/revisions.py), read for the history screen and `monotui history` / `diff`, and
the roll-back plan pinned to one of them: the same action pipeline as any rollback (engine/rollout_actions.py),
with the chosen revision named in the confirmation and the audit record, and sent as the request's `revision`."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

from monotui.action_kinds import ActionKind, RevisionRef
from monotui.engine.actions import ActionPlan
from monotui.models import Rollout
from monotui.providers.base import ProviderError
from monotui.providers.revisions import RevisionSource
from monotui.revisions import Revision, RevisionList, fingerprint
from monotui.text import clean

if TYPE_CHECKING:
    from monotui.engine.core import Engine


class CannotList(ProviderError):
    """The source cannot list this rollout's revisions now (or at all): the message says why."""


def lists_revisions(engine: Engine, source: str) -> bool:
    return isinstance(engine.providers.get(source), RevisionSource)


async def read(engine: Engine, source: str, rollout_id: str) -> RevisionList:
    """The revisions, newest first; CannotList when the source cannot say (its message says why)."""
    provider = engine.providers.get(source)
    if not isinstance(provider, RevisionSource):
        raise CannotList("not_found", f"source {clean(source, 40)} does not list revisions")
    try:
        async with asyncio.timeout(engine.settings.source(source).timeout + 1):
            found = await provider.revisions(rollout_id)
    except TimeoutError:
        raise CannotList("timeout", f"revisions of {clean(rollout_id, 80)}: no answer in time") from None
    except ProviderError as e:
        raise CannotList(e.kind, e.message, e.status) from None
    if found.rollout_id not in (rollout_id, rollout_id.rpartition("/")[2]):
        raise CannotList("invalid", f"revisions of {clean(rollout_id, 80)}: the answer was about another "
                                       f"rollout ({clean(found.rollout_id, 80)})")
    return replace_sorted(found)


def replace_sorted(found: RevisionList) -> RevisionList:
    """Newest first, whatever order the server gave."""
    ordered = sorted(found.revisions, key=lambda r: -r.revision)
    return found if ordered == found.revisions else RevisionList(rollout_id=found.rollout_id, revisions=ordered)


def plan_rollback_to(engine: Engine, source: str, rollout: Rollout, revision: Revision) -> ActionPlan:
    """Roll back to exactly `revision`: the plan names it (number and version) and sends it; a resend of an earlier
    attempt at the same revision keeps that attempt's key and text."""
    plan = engine.plan(source, rollout, ActionKind.ROLLBACK, revision.revision)
    if plan.resend:
        return plan
    to = RevisionRef(revision.revision, revision.version or "?")
    return replace(plan, to_revision=to, effect=f"all traffic moves to {to}",
                   pin=replace(plan.pinned, target=fingerprint(revision)))
