"""Who did it, on the cluster: what monotui writes on a Rollout it acts on, and how it reads that back (pure).

kubectl records its own changes on the object it changed; monotui does the same for every action it sends:

- the annotation `monotui.dev/last-action` on the Rollout, a JSON object {actor, action, reason, time, event};
- a core/v1 Event whose involvedObject is the Rollout, reason `Monotui<Action>` (`MonotuiPause`), source component
  `monotui`, message "<verb> by <actor>: <reason>", and the same fields as annotations on the Event itself.

Another monotui reads both back as events with the actor: the Events while the cluster keeps them (an hour by
default), the annotation after that (the last action only). Everything read is cleaned (monotui.text.clean).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from monotui.action_kinds import ROLLOUT_ACTIONS, ActionKind
from monotui.models import Event, EventKind
from monotui.text import clean

ANNOTATION = "monotui.dev/last-action"
COMPONENT = "monotui"
# only monotui's Events about Rollouts: kube-apiserver filters them (field selectors `source` and involvedObject)
EVENT_FIELDS = f"involvedObject.kind=Rollout,source={COMPONENT}"
REASONS = {kind: "Monotui" + "".join(part.capitalize() for part in kind.value.split("-")) for kind in ActionKind}
_KIND_OF_REASON = {reason: kind for kind, reason in REASONS.items()}
VERBS = {spec.kind: spec.past for spec in ROLLOUT_ACTIONS}
EVENT_KINDS = {spec.kind: spec.event for spec in ROLLOUT_ACTIONS if spec.event is not None}


def _kube_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def message(action: ActionKind, actor: str, reason: str | None) -> str:
    """"paused by alice@bastion-2: investigating" — the last word of the verb, as the deploy API says it."""
    verb = VERBS[action].split()[-1]
    return f"{verb} by {actor}: {reason}" if reason else f"{verb} by {actor}"


def event_name(rollout: str, when: datetime) -> str:
    """As client-go's recorder names an Event: the object's name and the time in hex nanoseconds."""
    return f"{rollout}.{int(when.timestamp() * 1_000_000_000):x}"


def annotation_patch(action: ActionKind, actor: str, reason: str | None, when: datetime, event: str) -> dict[str, Any]:
    """A merge patch of the Rollout's metadata only (what `kubectl annotate` sends)."""
    value = {"actor": actor, "action": action.value, "reason": reason or "", "time": _kube_time(when),
             "event": event}
    return {"metadata": {"annotations": {ANNOTATION: json.dumps(value, ensure_ascii=False,
                                                                  separators=(",", ":"))}}}


def event_object(rollout: dict[str, Any], action: ActionKind, actor: str, reason: str | None, when: datetime,
                 name: str) -> dict[str, Any]:
    meta = rollout.get("metadata") or {}
    stamp = _kube_time(when)
    host = socket.gethostname()
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": meta.get("namespace", "default"),
                     "annotations": {"monotui.dev/actor": actor, "monotui.dev/action": action.value,
                                     "monotui.dev/reason": reason or ""}},
        "involvedObject": {"apiVersion": rollout.get("apiVersion", "argoproj.io/v1alpha1"), "kind": "Rollout",
                           "name": meta.get("name", ""), "namespace": meta.get("namespace", "default"),
                           "uid": meta.get("uid", ""), "resourceVersion": meta.get("resourceVersion", "")},
        "reason": REASONS[action], "message": message(action, actor, reason), "type": "Normal",
        "source": {"component": COMPONENT, "host": host}, "reportingComponent": COMPONENT,
        "reportingInstance": host, "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1,
    }


def _time(value: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def _event(action_value: Any, actor: Any, reason: Any, when: datetime | None, rollout_id: str, service: str,
           next_id: Callable[[], int]) -> Event | None:
    try:
        action = ActionKind(str(action_value))
    except ValueError:
        return None
    if when is None or not isinstance(actor, str) or not actor:
        return None
    who = clean(actor, 120)
    said = clean(str(reason or ""), 500)
    return Event(id=next_id(), time=when, kind=EVENT_KINDS.get(action, EventKind.STEP_ADVANCED), service=service,
                 rollout_id=rollout_id, actor=who, message=message(action, who, said or None))


def from_event(obj: dict[str, Any], next_id: Callable[[], int]) -> Event | None:
    """A monotui Event read back (None for any other Event, or one that does not say who)."""
    inv, meta, source = _map(obj.get("involvedObject")), _map(obj.get("metadata")), _map(obj.get("source"))
    if inv.get("kind") != "Rollout" or source.get("component") != COMPONENT:
        return None
    notes = _map(meta.get("annotations"))
    action = notes.get("monotui.dev/action") or (_KIND_OF_REASON.get(str(obj.get("reason"))) or "")
    when = _time(obj.get("lastTimestamp") or obj.get("eventTime") or meta.get("creationTimestamp"))
    namespace, name = str(inv.get("namespace") or meta.get("namespace") or ""), str(inv.get("name") or "")
    return _event(action, notes.get("monotui.dev/actor"), notes.get("monotui.dev/reason"), when,
                  f"{namespace}/{name}", name, next_id)


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def last_action(rollout: dict[str, Any]) -> dict[str, Any] | None:
    """The Rollout's `monotui.dev/last-action` annotation, decoded (None when absent or unreadable)."""
    raw = _map(_map(rollout.get("metadata")).get("annotations")).get(ANNOTATION)
    if not isinstance(raw, str):
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def from_annotation(rollout: dict[str, Any], next_id: Callable[[], int]) -> tuple[str, Event] | None:
    """(the Event's name it stands for, the event) from the Rollout's annotation."""
    value = last_action(rollout)
    if value is None:
        return None
    meta = _map(rollout.get("metadata"))
    name = str(meta.get("name") or "")
    event = _event(value.get("action"), value.get("actor"), value.get("reason"), _time(value.get("time")),
                   f"{meta.get('namespace', 'default')}/{name}", name, next_id)
    return (str(value.get("event") or ""), event) if event is not None else None
