"""The exact requests the Argo Rollouts kubectl plugin sends for each action, as data.

A `Patch` is one PATCH request: the subresource (`""` for the rollout itself, `"status"`), the patch type and
the body. The provider sends them in order. See ../shared/ARGO-ROLLOUTS.md.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from monotui.action_kinds import ActionKind
from monotui.providers.argo_rollouts.status import (
    POD_TEMPLATE_HASH,
    REVISION_ANNOTATION,
    Obj,
    _list,
    _map,
    _str,
    atoi,
    blue_green,
    canary,
    metadata,
    spec,
    status,
    steps,
)

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


@dataclass(frozen=True)
class Patch:
    subresource: Literal["", "status"]
    content_type: str
    body: Any
    # controllers before v0.10 have no status subresource: when `/status` answers 404 the plugin sends this body
    # to the rollout itself instead, and it replaces every patch after this one (the plugin's "unified" patch)
    on_404: Any = None


class CannotAct(Exception):
    """The action cannot be expressed for this rollout (no history to undo, a workloadRef…)."""


class NothingToDo(CannotAct):
    """The plugin would send nothing: the rollout is already where the action would take it."""


def _paused(ro: Obj) -> bool:
    return spec(ro).get("paused") is True


def pause() -> list[Patch]:
    return [Patch("", MERGE, {"spec": {"paused": True}})]


def resume() -> list[Patch]:
    """A plain unpause. Distinct from promote: it does not clear pause conditions nor skip a step."""
    return [Patch("", MERGE, {"spec": {"paused": False}})]


def canary_step_index(ro: Obj) -> int | None:
    """The plugin's `GetCurrentCanaryStep` index: None without a canary with steps, else `currentStepIndex` (0
    when absent), even past the last step."""
    if canary(ro) is None or not steps(ro):
        return None
    raw = status(ro).get("currentStepIndex")
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else 0


def next_step_index(ro: Obj) -> int | None:
    """Where promote moves `currentStepIndex`: one step on, but never past the number of steps (an index already
    past the end stays as it is)."""
    index = canary_step_index(ro)
    if index is None:
        return None
    return index + 1 if index < len(steps(ro)) else index


def is_inconclusive(ro: Obj) -> bool:
    """A canary whose current step's analysis ended Inconclusive (a background or blue-green analysis is not)."""
    run = _map(_map(status(ro).get("canary")).get("currentStepAnalysisRunStatus"))
    return canary(ro) is not None and run.get("status") == "Inconclusive"


def _then_spec(status_patch: dict[str, Any] | None, unified: dict[str, Any], ro: Obj) -> list[Patch]:
    """The plugin's order: the `/status` patch first (the unified patch of the rollout instead on 404), then the
    spec patch if the rollout is paused."""
    out: list[Patch] = []
    if status_patch is not None:
        out.append(Patch("status", MERGE, status_patch, on_404=unified))
    if _paused(ro):
        out.append(Patch("", MERGE, {"spec": {"paused": False}}))
    return out


def promote(ro: Obj) -> list[Patch]:
    st = status(ro)
    unified: dict[str, Any] = {"spec": {"paused": False}, "status": {"pauseConditions": None}}
    status_patch: dict[str, Any] | None = None
    paused_by_condition = bool(_list(st.get("pauseConditions")))
    if is_inconclusive(ro) and paused_by_condition and st.get("controllerPause") is True:
        # the controller paused on an inconclusive step analysis: unpause it and move on, else it pauses again
        index = next_step_index(ro)
        if index is not None:
            status_patch = {"status": {"pauseConditions": None, "controllerPause": False,
                                       "currentStepIndex": index}}
    elif paused_by_condition:
        status_patch = {"status": {"pauseConditions": None}}
    elif canary(ro) is not None:
        index = next_step_index(ro)  # in the middle of a step (analysis, experiment): skip it
        if index is not None:
            status_patch = {"status": {"pauseConditions": None, "currentStepIndex": index}}
            unified = {"spec": {"paused": False}, "status": {"pauseConditions": None, "currentStepIndex": index}}
    return _then_spec(status_patch, unified, ro)


def promote_full(ro: Obj) -> list[Patch]:
    st = status(ro)
    status_patch = {"status": {"promoteFull": True}} if _str(st.get("currentPodHash")) != _str(
        st.get("stableRS")) else None
    return _then_spec(status_patch, {"spec": {"paused": False}, "status": {"promoteFull": True}}, ro)


def abort() -> list[Patch]:
    return [Patch("status", MERGE, {"status": {"abort": True}}, on_404={"status": {"abort": True}})]


def retry() -> list[Patch]:
    return [Patch("status", MERGE, {"status": {"abort": False}}, on_404={"status": {"abort": False}})]


def restart(now: datetime | None = None) -> list[Patch]:
    when = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [Patch("", MERGE, {"spec": {"restartAt": when}})]


def undo_revision(rs: Obj) -> int | None:
    """The revision undo reads (the plugin's `revision`): no annotation is revision 0, a number as written (even
    negative), anything else unreadable (None: that ReplicaSet is skipped)."""
    annotations = _map(metadata(rs).get("annotations"))
    if REVISION_ANNOTATION not in annotations:
        return 0
    value = annotations[REVISION_ANNOTATION]
    return atoi(value) if isinstance(value, str) else None


def controlled_by(obj: Obj, uid: str) -> bool:
    """`metav1.IsControlledBy`: the object's controller reference (the first owner marked `controller: true`)
    is the one with this uid."""
    controller = next((ref for ref in map(_map, _list(metadata(obj).get("ownerReferences")))
                       if ref.get("controller") is True), None)
    return bool(uid) and controller is not None and controller.get("uid") == uid


def undo_target(ro: Obj, replica_sets: Iterable[Obj], to_revision: int | None = None) -> Obj:
    """The ReplicaSet an undo returns to, picked as the plugin picks it (`rolloutRevision`): among the
    ReplicaSets the rollout controls, `to_revision`, or (0 or None) the second newest revision."""
    uid = _str(metadata(ro).get("uid"))
    latest: tuple[int, Obj | None] = (-1, None)
    previous: tuple[int, Obj | None] = (-1, None)
    for rs in replica_sets:
        if not controlled_by(rs, uid) or (rev := undo_revision(rs)) is None:
            continue
        if to_revision:
            if rev == to_revision:
                return rs
        elif latest[0] < rev:
            previous, latest = latest, (rev, rs)
        elif previous[0] < rev:
            previous = (rev, rs)
    if to_revision and to_revision > 0:
        raise CannotAct(f"unable to find specified revision {to_revision} in history")
    if previous[1] is None:
        raise CannotAct(f"no revision found for rollout {_str(metadata(ro).get('name'))!r}")
    return previous[1]


def derivative(a: Any, b: Any) -> bool:
    """apimachinery's `Semantic.DeepDerivative(a, b)` on JSON values: `b` agrees with every value `a` sets; an
    empty string, list or object and a null in `a` count as unset (once the types agree); a key of `a` must be in
    `b`; a list of `a` is compared with as many items at the start of `b`'s; numbers of different types (1 and
    1.0) and booleans and numbers differ, as in Go."""
    if a is None:
        return True
    if isinstance(a, dict):
        return isinstance(b, dict) and (not a or (len(a) <= len(b) and all(
            key in b and derivative(value, b[key]) for key, value in a.items())))
    if isinstance(a, list):
        return isinstance(b, list) and (not a or (len(a) <= len(b) and all(
            derivative(x, y) for x, y in zip(a, b, strict=False))))
    if isinstance(a, str):
        return isinstance(b, str) and (a == "" or a == b)
    return type(a) is type(b) and a == b


def _without_hash(template: Any) -> dict[str, Any]:
    out = copy.deepcopy(dict(_map(template)))
    if isinstance(out.get("metadata"), Mapping) and isinstance(out["metadata"].get("labels"), Mapping):
        labels = dict(out["metadata"]["labels"])
        labels.pop(POD_TEMPLATE_HASH, None)
        out["metadata"] = {**out["metadata"], "labels": labels}
    return out


def undo(ro: Obj, target_rs: Obj) -> list[Patch]:
    if spec(ro).get("workloadRef") is not None:
        raise CannotAct("this rollout takes its template from a workloadRef: undo changes that workload instead")
    template = _without_hash(spec(target_rs).get("template"))
    current = spec(ro).get("template")
    # the plugin compares both templates without the hash label and sends nothing when they already match
    if isinstance(current, Mapping) and derivative(_without_hash(current), template):
        raise NothingToDo(f"skipped rollback (current template already matches revision "
                          f"{undo_revision(target_rs)})")
    return [Patch("", JSON_PATCH, [{"op": "replace", "path": "/spec/template", "value": template}])]


def label_selector(ro: Obj) -> str:
    """`spec.selector.matchLabels` as a labelSelector query (how the plugin lists ReplicaSets for undo)."""
    match = _map(_map(spec(ro).get("selector")).get("matchLabels"))
    return ",".join(f"{k}={v}" for k, v in sorted(match.items()))


def pinned(patch: Patch, resource_version: str) -> Any:
    """The patch body, made conditional on the object still being at `resource_version`: the API server applies
    the patch, sees a resourceVersion other than the stored one and answers 409 Conflict instead of updating."""
    if patch.content_type == JSON_PATCH:
        return [*patch.body, {"op": "replace", "path": "/metadata/resourceVersion", "value": resource_version}]
    body = copy.deepcopy(patch.body)
    body.setdefault("metadata", {})["resourceVersion"] = resource_version
    return body


Build = Callable[[Obj, Iterable[Obj], int | None, datetime | None], list[Patch]]

# the Argo Rollouts actions, as the plugin sends them: one line per action (the provider's capabilities and the
# backend registry read this table)
PATCHES: Mapping[ActionKind, Build] = {
    ActionKind.PAUSE: lambda ro, rss, revision, now: pause(),
    ActionKind.RESUME: lambda ro, rss, revision, now: resume(),
    ActionKind.PROMOTE: lambda ro, rss, revision, now: promote(ro),
    ActionKind.PROMOTE_FULL: lambda ro, rss, revision, now: promote_full(ro),
    ActionKind.ABORT: lambda ro, rss, revision, now: abort(),
    ActionKind.RETRY: lambda ro, rss, revision, now: retry(),
    ActionKind.RESTART: lambda ro, rss, revision, now: restart(now),
    ActionKind.ROLLBACK: lambda ro, rss, revision, now: undo(ro, undo_target(ro, rss, revision)),
}
ACTIONS = frozenset(PATCHES)


def patches_for(kind: ActionKind, ro: Obj, replica_sets: Iterable[Obj] = (), revision: int | None = None,
                now: datetime | None = None) -> list[Patch]:
    build = PATCHES.get(kind)
    if build is None:
        raise CannotAct(f"{kind.value} is not an Argo Rollouts action")
    return build(ro, replica_sets, revision, now)


__all__ = [
    "ACTIONS",
    "JSON_PATCH",
    "MERGE",
    "PATCHES",
    "CannotAct",
    "NothingToDo",
    "Patch",
    "blue_green",
    "controlled_by",
    "derivative",
    "label_selector",
    "next_step_index",
    "patches_for",
    "pinned",
    "undo_revision",
    "undo_target",
]
