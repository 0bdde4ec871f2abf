"""The Argo Rollouts provider: Rollouts with their ReplicaSets, AnalysisRuns and Experiments, kept live by
list + watch, shown and driven as the kubectl plugin does."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

import msgspec

from monotui.action_kinds import ActionKind
from monotui.cancelling import cancel_all
from monotui.config import ArgoRolloutsSourceConfig
from monotui.models import (
    Analysis,
    Event,
    ImageTag,
    LogLine,
    Metric,
    Phase,
    RevisionInfo,
    Rollout,
    Step,
    Strategy,
    checked,
)
from monotui.providers.argo_rollouts import actors, pod_logs
from monotui.providers.argo_rollouts import patches as plugin_patches
from monotui.providers.argo_rollouts import pods as plugin_pods
from monotui.providers.argo_rollouts import status as plugin
from monotui.providers.argo_rollouts.kube import (
    ANALYSIS_RUNS,
    EXPERIMENTS,
    REPLICA_SETS,
    ROLLOUTS,
    Expired,
    KubeClient,
    Resource,
)
from monotui.providers.argo_rollouts.owners import owner_of
from monotui.providers.argo_rollouts.status import image_tag as _tag
from monotui.providers.argo_rollouts.status import parse_time as _parse_time
from monotui.providers.base import Pin, PollResult, ProviderError
from monotui.providers.items import describe, unreadable_rollout
from monotui.providers.kubernetes import EVENTS, PODS
from monotui.providers.log_stream import LogRequest
from monotui.revisions import RevisionList, fingerprint, pick

log = logging.getLogger(__name__)
WATCHED = (ROLLOUTS, REPLICA_SETS, ANALYSIS_RUNS, EXPERIMENTS, PODS)  # pods: skipped where RBAC forbids them
_PHASES = {p.value: p for p in Phase}
BATCH_WINDOW_S = 0.02  # events arriving this close together become one update
def relist_delay(fruitless: int, config: ArgoRolloutsSourceConfig, rng: random.Random | None = None) -> float:
    """Seconds to wait before listing again after `fruitless` watches in a row that brought no event. The first
    relist after a 410 is immediate (a routine resync); a storm of them backs off exponentially (the source's
    relist_backoff_s, relist_backoff_max_s and relist_jitter)."""
    if fruitless <= 1:
        return 0.0
    delay: float = min(config.relist_backoff_max_s, config.relist_backoff_s * 2 ** min(fruitless - 2, 64))
    factor: float = (rng or random).uniform(1 - config.relist_jitter, 1.0)
    return delay * factor

Key = tuple[str, str]  # (namespace, name)
OWNED_KINDS = ("ReplicaSet", "Experiment", "AnalysisRun")  # what a rollout (or its Experiment) owns, by owner


def _weight(weight: int, max_w: int) -> int:
    """A weight as the plugin computes it, kept within 0..max_w: beyond it only a status the controller has not
    settled yet (or a spec it rejects) can go, and a share of traffic is never below 0% or above 100%."""
    return max(0, min(max_w, weight)) if max_w > 0 else max(0, weight)


class Cache:
    """Objects by kind, plus who owns what, so one event recomputes only the rollouts it touches."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[Key, dict[str, Any]]] = {r.kind: {} for r in WATCHED}
        # a set: uids are unique in a cluster, but the plugin's own fixtures give six rollouts one uid
        self.rollout_by_uid: dict[str, set[Key]] = {}
        self.pods_by_hash: dict[Key, dict[str, dict[str, Any]]] = {}  # (namespace, pod template hash) → pods
        # kind → owner uid → the objects with that owner: a rollout's ReplicaSets, Experiments and AnalysisRuns
        # are found without reading every object of the kind (2,000 rollouts read 4,000 ReplicaSets 6,000 times)
        self.by_owner: dict[str, dict[str, dict[Key, dict[str, Any]]]] = {kind: {} for kind in OWNED_KINDS}

    def _index_pod(self, obj: dict[str, Any], keep: bool) -> None:
        namespace, name = self.key(obj)
        pods = self.pods_by_hash.setdefault((namespace, plugin_pods.pod_hash(obj)), {})
        if keep:
            pods[name] = obj
        else:
            pods.pop(name, None)

    @staticmethod
    def key(obj: dict[str, Any]) -> Key:
        meta = plugin.metadata(obj)
        return str(meta.get("namespace", "")), str(meta.get("name", ""))

    @staticmethod
    def _owner_uids(obj: dict[str, Any]) -> set[str]:
        return {uid for ref in plugin._list(plugin.metadata(obj).get("ownerReferences"))
                if isinstance(uid := plugin._map(ref).get("uid"), str) and uid}

    def _index_owners(self, kind: str, key: Key, old: dict[str, Any] | None, obj: dict[str, Any] | None) -> None:
        index = self.by_owner.get(kind)
        if index is None:
            return
        before = self._owner_uids(old) if old is not None else set()
        after = self._owner_uids(obj) if obj is not None else set()
        for uid in before - after:
            owned = index.get(uid, {})
            owned.pop(key, None)
            if not owned:
                index.pop(uid, None)
        if obj is not None:
            for uid in after:
                index.setdefault(uid, {})[key] = obj

    def owned(self, kind: str, namespace: str, uid: str) -> list[dict[str, Any]]:
        """The objects of `kind` in `namespace` that name `uid` among their owners (none for an empty uid)."""
        if not uid:
            return []
        return [obj for key, obj in self.by_owner[kind].get(uid, {}).items() if key[0] == namespace]

    def put(self, kind: str, obj: dict[str, Any]) -> None:
        old = self.objects[kind].get(self.key(obj))
        self.objects[kind][self.key(obj)] = obj
        self._index_owners(kind, self.key(obj), old, obj)
        if kind == "Pod":
            if old is not None:
                self._index_pod(old, False)
            self._index_pod(obj, True)
        if kind == "Rollout":
            uid = plugin.metadata(obj).get("uid")
            if isinstance(uid, str):
                self.rollout_by_uid.setdefault(uid, set()).add(self.key(obj))

    def remove(self, kind: str, obj: dict[str, Any]) -> None:
        old = self.objects[kind].pop(self.key(obj), None)
        self._index_owners(kind, self.key(obj), old, None)
        if kind == "Pod" and old is not None:
            self._index_pod(old, False)
        if kind == "Rollout":
            self.rollout_by_uid.get(str(plugin.metadata(obj).get("uid")), set()).discard(self.key(obj))

    def replace(self, kind: str, items: Iterable[dict[str, Any]]) -> None:
        self.objects[kind] = {}
        if kind in self.by_owner:
            self.by_owner[kind] = {}
        if kind == "Rollout":
            self.rollout_by_uid = {}
        if kind == "Pod":
            self.pods_by_hash = {}
        for obj in items:
            self.put(kind, obj)

    def owners(self, kind: str, obj: dict[str, Any]) -> set[Key]:
        """The rollouts an object belongs to (through an Experiment for experiment ReplicaSets)."""
        if kind == "Rollout":
            return {self.key(obj)}
        out: set[Key] = set()
        for ref in plugin._list(plugin.metadata(obj).get("ownerReferences")):
            uid = plugin._map(ref).get("uid")
            if uid in self.rollout_by_uid:
                out |= self.rollout_by_uid[uid]
            elif plugin._map(ref).get("kind") == "ReplicaSet":  # a pod: the rollouts of its ReplicaSet
                rs = self.objects["ReplicaSet"].get((self.key(obj)[0], plugin._str(plugin._map(ref).get("name"))))
                if rs is not None:
                    out |= self.owners("ReplicaSet", rs)
            elif plugin._map(ref).get("kind") == "Experiment":
                for exp in self.objects["Experiment"].values():
                    if plugin.metadata(exp).get("uid") == uid:
                        out |= self.owners("Experiment", exp)
        return out

    def in_namespace(self, kind: str, namespace: str) -> list[dict[str, Any]]:
        return [o for (ns, _), o in self.objects[kind].items() if ns == namespace]


class ArgoRolloutsProvider:
    idempotent = False  # Kubernetes has no idempotency keys: a resend is checked against the pin instead
    capabilities = plugin_patches.ACTIONS

    def __init__(self, config: ArgoRolloutsSourceConfig, client: KubeClient | None = None) -> None:
        self.config = config
        self.name = config.name
        self.kube = client or KubeClient(kubeconfig=config.kubeconfig, context=config.context,
                                         in_cluster=config.in_cluster, timeout=config.timeout,
                                         max_response_mb=config.max_response_mb)
        self.cache = Cache()
        self._context = config.context or ""
        self.list_requests = 0  # how many list requests were made (benchmarks and tests read it)
        self._fruitless: dict[tuple[str, str | None], int] = {}  # watches in a row that brought nothing
        self._unreadable_since: dict[Key, datetime] = {}
        # monotui's own Events and annotations (actor, action, reason), each shown once: by the Event's name
        self._event_ids = itertools.count(1)
        self._seen_events: set[str] = set()
        self._events: list[Event] = []  # read since the last result
        self.events_readable = True  # False: RBAC does not let this account list Events (annotations still read)

    def _scopes(self) -> list[str | None]:
        return list(self.config.namespaces) or [None]

    # ---- building domain rollouts ---------------------------------------------------------------------

    def to_rollout(self, ro: dict[str, Any]) -> Rollout:
        namespace, name = self.cache.key(ro)
        uid = plugin._str(plugin.metadata(ro).get("uid"))
        # what the rollout owns (each reader below keeps only that): found by owner, not by reading every object
        replica_sets = self.cache.owned("ReplicaSet", namespace, uid)
        rs_infos = plugin.replica_set_info(ro, replica_sets)
        experiments = self.cache.owned("Experiment", namespace, uid)
        exp_rs = plugin.experiment_replica_sets(ro, experiments, [
            rs for e in experiments for rs in self.cache.owned("ReplicaSet", namespace,
                                                                plugin._str(plugin.metadata(e).get("uid")))])
        phase, message = plugin.rollout_phase(ro)
        st, sp = plugin.status(ro), plugin.spec(ro)
        is_bg = plugin.blue_green(ro) is not None
        current_hash = plugin._str(st.get("currentPodHash"))
        current_rs = next((r for r in rs_infos if r.pod_hash and r.pod_hash == current_hash), None)
        stable_rs = next((r for r in rs_infos if r.stable), None)
        template_images = [plugin._str(plugin._map(c).get("image")) for c in plugin._list(
            plugin._map(plugin._map(sp.get("template")).get("spec")).get("containers"))]
        image = (template_images or (list(current_rs.images) if current_rs else []) or [""])[0]
        revision = plugin.revision_of(ro) or (current_rs.revision if current_rs else None) or 0
        try:
            target = plugin_patches.undo_target(ro, replica_sets)
            target_info = next((r for r in rs_infos if r.name == plugin.metadata(target).get("name")), None)
        except plugin_patches.CannotAct:
            target_info = None
        max_w = 100 if is_bg else plugin.max_weight(ro)
        steps = self._steps(ro, max_w)
        index = st.get("currentStepIndex")
        if is_bg:
            active = plugin._str(plugin._map(st.get("blueGreen")).get("activeSelector"))
            weight = 100 if active and active == current_hash else 0
            set_w, actual_w = weight, weight
        else:
            set_w, actual_w = plugin.set_weight(ro), plugin.actual_weight(ro, rs_infos)
        pause_reason = "manually paused" if sp.get("paused") is True else next(
            (plugin._str(plugin._map(c).get("reason")) for c in plugin._list(st.get("pauseConditions"))), None)
        started = (_parse_time(current_rs.created) if current_rs else None) or _parse_time(
            plugin.metadata(ro).get("creationTimestamp")) or datetime.now(UTC)
        return Rollout(
            id=f"{namespace}/{name}", service=name, environment=f"{self._context}/{namespace}",
            strategy=Strategy.BLUE_GREEN if is_bg else Strategy.CANARY,
            phase=_PHASES.get(phase, Phase.PROGRESSING), message=message if phase in _PHASES else
            f"{phase}: {message}".strip(": "),
            revision=revision, version=_tag(image) if image else "", image=image, started_at=started,
            steps=steps, current_step=index if isinstance(index, int) and not isinstance(index, bool) else None,
            set_weight=_weight(set_w, max_w), actual_weight=_weight(actual_w, max_w), max_weight=max_w,
            pause_reason=pause_reason or None,
            stable=self._revision(stable_rs), rollback_to=self._revision(target_info),
            images=[ImageTag(image=i.image, tags=list(i.tags)) for i in plugin.images(rs_infos, exp_rs)],
            analysis=[Analysis(name=a.name, revision=a.revision, phase=a.phase, message=a.message,
                               metrics=[Metric(name=m.name, phase=m.phase, message=m.message, values=list(m.values),
                                               successful=m.successful, failed=m.failed,
                                               inconclusive=m.inconclusive, error=m.error) for m in a.metrics])
                      for a in plugin.analysis_runs(ro, self.cache.owned("AnalysisRun", namespace, uid))],
            errors=self._errors(ro), owner=owner_of(ro, self.config.owner_keys),
            instances=plugin_pods.instances(
                rs_infos, lambda pod_hash: self.cache.pods_by_hash.get((namespace, pod_hash), {}).values()),
            resource_version=version if isinstance(version := plugin.metadata(ro).get("resourceVersion"), str)
            else None,
        )

    @staticmethod
    def _revision(info: plugin.ReplicaSetInfo | None) -> RevisionInfo | None:
        if info is None or info.revision is None:
            return None
        image = info.images[0] if info.images else ""
        return RevisionInfo(revision=info.revision, version=_tag(image) if image else "", image=image,
                            deployed_at=_parse_time(info.created))

    @staticmethod
    def _steps(ro: dict[str, Any], max_w: int) -> list[Step]:
        out = []
        for step in plugin.steps(ro):
            if step.get("setWeight") is not None:
                out.append(Step(weight=_weight(plugin._int(step.get("setWeight")), max_w)))
            elif "pause" in step:
                duration = plugin._map(step["pause"]).get("duration")
                out.append(Step(pause=True, duration_s=plugin.pause_seconds(duration)))
            else:
                label = next(iter(step), "step")
                out.append(Step(label=str(label)))
        return out

    @staticmethod
    def _errors(ro: dict[str, Any]) -> list[str]:
        st = plugin.status(ro)
        out = [plugin._str(c.get("message")) for c in map(plugin._map, plugin._list(st.get("conditions")))
               if c.get("type") == "InvalidSpec"]
        if st.get("abort") is True:
            for holder, key in (("canary", "currentStepAnalysisRunStatus"),
                                ("canary", "currentBackgroundAnalysisRunStatus"),
                                ("blueGreen", "prePromotionAnalysisRunStatus"),
                                ("blueGreen", "postPromotionAnalysisRunStatus")):
                run = plugin._map(plugin._map(st.get(holder)).get(key))
                if run.get("status") in ("Failed", "Error", "Inconclusive") and run.get("message"):
                    out.append(plugin._str(run.get("message")))
        return out

    def row(self, ro: dict[str, Any]) -> Rollout:
        """The rollout, or — when this one object cannot be read — a row saying what is wrong with it; the rest of
        the source is never affected."""
        key = self.cache.key(ro)
        try:
            rollout = checked(self.to_rollout(ro))  # built by keyword: its constraints checked here
            self._unreadable_since.pop(key, None)
            return rollout
        except msgspec.ValidationError as e:
            problem = describe(e)
        except Exception as e:  # one odd object must not blind the whole source
            log.warning("rollout %s/%s cannot be read", *key, exc_info=True)
            problem = f"{type(e).__name__} while reading it"
        namespace, name = key
        since = self._unreadable_since.setdefault(key, datetime.now(UTC))
        return unreadable_rollout({"id": f"{namespace}/{name}", "service": name,
                                   "environment": f"{self._context}/{namespace}"}, 0, problem, since)

    def _all(self) -> list[Rollout]:
        return [self.row(ro) for ro in self.cache.objects["Rollout"].values()]

    @property
    def resyncing(self) -> int:
        """How many relists in a row brought nothing, summed over the watches (0: all is well)."""
        return sum(max(0, n - 1) for n in self._fruitless.values())

    # ---- reading ------------------------------------------------------------------------------------

    async def _list_all(self) -> dict[Resource, dict[str | None, str]]:
        """List every watched kind in every scope; return the resourceVersion to watch each from."""
        if not self._context:
            self._context = await self.kube.context_name()
        versions: dict[Resource, dict[str | None, str]] = {}
        for resource in WATCHED:
            items: list[dict[str, Any]] = []
            versions[resource] = {}
            try:
                for scope in self._scopes():
                    found, rv = await self.kube.list(resource, scope)
                    self.list_requests += 1
                    items += found
                    versions[resource][scope] = rv
            except ProviderError as e:
                if resource is not PODS or e.status != 403:
                    raise
                # without the right to list pods the rollouts still work: no pods are shown
                log.warning("%s: pods cannot be listed (%s): no pods are shown", self.name, e.message)
                del versions[resource]
                items = []
            self.cache.replace(resource.kind, items)
        if self.events_readable:
            versions[EVENTS] = {}
            try:
                for scope in self._scopes():
                    found, rv = await self.kube.list(EVENTS, scope, fields=actors.EVENT_FIELDS)
                    self.list_requests += 1
                    versions[EVENTS][scope] = rv
                    for obj in sorted(found, key=lambda o: str(o.get("lastTimestamp") or "")):
                        self._read_event(obj)
            except ProviderError as e:
                if e.status != 403:
                    raise
                # without the right to list Events the rollouts still work; the annotations still name the actor
                log.warning("%s: Events cannot be listed (%s): actors are read from annotations only", self.name,
                            e.message)
                self.events_readable = False
                del versions[EVENTS]
        for ro in self.cache.objects["Rollout"].values():
            self._read_annotation(ro)
        return versions

    def _read_event(self, obj: dict[str, Any]) -> None:
        meta = plugin.metadata(obj)
        name = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
        if name in self._seen_events:
            return
        event = actors.from_event(obj, lambda: next(self._event_ids))
        if event is not None:
            self._seen_events.add(name)
            self._events.append(event)

    def _read_annotation(self, ro: dict[str, Any]) -> None:
        found = actors.from_annotation(ro, lambda: next(self._event_ids))
        if found is None:
            return
        event_name, event = found
        name = f"{event.rollout_id.partition('/')[0]}/{event_name}"
        if name in self._seen_events:
            return
        self._seen_events.add(name)
        self._events.append(event)

    def _take_events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    async def poll(self) -> PollResult:
        await self._list_all()
        return PollResult(rollouts=self._all(), requests=self.list_requests, events=self._take_events())

    async def watch(self) -> AsyncIterator[PollResult]:
        """A full snapshot, then only what changed, for as long as the watches run. Raises ProviderError."""
        versions = await self._list_all()
        self._fruitless = {}
        shown_resyncing = 0
        yield PollResult(rollouts=self._all(), events=self._take_events())
        queue: asyncio.Queue[tuple[Resource, dict[str, Any]] | BaseException] = asyncio.Queue()
        tasks = [asyncio.create_task(self._watch_one(resource, scope, rv, queue))
                 for resource, scopes in versions.items() for scope, rv in scopes.items()]
        try:
            while True:
                item = await queue.get()
                batch = [item]
                await asyncio.sleep(BATCH_WINDOW_S)
                while not queue.empty():
                    batch.append(queue.get_nowait())
                changed: set[Key] = set()
                removed: set[Key] = set()
                for entry in batch:
                    if isinstance(entry, BaseException):
                        raise entry
                    resource, event = entry
                    self._apply(resource, event, changed, removed)
                resyncing = self.resyncing
                if changed or removed or resyncing != shown_resyncing or self._events:
                    shown_resyncing = resyncing
                    rollouts = [self.row(self.cache.objects["Rollout"][k]) for k in changed
                                if k in self.cache.objects["Rollout"]]
                    yield PollResult(rollouts=rollouts, partial=True, resyncing=resyncing,
                                     removed=[f"{ns}/{name}" for ns, name in removed],
                                     events=self._take_events())
        finally:
            await cancel_all(tasks)

    def _apply(self, resource: Resource, event: dict[str, Any], changed: set[Key], removed: set[Key]) -> None:
        kind, obj = event.get("type"), event.get("object")
        if not isinstance(obj, dict) or kind == "RESYNC":
            return
        if resource is EVENTS:  # monotui's Events: shown as events, never part of a rollout
            if kind in ("ADDED", "MODIFIED"):
                self._read_event(obj)
            return
        if kind == "RELISTED":  # a whole kind was listed again after 410: everything may have changed
            changed.update(self.cache.objects["Rollout"])
            return
        owners_before = self.cache.owners(resource.kind, obj)
        if kind == "DELETED":
            self.cache.remove(resource.kind, obj)
            if resource.kind == "Rollout":
                removed.add(self.cache.key(obj))
                return
        else:
            self.cache.put(resource.kind, obj)
            if resource.kind == "Rollout":
                self._read_annotation(obj)
        changed.update(owners_before | self.cache.owners(resource.kind, obj))

    async def _watch_one(self, resource: Resource, scope: str | None, rv: str,
                         queue: asyncio.Queue[tuple[Resource, dict[str, Any]] | BaseException]) -> None:
        """Watch one kind in one scope forever: resume from the last version seen, list again on 410."""
        key = (resource.plural, scope)
        fields = actors.EVENT_FIELDS if resource is EVENTS else None
        try:
            while True:
                fruitful = False
                try:
                    async for event in self.kube.watch(resource, scope, rv, fields=fields):
                        if not fruitful and self._fruitless.get(key):
                            self._fruitless[key] = 0  # this watch works again: the storm is over
                            queue.put_nowait((resource, {"type": "RESYNC", "object": {}}))
                        fruitful = True
                        version = plugin.metadata(plugin._map(event.get("object"))).get("resourceVersion")
                        if isinstance(version, str) and version:
                            rv = version
                        if event.get("type") != "BOOKMARK":
                            queue.put_nowait((resource, event))
                    expired = False
                except Expired:
                    expired = True
                if not fruitful:  # 410 again at once, or a stream that ended empty: back off before retrying
                    self._fruitless[key] = self._fruitless.get(key, 0) + 1
                    if self._fruitless[key] > 1:
                        queue.put_nowait((resource, {"type": "RESYNC", "object": {}}))
                    await asyncio.sleep(relist_delay(self._fruitless[key], self.config) if expired
                                        else relist_delay(self._fruitless[key] + 1, self.config))
                if expired:
                    items, rv = await self.kube.list(resource, scope, fields=fields)
                    self.list_requests += 1
                    if resource is EVENTS:  # the ones not seen yet are shown; Events are not cached
                        for obj in items:
                            queue.put_nowait((resource, {"type": "ADDED", "object": obj}))
                        continue
                    kept = [o for o in self.cache.objects[resource.kind].values()
                            if scope is not None and self.cache.key(o)[0] != scope]
                    self.cache.replace(resource.kind, kept + items)
                    queue.put_nowait((resource, {"type": "RELISTED", "object": {}}))
        except ProviderError as e:
            queue.put_nowait(self.kube.scrubbed(e))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # never let a watch die silently
            queue.put_nowait(ProviderError("invalid", f"watch {resource.plural}: {type(e).__name__}: {e}"))

    # ---- acting -------------------------------------------------------------------------------------

    async def read(self, rollout_id: str) -> Rollout:
        namespace, _, name = rollout_id.partition("/")
        obj = await self.kube.get(ROLLOUTS, namespace, name)
        self.cache.put("Rollout", obj)
        return self.row(obj)

    async def revisions(self, rollout_id: str) -> RevisionList:
        """The rollout's revisions from its ReplicaSets, listed now as the plugin lists them (revisions.py)."""
        from monotui.providers.argo_rollouts.revisions import revisions_of

        namespace, _, name = rollout_id.partition("/")
        ro = self.cache.objects["Rollout"].get((namespace, name)) or await self.kube.get(ROLLOUTS, namespace, name)
        replica_sets, _ = await self.kube.list(REPLICA_SETS, namespace, plugin_patches.label_selector(ro) or None)
        return revisions_of(ro, replica_sets)

    def target_fingerprint(self, rollout: Rollout, revision: int) -> str | None:
        """What `revision` of the rollout runs as the watch last saw its ReplicaSet (None: not known here)."""
        from monotui.providers.argo_rollouts.revisions import revisions_of

        namespace, _, name = rollout.id.partition("/")
        ro = self.cache.objects["Rollout"].get((namespace, name))
        if ro is None:
            return None
        chosen = pick(revisions_of(ro, self.cache.in_namespace("ReplicaSet", namespace)).revisions, revision)
        return fingerprint(chosen) if chosen is not None else None

    async def act(self, rollout: Rollout, action: ActionKind, *, actor: str, reason: str | None,
                  revision: int | None, idempotency_key: str, pin: Pin) -> Rollout:
        """Send what the plugin sends, in order. Kubernetes has no idempotency keys: each PATCH is sent once.

        The pin: the patches are built from the cached object only if it still shows what was confirmed, and
        the first one carries that object's `metadata.resourceVersion`, so the API server refuses it (409) if the
        rollout changed in between — Kubernetes' own optimistic concurrency."""
        namespace, _, name = rollout.id.partition("/")
        if (namespace, name) in self._unreadable_since:  # what it would act on cannot be read: send nothing
            raise ProviderError("conflict", f"{name}: not sent: {rollout.message}", 409)
        current = self.cache.objects["Rollout"].get((namespace, name))
        if current is None:
            raise ProviderError("not_found", f'rollouts.argoproj.io "{name}" not found', 404)
        if changed := pin.differs(self.to_rollout(current)):
            raise ProviderError("changed", f"{rollout.service} changed since it was confirmed: {changed}")
        replica_sets: list[dict[str, Any]] = []
        if action is ActionKind.ROLLBACK:
            try:
                replica_sets, _ = await self.kube.list(REPLICA_SETS, namespace,
                                                       plugin_patches.label_selector(current))
            except ProviderError as e:  # a read before any PATCH: nothing was sent
                raise ProviderError("connection", f"nothing was sent: listing its ReplicaSets failed: {e.message}",
                                    e.status) from None
        if action is ActionKind.ROLLBACK and revision is not None and pin.target is not None:
            from monotui.providers.argo_rollouts.revisions import revisions_of

            chosen = pick(revisions_of(current, replica_sets).revisions, revision)
            if chosen is None or fingerprint(chosen) != pin.target:  # its ReplicaSet changed under the dialog
                raise ProviderError("changed", f"r{revision} of {rollout.service} changed since it was confirmed: "
                                    "its ReplicaSet no longer runs what was shown. Nothing was sent")
        try:
            requests = plugin_patches.patches_for(action, current, replica_sets, revision)
        except plugin_patches.CannotAct as e:  # nothing was sent (NothingToDo: the plugin would send nothing)
            raise ProviderError("conflict", str(e), 409) from None
        if not requests:
            raise ProviderError("conflict", f"nothing to do: {name} is already fully promoted", 409)
        # the version that was confirmed: a controller update since gives 409, not an action. A mitigation pins no
        # version (Pin): the cached object's, which shows the confirmed revision (checked above); a change the
        # cache has not seen yet still gives 409
        version = pin.version or plugin.metadata(current).get("resourceVersion")
        result = current
        sent = 0  # patches applied so far
        for patch in requests:
            first = sent == 0
            try:
                result = await self._send(namespace, name, patch.subresource, patch.content_type, patch.body,
                                          version if first else None)
            except ProviderError as e:
                if e.kind == "not_found" and patch.subresource and patch.on_404 is not None:
                    # no status subresource (controllers before v0.10): as the plugin, the rollout itself gets
                    # the unified patch instead, and it replaces the patches after this one
                    try:
                        result = await self._send(namespace, name, "", plugin_patches.MERGE, patch.on_404,
                                                  version if first else None)
                    except ProviderError as fallback_error:
                        raise self._failed(rollout, fallback_error, sent, len(requests)) from None
                    sent += 1
                    break
                raise self._failed(rollout, e, sent, len(requests)) from None
            sent += 1
        self.cache.put("Rollout", result)
        result = await self._record_actor(namespace, name, result, action, actor, reason)
        return self.row(result)

    async def _record_actor(self, namespace: str, name: str, rollout: dict[str, Any], action: ActionKind,
                            actor: str, reason: str | None) -> dict[str, Any]:
        """After the action: the actor and reason on the Rollout (annotation) and as a Kubernetes Event. The action
        is done whatever happens here; a refusal (RBAC) or an error is logged, the audit log has the record."""
        when = datetime.now(UTC)
        event_name = actors.event_name(name, when)
        try:
            rollout = await self.kube.patch(ROLLOUTS, namespace, name, "", plugin_patches.MERGE,
                                            actors.annotation_patch(action, actor, reason, when, event_name))
            self.cache.put("Rollout", rollout)
        except ProviderError as e:
            log.warning("%s: %s/%s: the actor annotation was not written: %s", self.name, namespace, name,
                        e.message)
        try:
            created = await self.kube.create(EVENTS, namespace,
                                             actors.event_object(rollout, action, actor, reason, when, event_name))
            self._read_event(created)  # this monotui shows its own action at once, once
        except ProviderError as e:
            log.warning("%s: %s/%s: the Kubernetes Event was not created: %s", self.name, namespace, name,
                        e.message)
        return rollout

    @staticmethod
    def _failed(rollout: Rollout, error: ProviderError, sent: int, total: int) -> ProviderError:
        """What a failed PATCH means for the action: nothing changed before the first one applied (a 409 there is
        the resourceVersion precondition), half done after."""
        if sent == 0 and error.kind == "conflict":  # resourceVersion precondition: nothing was changed
            return ProviderError("changed", f"{rollout.service} changed since it was confirmed "
                                 f"(the API server said: {error.message}); nothing was changed", 409)
        if sent > 0:  # an earlier PATCH of this action was applied: it acted, in part
            return ProviderError("lost", f"PATCH {sent + 1} of {total} failed after the first {sent} applied "
                                 f"(the action is half done): {error.message}")
        return error

    async def _send(self, namespace: str, name: str, subresource: str, content_type: str, body: Any,
                    version: Any) -> dict[str, Any]:
        """One PATCH; the first of an action carries the confirmed resourceVersion as a precondition."""
        if isinstance(version, str):
            body = plugin_patches.pinned(plugin_patches.Patch("", content_type, body), version)
        return await self.kube.patch(ROLLOUTS, namespace, name, subresource, content_type, body)

    async def logs(self, rollout: Rollout, request: LogRequest) -> AsyncIterator[LogLine]:
        """The canary's (or the stable revision's) pods' logs, as `kubectl logs -l … --prefix -f` reads them."""
        namespace, _, name = rollout.id.partition("/")
        ro = self.cache.objects["Rollout"].get((namespace, name))
        if ro is None:
            raise ProviderError("not_found", f'rollouts.argoproj.io "{name}" not found', 404)
        revisions = {i.pod_hash: i.revision for i in plugin.replica_set_info(
            ro, self.cache.in_namespace("ReplicaSet", namespace))}
        async for line in pod_logs.stream(self.kube, ro, revisions, request):
            yield line

    async def aclose(self) -> None:
        await self.kube.aclose()
