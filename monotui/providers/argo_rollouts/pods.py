"""The pods of a rollout's ReplicaSets, as the plugin's `get rollout` tree lists them under each revision and as
`kubectl get pods` shows each one (READY, STATUS, RESTARTS, AGE, NODE)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from monotui.models import Instance
from monotui.providers.argo_rollouts import status as plugin

HASH_LABEL = "rollouts-pod-template-hash"


_time = plugin.parse_time


def pod_hash(pod: Mapping[str, Any]) -> str:
    return plugin._str(plugin._map(plugin.metadata(pod).get("labels")).get(HASH_LABEL))


def kubectl_status(pod: Mapping[str, Any]) -> str:
    """The STATUS column of `kubectl get pods` (printPod): the pod's reason or phase, else the reason its last
    waiting or terminated container gives, `Terminating` once deleted."""
    st = plugin.status(pod)
    reason = plugin._str(st.get("reason")) or plugin._str(st.get("phase")) or "Unknown"
    for cs in reversed(plugin._list(st.get("containerStatuses"))):
        state = plugin._map(plugin._map(cs).get("state"))
        waiting = plugin._str(plugin._map(state.get("waiting")).get("reason"))
        terminated = plugin._str(plugin._map(state.get("terminated")).get("reason"))
        if waiting:
            reason = waiting
        elif terminated:
            reason = terminated
    if plugin.metadata(pod).get("deletionTimestamp"):
        reason = "Terminating"
    return reason


def instance(pod: Mapping[str, Any], revision: int | None) -> Instance:
    st, sp = plugin.status(pod), plugin.spec(pod)
    statuses = [plugin._map(cs) for cs in plugin._list(st.get("containerStatuses"))]
    containers = [plugin._str(plugin._map(c).get("name")) for c in plugin._list(sp.get("containers"))]
    phase = plugin._str(st.get("phase")) or "Unknown"
    shown = kubectl_status(pod)
    return Instance(
        name=plugin._str(plugin.metadata(pod).get("name")), revision=revision, phase=phase,
        status="" if shown == phase else shown,
        ready=sum(1 for cs in statuses if cs.get("ready") is True), containers=len(containers),
        restarts=sum(max(0, plugin._int(cs.get("restartCount"))) for cs in statuses),
        started_at=_time(plugin.metadata(pod).get("creationTimestamp")),
        node=plugin._str(sp.get("nodeName")), container_names=[c for c in containers if c],
    )


def instances(rs_infos: Iterable[plugin.ReplicaSetInfo],
              pods_of: Callable[[str], Iterable[Mapping[str, Any]]]) -> list[Instance]:
    """The pods of each of the rollout's ReplicaSets (by pod template hash), newest revision first, then by
    name."""
    out: list[Instance] = []
    for info in sorted(rs_infos, key=lambda i: -(i.revision or 0)):
        if not info.pod_hash:
            continue
        found = [instance(p, info.revision) for p in pods_of(info.pod_hash)
                 if _owned_by_name(p, info.name)]
        out += sorted(found, key=lambda i: i.name)
    return out


def _owned_by_name(pod: Mapping[str, Any], rs_name: str) -> bool:
    refs = [plugin._map(r) for r in plugin._list(plugin.metadata(pod).get("ownerReferences"))]
    return not refs or any(r.get("kind") == "ReplicaSet" and r.get("name") == rs_name for r in refs)
