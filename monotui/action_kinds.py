"""Every rollout action monotui can ask a deploy engine to take: one line each in `ROLLOUT_ACTIONS`.

A line is the whole of what monotui knows about an action: its wire name (the deploy API's path segment), its key,
its words (button, sentence, past tense), when it applies, what it will do (the sentence a confirmation shows),
which kinds of source take it and whether a freeze holds it. The key bindings, footer, help, palette
and CLI commands (monotui/ui/commands.py, monotui/cli.py), the backend registry's capabilities and the Argo
Rollouts Events all derive from this table. A new action is one line here and its send in a provider (for Argo
Rollouts: its patches in providers/argo_rollouts/patches.py; the deploy API's send is the same for every action).

Below the engine on purpose (models and formats only), so the registry, the simulator and the CLI can read it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from monotui.formats import traffic_percent
from monotui.models import EventKind, Phase, RevisionInfo, Rollout


class ActionKind(StrEnum):
    """The value is the deploy API's path segment: POST /v1/rollouts/{id}/actions/{value}."""

    PAUSE = "pause"
    RESUME = "resume"
    PROMOTE = "promote"
    PROMOTE_FULL = "promote-full"
    ABORT = "abort"
    ROLLBACK = "rollback"
    RETRY = "retry"
    RESTART = "restart"


@dataclass(frozen=True)
class RevisionRef:
    revision: int
    version: str

    def __str__(self) -> str:
        return f"r{self.revision} ({self.version})"

    @classmethod
    def of(cls, info: RevisionInfo | Rollout) -> RevisionRef:
        return cls(info.revision, info.version)


@dataclass(frozen=True)
class Effect:
    """What an action will do, as its confirmation names it: from which revision to which, in one sentence."""

    from_revision: RevisionRef
    to_revision: RevisionRef
    text: str
    target_revision: int | None = None  # a rollback's target, always the one the confirmation names


def _current(rollout: Rollout) -> RevisionRef:
    return RevisionRef.of(rollout)


def _stable(rollout: Rollout) -> RevisionRef:
    return RevisionRef.of(rollout.stable) if rollout.stable else RevisionRef.of(rollout)


def _traffic(rollout: Rollout) -> str:
    share = rollout.share(rollout.actual_weight)
    return f"{traffic_percent(share)} of traffic" if share is not None else f"weight {rollout.actual_weight}"


def _pause(r: Rollout, _revision: int | None) -> Effect:
    return Effect(_current(r), _current(r), f"{_current(r)} stays at {_traffic(r)} until resumed")


def _resume(r: Rollout, _revision: int | None) -> Effect:
    return Effect(_current(r), _current(r), f"{_current(r)} continues from {_traffic(r)}")


def _promote(r: Rollout, _revision: int | None) -> Effect:
    # the step as the Step column shows it (Rollout.step_text); promote moves it one on, never past the end
    steps, step = len(r.steps), r.current_step
    if step is None or not steps:
        where = "next step"
    elif step >= steps:
        where = f"step {r.step_text()} (past the last step)"
    elif step + 1 < steps:
        where = f"step {r.step_text()} → {r.step_text(step + 1)}"
    else:  # the last step: the rollout completes
        where = f"step {r.step_text()} → {r.step_text(steps)}, done: 100% of traffic"
    return Effect(_stable(r), _current(r), f"{_current(r)} advances: {where}")


def _promote_full(r: Rollout, _revision: int | None) -> Effect:
    return Effect(_stable(r), _current(r), f"{_current(r)} takes 100% of traffic, skipping the remaining steps")


def _abort(r: Rollout, _revision: int | None) -> Effect:
    return Effect(_current(r), _stable(r), f"{_current(r)} stops taking traffic; all traffic back on {_stable(r)}")


def _rollback(r: Rollout, revision: int | None) -> Effect:
    target = r.rollback_to
    if revision is not None and (target is None or target.revision != revision):
        to = RevisionRef(revision, "?")
    else:
        to = RevisionRef.of(target) if target else _stable(r)
    return Effect(_current(r), to, f"all traffic moves to {to}", to.revision)


def _retry(r: Rollout, _revision: int | None) -> Effect:
    return Effect(_stable(r), _current(r), f"{_current(r)} starts its steps again from the first")


def _restart(r: Rollout, _revision: int | None) -> Effect:
    return Effect(_current(r), _current(r), f"the pods of {_current(r)} restart, one by one")


def _in_rollout(r: Rollout) -> bool:
    return r.stable is None or r.stable.revision != r.revision


@dataclass(frozen=True)
class ActionSpec:
    kind: ActionKind
    key: str
    label: str  # as on a button: "Roll back"
    verb: str  # in a sentence: "roll back"
    past: str  # what was done: "rolled back"
    description: str
    applies_to: frozenset[Phase]
    needs: str  # what it needs, in "pause needs a progressing rollout (x is Healthy)"
    effect: Callable[[Rollout, int | None], Effect]  # (rollout, the revision asked for) → what it will do
    short: str | None = None  # where space is scarce (the footer at 80 columns)
    # the source kinds (monotui/config.py) whose engines take it; "http": the monotui deploy API offers it
    # (POST /v1/rollouts/{id}/actions/{kind}); each provider's send must know it (tests/test_action_table.py)
    kinds: frozenset[str] = frozenset({"http", "argo-rollouts"})
    held_by_freeze: bool = False  # refused while production is frozen (mitigation is never held)
    event: EventKind | None = None  # the event kind it is shown as when another client reports it
    applies_when: Callable[[Rollout], bool] | None = None  # a condition beyond the phase
    # the confirmation describes where the rollout stands (its traffic, its step) and the action's effect depends
    # on it: a change of phase or weight while the dialog is open refuses it. Not so for the mitigations: "all
    # traffic back on r12" means the same whether the bad release went from Progressing to Degraded meanwhile
    # (as a bad canary does, seconds after it is flagged) — only a new revision changes their target.
    pins_progress: bool = True

    def applies(self, rollout: Rollout) -> bool:
        if rollout.phase not in self.applies_to:
            return False
        return self.applies_when is None or self.applies_when(rollout)

    def why_not(self, rollout: Rollout) -> str | None:
        """Why this action does not apply to the rollout, in one line (None when it does)."""
        if self.applies(rollout):
            return None
        if self.kind in (ActionKind.PROMOTE_FULL, ActionKind.ABORT) and rollout.phase in self.applies_to:
            return f"nothing to {self.verb}: r{rollout.revision} is already the stable revision of {rollout.service}"
        if self.kind is ActionKind.ROLLBACK:
            return f"{self.verb} needs an earlier revision to go back to, and {rollout.service} shows none"
        return f"{self.verb} needs {self.needs} ({rollout.service} is {rollout.phase.value})"


_ACTIVE = frozenset({Phase.PROGRESSING, Phase.PAUSED})
_IN_PROGRESS = _ACTIVE | {Phase.DEGRADED}
_ANY = frozenset(Phase)
_ARGO_ONLY = frozenset({"argo-rollouts"})

ROLLOUT_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(ActionKind.PAUSE, "p", "Pause", "pause", "paused",
               "Stop the rollout where it is; traffic stays as it is",
               frozenset({Phase.PROGRESSING}), "a progressing rollout", _pause, event=EventKind.PAUSED),
    ActionSpec(ActionKind.RESUME, "r", "Resume", "resume", "resumed",
               "Unpause: continue from the current step (ends a pause that waits for a human)",
               frozenset({Phase.PAUSED}), "a paused rollout", _resume, held_by_freeze=True,
               event=EventKind.RESUMED),
    ActionSpec(ActionKind.PROMOTE, "n", "Promote", "promote", "promoted",
               "Skip to the next step now (the next weight, or past a pause)",
               _ACTIVE, "a paused or progressing rollout", _promote, held_by_freeze=True,
               event=EventKind.PROMOTED),
    ActionSpec(ActionKind.PROMOTE_FULL, "F", "Promote fully", "promote fully", "fully promoted",
               "Skip every remaining step: the new revision takes 100% of traffic",
               _IN_PROGRESS, "a rollout in progress (paused, progressing or degraded)", _promote_full,
               short="Full", held_by_freeze=True, event=EventKind.PROMOTED_FULL, applies_when=_in_rollout),
    ActionSpec(ActionKind.ABORT, "A", "Abort", "abort", "aborted",
               "Stop the rollout and send all traffic back to the stable revision",
               _IN_PROGRESS, "a rollout in progress (paused, progressing or degraded)", _abort,
               event=EventKind.ABORTED, applies_when=_in_rollout, pins_progress=False),
    ActionSpec(ActionKind.ROLLBACK, "b", "Roll back", "roll back", "rolled back",
               "Return to the previous good revision (the stable one during a rollout)",
               _ANY, "an earlier revision", _rollback, short="Rollback", event=EventKind.ROLLED_BACK,
               applies_when=lambda r: r.rollback_to is not None or r.phase is not Phase.HEALTHY, pins_progress=False),
    ActionSpec(ActionKind.RETRY, "t", "Retry", "retry", "retried", "Start an aborted rollout's steps again",
               frozenset({Phase.ABORTED, Phase.DEGRADED}), "an aborted rollout", _retry, kinds=_ARGO_ONLY,
               applies_when=lambda r: r.phase is Phase.ABORTED or "RolloutAborted" in r.message),
    ActionSpec(ActionKind.RESTART, "R", "Restart", "restart", "restarted", "Restart the rollout's pods",
               _ANY, "a rollout", _restart, kinds=_ARGO_ONLY),
)

_BY_KIND = {spec.kind: spec for spec in ROLLOUT_ACTIONS}
if set(_BY_KIND) != set(ActionKind):  # every kind has its line, and only one
    raise RuntimeError(f"ROLLOUT_ACTIONS lacks {sorted(set(ActionKind) - set(_BY_KIND))} or repeats a kind")



def actions_for(source_kind: str) -> tuple[ActionKind, ...]:
    """The actions the engines of a source kind take, in the table's order."""
    return tuple(spec.kind for spec in ROLLOUT_ACTIONS if source_kind in spec.kinds)


# what the monotui deploy API offers
DEPLOY_API_ACTIONS = actions_for("http")
# refused while frozen: promotions and resumes; rollback and abort stay allowed
HELD_BY_FREEZE = frozenset(spec.kind for spec in ROLLOUT_ACTIONS if spec.held_by_freeze)


def action_spec(kind: ActionKind | str) -> ActionSpec:
    return _BY_KIND[ActionKind(kind)]
