"""A Rollout's revisions from its ReplicaSets, as `kubectl argo rollouts get rollout` lists them: the ReplicaSets the
rollout owns, by their `rollout.argoproj.io/revision` annotation, newest first, with their pod-template hash and
images, tagged stable and current as the plugin tags them, and their pod templates for a diff.

Kubernetes keeps no record of how an old revision ended. What the objects do say is used: the stable ReplicaSet and
the current one are live (an aborted rollout's current one ended "aborted", with the controller's message); a
revision followed by one whose template is an older one brought back (`rollout.argoproj.io/revision-history`) was
rolled back; any other older one was replaced (ended "unknown", with the revision that replaced it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from monotui.providers.argo_rollouts import status as plugin
from monotui.providers.argo_rollouts.status import image_tag as _tag
from monotui.providers.argo_rollouts.status import parse_time as _time
from monotui.revisions import Ending, Revision, RevisionList, template_lines

HISTORY_ANNOTATION = "rollout.argoproj.io/revision-history"
Obj = dict[str, Any]


def _abort_reason(ro: Obj) -> str:
    for condition in map(plugin._map, plugin._list(plugin.status(ro).get("conditions"))):
        if condition.get("reason") == "RolloutAborted":
            return plugin._str(condition.get("message"))
    return plugin._str(plugin.status(ro).get("message")) or "aborted"


def revisions_of(ro: Obj, replica_sets: Iterable[Obj]) -> RevisionList:
    namespace, name = plugin._str(plugin.metadata(ro).get("namespace")), plugin._str(plugin.metadata(ro).get("name"))
    by_name = {plugin._str(plugin.metadata(rs).get("name")): rs for rs in replica_sets}
    infos = [i for i in plugin.replica_set_info(ro, by_name.values()) if i.revision]
    st = plugin.status(ro)
    current_hash = plugin._str(st.get("currentPodHash"))
    aborted = st.get("abort") is True
    phase, message = plugin.rollout_phase(ro)
    out: list[Revision] = []
    newer: Any = None  # the info of the revision just after this one
    for info in infos:  # newest first
        rs = by_name[info.name]
        annotations = plugin._map(plugin.metadata(rs).get("annotations"))
        current = bool(info.pod_hash) and info.pod_hash == current_hash
        live_from = _time(info.created)
        live_until: datetime | None = None
        reason, ended = "", Ending.UNKNOWN
        if info.stable or (current and not aborted) or info.preview:
            ended = Ending.LIVE
            if current and not info.stable and phase != "Healthy":
                reason = f"{phase}: {message}".strip(": ")
        elif current and aborted:
            ended, reason = Ending.ABORTED, _abort_reason(ro)
        elif newer is not None:
            newer_rs = by_name[newer.name]
            brought_back = plugin._str(plugin._map(plugin.metadata(newer_rs).get("annotations")).get(
                HISTORY_ANNOTATION))
            if brought_back:
                ended = Ending.ROLLED_BACK
                reason = f"rolled back to r{newer.revision} (the template of r{brought_back.replace(',', ', r')})"
            else:
                reason = f"replaced by r{newer.revision} (the cluster keeps no record of how)"
            started = _time(newer.created)
            live_until = started if started and live_from and started >= live_from else None
        history = plugin._str(annotations.get(HISTORY_ANNOTATION))
        if history and ended is Ending.LIVE and not reason:
            reason = f"brought back by a rollback (was r{history.replace(',', ', r')})"
        template = plugin._map(plugin.spec(rs).get("template"))
        out.append(Revision(
            revision=info.revision or 0, version=_tag(info.images[0]) if info.images else "",
            images=list(info.images), live_from=live_from, live_until=live_until, ended=ended, end_reason=reason,
            stable=info.stable, current=current, template=template_lines(dict(template)),
            pod_template_hash=info.pod_hash))
        newer = info
    return RevisionList(rollout_id=f"{namespace}/{name}", revisions=out)
