"""What the Argo Rollouts kubectl plugin shows for a Rollout, computed the way the plugin computes it.

Every function takes plain Kubernetes objects (dicts as the API returns them) and never raises on odd shapes:
a field of the wrong type counts as absent. See ../shared/ARGO-ROLLOUTS.md for the rules followed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

REVISION_ANNOTATION = "rollout.argoproj.io/revision"
POD_TEMPLATE_HASH = "rollouts-pod-template-hash"
EXPERIMENT_TEMPLATE_ANNOTATION = "experiment.argoproj.io/template-name"

Obj = Mapping[str, Any]


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


_INT64 = 2**63


def atoi(text: str) -> int | None:
    """Go's `strconv.Atoi` on 64 bits, as the plugin parses revisions and generations: an optional sign, then
    ASCII digits only (no spaces, no `²`), within the 64-bit range; anything else is None."""
    sign, digits = (text[0], text[1:]) if text[:1] in ("+", "-") else ("", text)
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    significant = digits.lstrip("0")
    if len(significant) > 19:  # past 64 bits (and never handed to int(): huge strings are slow or refused)
        return None
    number = int(significant or "0")
    number = -number if sign == "-" else number
    return number if -_INT64 <= number < _INT64 else None


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value if -_INT64 <= value < _INT64 else default
    if isinstance(value, str):
        number = atoi(value)
        return default if number is None else number
    return default


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def metadata(obj: Obj) -> Mapping[str, Any]:
    return _map(obj.get("metadata"))


def spec(obj: Obj) -> Mapping[str, Any]:
    return _map(obj.get("spec"))


def status(obj: Obj) -> Mapping[str, Any]:
    return _map(obj.get("status"))


def canary(ro: Obj) -> Mapping[str, Any] | None:
    value = _map(spec(ro).get("strategy")).get("canary")
    return value if isinstance(value, Mapping) else None


def blue_green(ro: Obj) -> Mapping[str, Any] | None:
    value = _map(spec(ro).get("strategy")).get("blueGreen")
    return value if isinstance(value, Mapping) else None


def steps(ro: Obj) -> list[Mapping[str, Any]]:
    c = canary(ro)
    return [_map(s) for s in _list(c.get("steps"))] if c else []


def revision_of(obj: Obj) -> int:
    """The revision annotation as the plugin reads it (`parseRevision`): a number as written, negative ones too;
    0 when absent or not a number."""
    value = _map(metadata(obj).get("annotations")).get(REVISION_ANNOTATION)
    number = atoi(value) if isinstance(value, str) else None
    return 0 if number is None else number


def owned_by(obj: Obj, uid: str) -> bool:
    return bool(uid) and any(_map(ref).get("uid") == uid for ref in _list(metadata(obj).get("ownerReferences")))


# ---- phase and message ------------------------------------------------------------------------------------


def is_generation_observed(ro: Obj) -> bool:
    """The plugin's `isGenerationObserved`: `status.observedGeneration` read with Go's Atoi; not a number (a v0.9
    hash) counts as observed; a number (negative ones too: "-1" is not absent) must be at least
    `metadata.generation` (greater: an all-numeric v0.9 hash, which counts as observed too)."""
    observed = status(ro).get("observedGeneration")
    if isinstance(observed, bool):
        return True
    if isinstance(observed, int):
        number: int | None = observed if -_INT64 <= observed < _INT64 else None
    elif isinstance(observed, str):
        number = atoi(observed)
    else:
        return True
    if number is None:
        return True
    return number >= _int(metadata(ro).get("generation"), 0)


def _instant(value: Any) -> datetime | str | None:
    """A `metav1.Time` as an instant (RFC 3339, any offset); text the parser refuses stays text; absent: None."""
    if value is None:
        return None
    if not isinstance(value, str):
        return repr(value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return parsed if parsed.tzinfo is not None else value


def is_restarting(ro: Obj) -> bool:
    """`spec.restartAt` set and not the same instant as `status.restartedAt` (`2026-01-01T01:00:00+01:00` is
    `2026-01-01T00:00:00Z`), as the plugin compares them (`Time.Equal`)."""
    restart_at = _instant(spec(ro).get("restartAt") or None)
    if restart_at is None:
        return False
    return restart_at != _instant(status(ro).get("restartedAt"))


def is_unpausing(ro: Obj) -> bool:
    st = status(ro)
    return st.get("controllerPause") is True and not _list(st.get("pauseConditions"))


def rollout_phase(ro: Obj) -> tuple[str, str]:
    """(phase, message) exactly as `kubectl argo rollouts get` shows them."""
    if not is_generation_observed(ro):
        return "Progressing", "waiting for rollout spec update to be observed"
    if is_unpausing(ro):
        return "Progressing", "waiting for rollout to unpause"
    st = status(ro)
    phase = st.get("phase")
    if isinstance(phase, str) and phase:
        return phase, _str(st.get("message"))
    return calculate_phase(ro)


def calculate_phase(ro: Obj) -> tuple[str, str]:
    """The client-side computation for controllers that do not set status.phase (< 1.0)."""
    sp, st = spec(ro), status(ro)
    for cond in (_map(c) for c in _list(st.get("conditions"))):
        if cond.get("type") == "InvalidSpec":
            return "Degraded", f"InvalidSpec: {_str(cond.get('message'))}"
        if cond.get("reason") in ("RolloutAborted", "ProgressDeadlineExceeded"):
            return "Degraded", f"{cond.get('reason')}: {_str(cond.get('message'))}"
    if sp.get("paused") is True:
        return "Paused", "manually paused"
    for cond in (_map(c) for c in _list(st.get("pauseConditions"))):
        return "Paused", _str(cond.get("reason"))
    if is_restarting(ro):
        return "Progressing", "rollout is restarting"
    replicas = _int(sp.get("replicas"), 1) if sp.get("replicas") is not None else 1
    updated = _int(st.get("updatedReplicas"))
    if updated < replicas:
        return "Progressing", "more replicas need to be updated"
    if _int(st.get("availableReplicas")) < updated:
        return "Progressing", "updated replicas are still becoming available"
    current_hash = _str(st.get("currentPodHash"))
    stable_rs = _str(st.get("stableRS"))
    bg = blue_green(ro)
    if bg is not None:
        active = _str(_map(st.get("blueGreen")).get("activeSelector"))
        if not active or active != current_hash:
            return "Progressing", "active service cutover pending"
        if not stable_rs or stable_rs != current_hash:
            post = _map(_map(st.get("blueGreen")).get("postPromotionAnalysisRunStatus"))
            if bg.get("postPromotionAnalysis") is not None and post.get("status") not in (
                    "Successful", "Failed", "Error", "Inconclusive"):
                return "Progressing", "waiting for analysis to complete"
            return "Progressing", "waiting for post-promotion verification to complete"
    else:
        c = canary(ro)
        if c is not None:
            if c.get("trafficRouting") is None and _int(st.get("replicas")) > updated:
                return "Progressing", "old replicas are pending termination"
            if not stable_rs or stable_rs != current_hash:
                return "Progressing", "waiting for all steps to complete"
    return "Healthy", ""


# ---- steps and weights ------------------------------------------------------------------------------------


def current_step_index(ro: Obj) -> int | None:
    """The index of the current canary step, or None past the last step or without steps (as the plugin)."""
    all_steps = steps(ro)
    if not all_steps:
        return None
    index = _int(status(ro).get("currentStepIndex"), 0)
    return index if 0 <= index < len(all_steps) else None


def step_text(ro: Obj) -> str | None:
    index = status(ro).get("currentStepIndex")
    if canary(ro) is None or index is None or not steps(ro) or isinstance(index, bool):
        return None
    if not isinstance(index, int):
        return None
    return f"{index}/{len(steps(ro))}"


def max_weight(ro: Obj) -> int:
    """The weight that is all of the traffic: `trafficRouting.maxTrafficWeight`, as written (even 0 or below),
    or 100 when absent or without traffic routing (the plugin's `weightutil.MaxTrafficWeight`)."""
    c = canary(ro) or {}
    value = _map(c.get("trafficRouting")).get("maxTrafficWeight")
    return _int(value, 100) if value is not None else 100


def set_weight(ro: Obj) -> int:
    if status(ro).get("abort") is True:
        return 0
    index = current_step_index(ro)
    if index is None:
        return max_weight(ro)
    all_steps = steps(ro)
    for i in range(index, -1, -1):
        weight = all_steps[i].get("setWeight")
        if weight is not None:
            return _int(weight)
    return 0


@dataclass(frozen=True)
class ReplicaSetInfo:
    name: str
    revision: int | None
    pod_hash: str
    replicas: int
    available: int
    images: tuple[str, ...]
    created: str
    stable: bool = False
    canary: bool = False
    active: bool = False
    preview: bool = False
    ping: bool = False
    pong: bool = False
    template: str = ""

    @property
    def tags(self) -> list[str]:
        """Its roles, in the plugin's order (`Images` in rollout_info.go): canary, stable, active, preview, ping,
        pong."""
        return [t for t, on in (("canary", self.canary), ("stable", self.stable), ("active", self.active),
                                 ("preview", self.preview), ("ping", self.ping), ("pong", self.pong)) if on]


def _images(rs: Obj) -> tuple[str, ...]:
    template_spec = _map(_map(spec(rs).get("template")).get("spec"))
    return tuple(_str(_map(c).get("image")) for c in _list(template_spec.get("containers")))


def replica_set_info(ro: Obj, replica_sets: Iterable[Obj]) -> list[ReplicaSetInfo]:
    """The rollout's ReplicaSets (owned by its uid), newest revision first, tagged as the plugin tags them."""
    uid = _str(metadata(ro).get("uid"))
    st = status(ro)
    stable_rs, current = _str(st.get("stableRS")), _str(st.get("currentPodHash"))
    bg = _map(st.get("blueGreen"))
    out = []
    for rs in replica_sets:
        if not owned_by(rs, uid):
            continue
        meta = metadata(rs)
        pod_hash = _str(_map(meta.get("labels")).get(POD_TEMPLATE_HASH))
        is_canary_strategy, is_bg = canary(ro) is not None, blue_green(ro) is not None
        # only a strategy tags a stable ReplicaSet (GetReplicaSetInfo): a rollout with neither has none
        is_stable = (is_canary_strategy or is_bg) and bool(pod_hash) and stable_rs == pod_hash
        is_canary = is_canary_strategy and bool(pod_hash) and not is_stable and current == pod_hash
        ping_pong = is_canary_strategy and (canary(ro) or {}).get("pingPong") is not None
        stable_is_ping = _map(st.get("canary")).get("stablePingPong") == "ping"
        out.append(ReplicaSetInfo(
            name=_str(meta.get("name")), revision=revision_of(rs), pod_hash=pod_hash,
            replicas=_int(status(rs).get("replicas")), available=_int(status(rs).get("availableReplicas")),
            images=_images(rs), created=_str(meta.get("creationTimestamp")),
            stable=is_stable,
            canary=is_canary,
            ping=ping_pong and ((is_stable and stable_is_ping) or (is_canary and not stable_is_ping)),
            pong=ping_pong and ((is_stable and not stable_is_ping) or (is_canary and stable_is_ping)),
            active=is_bg and bool(pod_hash) and _str(bg.get("activeSelector")) == pod_hash,
            preview=is_bg and bool(pod_hash) and _str(bg.get("activeSelector")) != pod_hash
            and _str(bg.get("previewSelector")) == pod_hash,
            template=_str(_map(meta.get("annotations")).get(EXPERIMENT_TEMPLATE_ANNOTATION)),
        ))
    out.sort(key=lambda r: (-(r.revision if r.revision is not None else -1), r.name))
    return out


def actual_weight(ro: Obj, rs_infos: list[ReplicaSetInfo]) -> int:
    if current_step_index(ro) is None:
        return max_weight(ro)
    available = _int(status(ro).get("availableReplicas"))
    if available <= 0:
        return 0
    c = canary(ro) or {}
    if c.get("trafficRouting") is None:
        weight = 0
        for rs in rs_infos:
            if rs.canary:
                weight = rs.available * max_weight(ro) // available
        return weight
    weights = _map(status(ro).get("canary")).get("weights")
    if not isinstance(weights, Mapping):
        return set_weight(ro)
    # weights without a canary entry: Go reads the zero value of `Weights.Canary.Weight`, 0
    return _int(_map(weights.get("canary")).get("weight"))


@dataclass(frozen=True)
class ImageInfo:
    image: str
    tags: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.image} ({', '.join(self.tags)})" if self.tags else self.image


def images(rs_infos: Iterable[ReplicaSetInfo], experiment_rs: Iterable[ReplicaSetInfo] = ()) -> list[ImageInfo]:
    """Images of ReplicaSets with replicas > 0, sorted by image, as the plugin lists them (`Images` and
    `mergeImageAndTags`): an image seen once keeps its ReplicaSet's tags in role order (`stable, active`); an image
    seen again gets the union of its tags, sorted. A rollout's ReplicaSets give their roles, an experiment's its
    template (`Σ:name`)."""
    found: dict[str, tuple[str, ...]] = {}

    def merge(image: str, tags: list[str]) -> None:
        if image in found:
            found[image] = tuple(sorted({*found[image], *tags}))
        else:
            found[image] = tuple(tags)

    for rs in rs_infos:
        for image in rs.images if rs.replicas > 0 else ():
            merge(image, rs.tags)
    for rs in experiment_rs:
        for image in rs.images if rs.replicas > 0 else ():
            merge(image, [f"Σ:{rs.template}"] if rs.template else [])
    return [ImageInfo(image, tags) for image, tags in sorted(found.items())]


def experiment_replica_sets(ro: Obj, experiments: Iterable[Obj], replica_sets: Iterable[Obj]) -> list[ReplicaSetInfo]:
    uid = _str(metadata(ro).get("uid"))
    experiment_uids = {_str(metadata(e).get("uid")) for e in experiments if owned_by(e, uid)}
    out = []
    for rs in replica_sets:
        if any(owned_by(rs, exp_uid) for exp_uid in experiment_uids):
            meta = metadata(rs)
            out.append(ReplicaSetInfo(
                name=_str(meta.get("name")), revision=None, pod_hash="", replicas=_int(status(rs).get("replicas")),
                available=_int(status(rs).get("availableReplicas")), images=_images(rs),
                created=_str(meta.get("creationTimestamp")),
                template=_str(_map(meta.get("annotations")).get(EXPERIMENT_TEMPLATE_ANNOTATION)),
            ))
    return out


# ---- analysis -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricResult:
    name: str
    phase: str
    message: str
    values: tuple[str, ...]  # the last measured values, oldest first
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0


@dataclass(frozen=True)
class AnalysisRunInfo:
    name: str
    revision: int | None
    phase: str
    message: str
    metrics: tuple[MetricResult, ...] = field(default_factory=tuple)


def analysis_runs(ro: Obj, runs: Iterable[Obj], keep_values: int = 5) -> list[AnalysisRunInfo]:
    uid = _str(metadata(ro).get("uid"))
    out = []
    for run in runs:
        if not owned_by(run, uid):
            continue
        st = status(run)
        metrics = []
        for m in (_map(x) for x in _list(st.get("metricResults"))):
            values = [_str(_map(ms).get("value")) or _str(_map(ms).get("phase"))
                      for ms in _list(m.get("measurements"))]
            metrics.append(MetricResult(
                name=_str(m.get("name")), phase=_str(m.get("phase")), message=_str(m.get("message")),
                values=tuple(values[-keep_values:]), successful=_int(m.get("successful")),
                failed=_int(m.get("failed")), inconclusive=_int(m.get("inconclusive")), error=_int(m.get("error")),
            ))
        out.append(AnalysisRunInfo(_str(metadata(run).get("name")), revision_of(run), _str(st.get("phase")),
                                   _str(st.get("message")), tuple(metrics)))
    out.sort(key=lambda a: (-(a.revision if a.revision is not None else -1), a.name))
    return out


# ---- pause durations ----------------------------------------------------------------------------------------

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def pause_seconds(value: Any) -> float | None:
    """`pause: {duration: 10s}` → 10.0; `pause: {}` → None (until a human promotes)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if 0 <= value < float("inf") else None
    if isinstance(value, str):
        if value.isdigit():
            return float(value)
        parts = _DURATION.findall(value)
        if parts and "".join(n + u for n, u in parts) == value:
            return sum(float(n) * _UNIT[u] for n, u in parts)
    return None


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time of a Kubernetes object (None when absent or unreadable)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None  # RFC 3339 always has a zone; without one, unreadable


def image_tag(image: str) -> str:
    """An image's tag (a digest cut to 19 characters; "latest" when none), as the plugin shows it."""
    tail = image.rsplit("/", 1)[-1]
    if "@" in tail:
        return tail.split("@", 1)[1][:19]
    return tail.split(":", 1)[1] if ":" in tail else "latest"
