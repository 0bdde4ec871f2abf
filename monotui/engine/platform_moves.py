"""The platform's own moves: an automatic rollback, abort or pause (the deploy platform's auto-rollback, Argo
Rollouts aborting on a failed analysis, monotui's own guard) stays marked on its service's rows for a while
(`platform_moves_window`), even after the service's next deploy, with who did it and why.

A move is read from an event: a rollback, abort or pause whose actor is automatic (its name says so: "auto…",
"…guard…", or the engine itself), or an abort or pause whose message says an analysis decided it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from monotui.models import Event, EventKind

MoveKind = Literal["rollback", "abort", "pause"]
_KINDS: dict[EventKind, MoveKind] = {EventKind.ROLLED_BACK: "rollback", EventKind.ABORTED: "abort",
                                     EventKind.PAUSED: "pause"}
_AUTOMATIC_ACTORS = ("auto", "guard", "argo-rollouts", "argo rollouts", "flagger", "controller")
_ANALYSIS_WORDS = ("analysis", "metric")  # a person's abort in Argo Rollouts reads "RolloutAborted" too
ICONS: dict[MoveKind, str] = {"rollback": "↩", "abort": "■", "pause": "‖"}
MOVES_PER_SERVICE = 8


@dataclass(frozen=True)
class PlatformMove:
    source: str
    service: str
    rollout_id: str
    kind: MoveKind
    actor: str  # who moved, as the source names it ("auto-rollback"; "" when the source does not say)
    reason: str  # why, as the source says it ("analysis failed"), or ""
    at: datetime
    message: str
    revision: int | None = None

    @property
    def words(self) -> str:
        """"rolled back", "aborted", "paused"."""
        return {"rollback": "rolled back", "abort": "aborted", "pause": "paused"}[self.kind]


def _automatic_actor(actor: str) -> bool:
    lowered = actor.lower()
    return any(word in lowered for word in _AUTOMATIC_ACTORS)


def platform_move(source: str, event: Event) -> PlatformMove | None:
    """The automatic move an event reports, or None (a person's action, or not a rollback/abort/pause)."""
    kind = _KINDS.get(event.kind)
    if kind is None:
        return None
    message = event.message or ""
    lowered = message.lower()
    if _automatic_actor(event.actor):
        actor = event.actor
    elif not event.actor and kind != "rollback" and any(word in lowered for word in _ANALYSIS_WORDS) \
            and "waiting for" not in lowered:
        actor = "analysis"  # an engine's own abort or pause on a failed or inconclusive analysis
    else:
        return None
    reason = ""
    said = f"by {event.actor}: " if event.actor else ""
    if said and said in message:
        reason = message.split(said, 1)[1]
    elif actor == "analysis":
        reason = message
    return PlatformMove(source, event.service, event.rollout_id, kind, actor, reason, event.time, message,
                        event.revision)
