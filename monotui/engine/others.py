"""Other operators in view: who else acted on this target in the last minutes, said in every confirmation.

Two people on two bastions can both be about to act on the same rollout; the confirmation is the last moment one
of them can notice the other. The events the sources report carry the actor (the deploy API's events, Argo
Rollouts' Kubernetes Events written by monotui), so a recent action by anyone but this operator is named with
what they said: "alice@bastion-2 paused this 40 s ago: 'investigating'".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

from monotui.models import Event, EventKind
from monotui.text import clean

# what a person (or the platform acting for one) does to a rollout; deploys and steps are the line's own moves
ACTED = {
    EventKind.PAUSED: "paused", EventKind.RESUMED: "resumed", EventKind.PROMOTED: "promoted",
    EventKind.PROMOTED_FULL: "fully promoted", EventKind.ABORTED: "aborted", EventKind.ROLLED_BACK: "rolled back",
}
WITHIN = timedelta(minutes=10)


class _Sourced(Protocol):
    @property
    def source(self) -> str: ...

    @property
    def event(self) -> Event: ...


def _ago(seconds: float) -> str:
    if seconds < 90:
        return f"{max(0, round(seconds))} s ago"
    return f"{round(seconds / 60)} min ago"


def _said(event: Event, verb: str) -> str:
    """The reason as the source gave it: the deploy API's message is "<verb> by <actor>: <reason>"."""
    message = event.message
    head = f"{verb.split()[-1]} by {event.actor}"
    if message.startswith(head):
        message = message[len(head):]
    return message.removeprefix(":").strip()


def acted_by_others(events: Iterable[_Sourced], *, source: str, rollout_id: str, me: str, now: datetime,
                    within: timedelta = WITHIN) -> list[str]:
    """Newest first, one line per action on this rollout by anyone but `me` in the last `within`."""
    lines = []
    for item in events:
        event = item.event
        verb = ACTED.get(event.kind)
        if (verb is None or item.source != source or event.rollout_id != rollout_id or not event.actor
                or event.actor == me):
            continue
        age = (now - event.time).total_seconds()
        if age > within.total_seconds():
            continue
        said = _said(event, verb)
        line = f"{clean(event.actor, 60)} {verb} this {_ago(age)}"
        lines.append(f"{line}: {clean(said, 120)!r}" if said else line)
    return lines
