"""Pods for the Kubernetes API stand-in: built from the ReplicaSets it serves (as a ReplicaSet controller would make
them), and kube-apiserver's Table of them (what `kubectl get pods` prints: NAME READY STATUS RESTARTS AGE, and with
`-o wide` IP and NODE).

A ReplicaSet's pods are `status.replicas` of them; those the fixtures already hold (owned by it) count. The first
`readyReplicas` are Running and ready; the others are Running with their containers in CrashLoopBackOff, restarted
a few times — a canary that does not come up.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from monotui.simulator.kube_tables import Column, age, row, table

_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes' generateName suffixes use
NOT_READY_RESTARTS = 3


def _suffix(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_SUFFIX_ALPHABET[b % len(_SUFFIX_ALPHABET)] for b in digest[:5])


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _owned_by(pod: dict[str, Any], rs: dict[str, Any]) -> bool:
    meta = rs.get("metadata") or {}
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("kind") == "ReplicaSet" and (ref.get("uid") == meta.get("uid") or ref.get("name") == meta.get(
                "name")) and (pod.get("metadata") or {}).get("namespace", "default") == meta.get("namespace",
                                                                                                 "default"):
            return True
    return False


def _time(value: Any, fallback: datetime) -> str:
    if isinstance(value, str) and value:
        return value
    return fallback.strftime("%Y-%m-%dT%H:%M:%SZ")


def pod_for(rs: dict[str, Any], index: int, ready: bool, now: datetime | None = None) -> dict[str, Any]:
    """Pod `index` of ReplicaSet `rs`: its template's labels and containers, owned by it, on a node."""
    meta = rs.get("metadata") or {}
    name, namespace = str(meta.get("name", "rs")), str(meta.get("namespace", "default"))
    template = (rs.get("spec") or {}).get("template") or {}
    spec = copy.deepcopy(template.get("spec") or {})
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)] or [
        {"name": "app", "image": "registry.example/app:latest"}]
    spec["containers"] = containers
    created = _time(meta.get("creationTimestamp"), now or datetime.now(UTC) - timedelta(hours=1))
    spec.setdefault("nodeName", f"node-{int(hashlib.sha256(name.encode()).hexdigest(), 16) % 3 + 1}")
    statuses = []
    for c in containers:
        status: dict[str, Any] = {"name": c.get("name", "app"), "image": c.get("image", ""), "imageID": "",
                                  "ready": ready, "started": ready,
                                  "restartCount": 0 if ready else NOT_READY_RESTARTS}
        if ready:
            status["state"] = {"running": {"startedAt": created}}
            status["lastState"] = {}
        else:
            status["state"] = {"waiting": {"reason": "CrashLoopBackOff",
                                           "message": f"back-off 40s restarting failed container={c.get('name')}"}}
            status["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": created,
                                                  "finishedAt": created}}
        statuses.append(status)
    pod_name = f"{name}-{_suffix(f'{namespace}/{name}/{index}')}"
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod_name, "namespace": namespace, "generateName": f"{name}-",
                     "creationTimestamp": created,
                     "labels": dict((template.get("metadata") or {}).get("labels") or {}),
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": name,
                                          "uid": meta.get("uid", ""), "controller": True,
                                          "blockOwnerDeletion": True}]},
        "spec": spec,
        "status": {"phase": "Running", "startTime": created, "hostIP": "10.0.0.1",
                   "podIP": f"10.1.{index // 250}.{index % 250 + 2}",
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                   "containerStatuses": statuses},
    }


def with_pods(objects: Iterable[dict[str, Any]], now: datetime | None = None) -> list[dict[str, Any]]:
    """`objects` and, for each ReplicaSet among them, the pods it runs that are not among them yet."""
    out = list(objects)
    pods = [o for o in out if o.get("kind") == "Pod"]
    built: list[dict[str, Any]] = []
    for rs in (o for o in out if o.get("kind") == "ReplicaSet"):
        st = rs.get("status") or {}
        replicas = _int(st.get("replicas"))
        ready = min(replicas, _int(st.get("readyReplicas")) or _int(st.get("availableReplicas")))
        have = [p for p in pods if _owned_by(p, rs)]
        for index in range(len(have), replicas):
            built.append(pod_for(rs, index, index < ready, now))
    return out + built


# ---- what `kubectl get pods` shows ----------------------------------------------------------------------------


def pod_status(pod: dict[str, Any]) -> str:
    """The STATUS column as kubectl computes it: the phase, or the reason a container is waiting or terminated,
    or Terminating."""
    st = pod.get("status") or {}
    reason = str(st.get("reason") or st.get("phase") or "Unknown")
    for cs in reversed(st.get("containerStatuses") or []):
        state = cs.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            reason = str(state["waiting"]["reason"])
        elif (state.get("terminated") or {}).get("reason"):
            reason = str(state["terminated"]["reason"])
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    return reason


def pod_table(items: list[dict[str, Any]], rv: int) -> dict[str, Any]:
    """Pods as a meta.k8s.io/v1 Table with kube-apiserver's columns."""
    now = datetime.now(UTC)
    columns: list[Column] = [
        ("Name", "string", 0), ("Ready", "string", 0), ("Status", "string", 0), ("Restarts", "string", 0),
        ("Age", "string", 0), ("IP", "string", 1), ("Node", "string", 1), ("Nominated Node", "string", 1),
        ("Readiness Gates", "string", 1)]
    rows = []
    for pod in items:
        meta, spec, st = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
        statuses = st.get("containerStatuses") or []
        ready = sum(1 for cs in statuses if cs.get("ready") is True)
        restarts = sum(_int(cs.get("restartCount")) for cs in statuses)
        rows.append(row([meta.get("name", ""), f"{ready}/{len(spec.get('containers') or [])}", pod_status(pod),
                         str(restarts), age(meta.get("creationTimestamp"), now), st.get("podIP") or "<none>",
                         spec.get("nodeName") or "<none>", "<none>", "<none>"], meta))
    return table(columns, rows, rv, name_format=True)
