"""The exact requests the Argo Rollouts kubectl plugin sends for each action, as data.

A `Patch` is one PATCH request: the subresource (`""` for the rollout itself, `"status"`), the patch type and
the body. The provider sends them in order. See ../shared/ARGO-ROLLOUTS.md.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from monotui.models import ActionKind
from monotui.providers.argo_rollouts.status import (
    POD_TEMPLATE_HASH,
    Obj,
    _list,
    _map,
    _str,
    blue_green,
    canary,
    metadata,
    owned_by,
    revision_of,
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
    fallback_to_main_on_404: bool = False  # controllers without the status subresource (v0.9)


class CannotAct(Exception):
    """The action cannot be expressed for this rollout (no history to undo, a workloadRef…)."""


def _paused(ro: Obj) -> bool:
    return spec(ro).get("paused") is True


def pause() -> list[Patch]:
    return [Patch("", MERGE, {"spec": {"paused": True}})]


def resume() -> list[Patch]:
    """A plain unpause. Distinct from promote: it does not clear pause conditions nor skip a step."""
    return [Patch("", MERGE, {"spec": {"paused": False}})]


def promote(ro: Obj) -> list[Patch]:
    out: list[Patch] = []
    conditions = [_map(c) for c in _list(status(ro).get("pauseConditions"))]
    if conditions:
        body: dict[str, Any] = {"pauseConditions": None}
        if any(c.get("reason") == "InconclusiveAnalysisRun" for c in conditions):
            body["controllerPause"] = False
        out.append(Patch("status", MERGE, {"status": body}))
    elif canary(ro) is not None and steps(ro):
        raw_index = status(ro).get("currentStepIndex")
        index = raw_index if isinstance(raw_index, int) and not isinstance(raw_index, bool) else 0
        if index < len(steps(ro)):
            index += 1
        out.append(Patch("status", MERGE, {"status": {"pauseConditions": None, "currentStepIndex": index}}))
    if _paused(ro):
        out.append(Patch("", MERGE, {"spec": {"paused": False}}))
    return out


def promote_full(ro: Obj) -> list[Patch]:
    out: list[Patch] = []
    if _paused(ro):
        out.append(Patch("", MERGE, {"spec": {"paused": False}}))
    st = status(ro)
    if _str(st.get("currentPodHash")) != _str(st.get("stableRS")):
        out.append(Patch("status", MERGE, {"status": {"promoteFull": True}}))
    return out


def abort() -> list[Patch]:
    return [Patch("status", MERGE, {"status": {"abort": True}}, fallback_to_main_on_404=True)]


def retry() -> list[Patch]:
    return [Patch("status", MERGE, {"status": {"abort": False}}, fallback_to_main_on_404=True)]


def restart(now: datetime | None = None) -> list[Patch]:
    when = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [Patch("", MERGE, {"spec": {"restartAt": when}})]


def undo_target(ro: Obj, replica_sets: Iterable[Obj], to_revision: int | None = None) -> Obj:
    """The ReplicaSet an undo returns to: `to_revision`, or the one before the newest (as the plugin)."""
    uid = _str(metadata(ro).get("uid"))
    owned = [(rev, rs) for rs in replica_sets if owned_by(rs, uid) and (rev := revision_of(rs)) is not None]
    if to_revision:
        for rev, rs in owned:
            if rev == to_revision:
                return rs
        raise CannotAct(f"unable to find specified revision {to_revision} in history")
    owned.sort(key=lambda item: item[0], reverse=True)
    if len(owned) < 2:
        raise CannotAct(f"no rollout history found for rollout {_str(metadata(ro).get('name'))!r}")
    return owned[1][1]


def undo(ro: Obj, target_rs: Obj) -> list[Patch]:
    if spec(ro).get("workloadRef") is not None:
        raise CannotAct("this rollout takes its template from a workloadRef: undo changes that workload instead")
    template = copy.deepcopy(dict(_map(spec(target_rs).get("template"))))
    labels = dict(_map(_map(template.get("metadata")).get("labels")))
    labels.pop(POD_TEMPLATE_HASH, None)
    template["metadata"] = {**_map(template.get("metadata")), "labels": labels}
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


def patches_for(kind: ActionKind, ro: Obj, replica_sets: Iterable[Obj] = (), revision: int | None = None,
                now: datetime | None = None) -> list[Patch]:
    build = {
        ActionKind.PAUSE: pause,
        ActionKind.RESUME: resume,
        ActionKind.PROMOTE: lambda: promote(ro),
        ActionKind.PROMOTE_FULL: lambda: promote_full(ro),
        ActionKind.ABORT: abort,
        ActionKind.RETRY: retry,
        ActionKind.RESTART: lambda: restart(now),
        ActionKind.ROLLBACK: lambda: undo(ro, undo_target(ro, replica_sets, revision)),
    }.get(kind)
    if build is None:
        raise CannotAct(f"{kind.value} is not an Argo Rollouts action")
    return build()


__all__ = ["JSON_PATCH", "MERGE", "CannotAct", "Patch", "blue_green", "label_selector", "patches_for", "pinned",
           "undo_target"]
