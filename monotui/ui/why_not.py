"""Why a key cannot act right now: the one-line notice shown instead of silence.

(A TUI-side helper for now; the engine is getting `ActionSpec.why_not` for the CLI, and the two will become one.)
"""

from __future__ import annotations

from monotui.engine.actions import ActionSpec
from monotui.models import ActionKind, Rollout
from monotui.render.text import clean

READ_ONLY = "read-only: actions are off"

NEEDS: dict[ActionKind, str] = {
    ActionKind.PAUSE: "a progressing rollout",
    ActionKind.RESUME: "a paused rollout",
    ActionKind.PROMOTE: "a paused or progressing canary",
    ActionKind.PROMOTE_FULL: "a rollout in progress (paused, progressing or degraded)",
    ActionKind.ABORT: "a rollout in progress (paused, progressing or degraded)",
    ActionKind.ROLLBACK: "an earlier revision to go back to",
    ActionKind.RETRY: "an aborted rollout",
    ActionKind.RESTART: "a rollout",
}


def rollout_refusal(spec: ActionSpec, rollout: Rollout) -> str | None:
    """None when the action applies to this rollout, else what it needs and what the rollout is."""
    if spec.applies(rollout):
        return None
    return f"{spec.verb} needs {NEEDS[spec.kind]}: {clean(rollout.service, 60)} is {rollout.phase.value}"
