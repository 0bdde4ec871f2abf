"""A loopback stand-in for the Kubernetes API server, serving Argo Rollouts objects (a real API server cannot run
here). It speaks the parts of the protocol monotui and `kubectl` use: discovery, list, get, watch (with
resourceVersion, bookmarks and 410 Expired, label and field selectors), create (POST), merge and JSON patches on
resources and on `/status`, core/v1 Events (with kube-apiserver's table for `kubectl get events`), and errors as
`Status` objects. `monotui kube-standin` serves the Argo Rollouts fixtures with it, for trying monotui without a
cluster.
"""

from __future__ import annotations

import asyncio
import copy
import hmac
import itertools
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonpatch
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from monotui.simulator.kube_pods import pod_table
from monotui.simulator.kube_tables import Column, age, row, table
from monotui.simulator.loopback import BackgroundServer, replay_receive
from monotui.simulator.paging import PageError, Pager
from monotui.simulator.pod_logs import PodLogs, log_routes


@dataclass(frozen=True)
class Kind:
    group: str
    version: str
    plural: str
    kind: str
    short_names: tuple[str, ...] = ()
    status_subresource: bool = False

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


KINDS = (
    Kind("argoproj.io", "v1alpha1", "rollouts", "Rollout", ("ro",), status_subresource=True),
    Kind("argoproj.io", "v1alpha1", "analysisruns", "AnalysisRun", ("ar",), status_subresource=True),
    Kind("argoproj.io", "v1alpha1", "experiments", "Experiment", ("exp",), status_subresource=True),
    Kind("apps", "v1", "replicasets", "ReplicaSet", ("rs",), status_subresource=True),
    Kind("apps", "v1", "deployments", "Deployment", ("deploy",), status_subresource=True),
    Kind("", "v1", "pods", "Pod", ("po",), status_subresource=True),
    Kind("", "v1", "events", "Event", ("ev",)),
)
BY_KIND = {k.kind: k for k in KINDS}
BY_PATH = {(k.group_version, k.plural): k for k in KINDS}


def status_object(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "details": details or {}, "code": code}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@dataclass
class WatchEvent:
    rv: int
    kind: Kind
    type: str
    obj: dict[str, Any]


@dataclass
class LoggedCall:
    method: str
    path: str
    query: str
    content_type: str
    body: bytes


@dataclass
class Store:
    """Objects by kind and (namespace, name), with one resourceVersion counter and a bounded event history."""

    history_limit: int = 50_000
    objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = field(
        default_factory=lambda: {k.kind: {} for k in KINDS})
    rv: int = 1000
    history: deque[WatchEvent] = field(default_factory=deque)
    lock: threading.RLock = field(default_factory=threading.RLock)
    subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[WatchEvent]]] = field(default_factory=set)
    calls: list[LoggedCall] = field(default_factory=list)
    floor: int = 0  # the oldest resourceVersion a watch can still resume from
    pod_logs: PodLogs = field(default_factory=PodLogs)  # containers' logs (simulator/pod_logs.py)

    def _next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def _publish(self, event: WatchEvent) -> None:
        self.history.append(event)
        while len(self.history) > self.history_limit:
            self.floor = self.history.popleft().rv
        for loop, queue in list(self.subscribers):
            loop.call_soon_threadsafe(queue.put_nowait, event)

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or replace an object (ADDED or MODIFIED). Each kind is stored and served in one version, as
        kube-apiserver serves a list: a fixture's `extensions/v1beta1` ReplicaSet is an `apps/v1` one here."""
        kind = BY_KIND[obj["kind"]]
        with self.lock:
            obj = copy.deepcopy(obj)
            obj["apiVersion"] = kind.group_version
            meta = obj.setdefault("metadata", {})
            meta.setdefault("namespace", "default")
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("generation", 1)
            meta.pop("selfLink", None)
            key = (meta["namespace"], meta["name"])
            existed = key in self.objects[kind.kind]
            meta["resourceVersion"] = str(self._next_rv())
            self.objects[kind.kind][key] = obj
            self._publish(WatchEvent(self.rv, kind, "MODIFIED" if existed else "ADDED", copy.deepcopy(obj)))
            return obj

    def delete(self, kind_name: str, namespace: str, name: str) -> None:
        with self.lock:
            obj = self.objects[kind_name].pop((namespace, name))
            obj["metadata"]["resourceVersion"] = str(self._next_rv())
            self._publish(WatchEvent(self.rv, BY_KIND[kind_name], "DELETED", obj))

    def get(self, kind_name: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self.lock:
            obj = self.objects[kind_name].get((namespace, name))
            return copy.deepcopy(obj) if obj is not None else None

    def modify(self, kind_name: str, namespace: str, name: str, change: Any) -> dict[str, Any]:
        """Apply `change(obj)` in place (tests and demos use this to play the controller)."""
        with self.lock:
            obj = copy.deepcopy(self.objects[kind_name][(namespace, name)])
            change(obj)
            return self.put(obj)

    def list(self, kind: Kind, namespace: str | None, selector: str | None,
             field_selector: str | None = None) -> tuple[list[dict[str, Any]], int]:
        with self.lock:
            items = [copy.deepcopy(o) for (ns, _), o in sorted(self.objects[kind.kind].items())
                     if (namespace is None or ns == namespace) and _selects(selector, o)
                     and _fields_select(field_selector, o)]
            return items, self.rv

    def create(self, kind: Kind, namespace: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """POST to a collection, as kube-apiserver: 201 with the stored object, 409 when the name is taken, 400/422
        for a body that is not an object of this kind in this namespace."""
        try:
            obj = json.loads(body)
        except ValueError as e:
            return 400, status_object(400, "BadRequest", f"the body is not JSON: {e}")
        if not isinstance(obj, dict) or obj.get("kind") not in (None, kind.kind):
            return 400, status_object(400, "BadRequest", f"the body is not a {kind.kind}")
        obj["kind"] = kind.kind
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = obj["metadata"] = {}
        if meta.setdefault("namespace", namespace) != namespace:
            return 400, status_object(400, "BadRequest", "the namespace of the provided object does not match "
                                                         "the namespace sent on the request")
        if not meta.get("name"):
            if not meta.get("generateName"):
                return 422, status_object(422, "Invalid", f'{kind.kind} "" is invalid: metadata.name: Required '
                                                          "value: name or generateName is required")
            meta["name"] = f"{meta['generateName']}{uuid.uuid4().hex[:5]}"
        with self.lock:
            if (namespace, meta["name"]) in self.objects[kind.kind]:
                return 409, status_object(409, "AlreadyExists", f'{kind.resource} "{meta["name"]}" already exists',
                                          {"name": meta["name"], "group": kind.group, "kind": kind.plural})
            meta.pop("resourceVersion", None)
            meta.pop("uid", None)
            meta["creationTimestamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return 201, self.put(obj)

    def patch(self, kind: Kind, namespace: str, name: str, subresource: str, content_type: str,
              body: bytes, *, status_subresource: bool = True) -> tuple[int, dict[str, Any]]:
        """Apply a patch. With a status subresource, the main resource ignores `.status` and `/status` everything
        else; without one (a CRD without `subresources.status`) the main resource takes both."""
        with self.lock:
            current = self.objects[kind.kind].get((namespace, name))
            if current is None:
                return 404, status_object(404, "NotFound", f'{kind.resource} "{name}" not found',
                                          {"name": name, "group": kind.group, "kind": kind.plural})
            try:
                data = json.loads(body)
                if content_type.startswith("application/merge-patch+json"):
                    patched = merge_patch(current, data)
                elif content_type.startswith("application/json-patch+json"):
                    patched = jsonpatch.apply_patch(current, data)
                else:
                    return 415, status_object(415, "UnsupportedMediaType",
                                              f"the body of the request was in an unknown format - accepted "
                                              f"media types include: application/json-patch+json, "
                                              f"application/merge-patch+json (got {content_type})")
            except (ValueError, jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as e:
                return 422, status_object(422, "Invalid", f"invalid patch: {e}")
            if not isinstance(patched, dict):
                return 422, status_object(422, "Invalid", "the patch did not produce an object")
            # Optimistic concurrency, as kube-apiserver: a resourceVersion in the patched object that is not the
            # stored one makes the update a conflict (how a client pins a patch to the version it read).
            wanted = (patched.get("metadata") or {}).get("resourceVersion") if isinstance(
                patched.get("metadata"), dict) else None
            if wanted is not None and str(wanted) != current["metadata"]["resourceVersion"]:
                return 409, status_object(
                    409, "Conflict", f'Operation cannot be fulfilled on {kind.resource} "{name}": the object has '
                    "been modified; please apply your changes to the latest version and try again",
                    {"name": name, "group": kind.group, "kind": kind.plural})
            updated = copy.deepcopy(current)
            kept = ("metadata",) if not status_subresource else ("status", "metadata")
            if subresource == "status":
                updated["status"] = patched.get("status", {})  # /status ignores everything but status
            else:
                for key, value in patched.items():
                    if key not in kept:
                        updated[key] = value
                for key in [k for k in updated if k not in patched and k not in kept]:
                    del updated[key]
                meta = dict(patched.get("metadata") or {})
                for key in ("labels", "annotations"):
                    if key in meta:
                        updated["metadata"][key] = meta[key]
                # generation counts spec changes; without a status subresource, every change but metadata's
                if any(updated.get(k) != current.get(k) for k in {*updated, *current} - set(kept) - {"metadata"}):
                    updated["metadata"]["generation"] = int(current["metadata"].get("generation", 1)) + 1
            return 200, self.put(updated)

    def subscribe(self) -> asyncio.Queue[WatchEvent]:
        queue: asyncio.Queue[WatchEvent] = asyncio.Queue()
        self.subscribers.add((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[WatchEvent]) -> None:
        self.subscribers = {(lp, q) for lp, q in self.subscribers if q is not queue}

    def compact(self) -> None:
        """Forget the event history past every version handed out so far, as etcd compaction does: a watch that
        resumes from any of them now gets 410 Expired (open watches keep streaming until they end)."""
        with self.lock:
            self.history.clear()
            self.floor = self.rv + 1


def _selects(selector: str | None, obj: dict[str, Any]) -> bool:
    if not selector:
        return True
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for term in selector.split(","):
        term = term.strip()
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k) == v:
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k) != v:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term and term not in labels:
            return False
    return True


# the field selectors kube-apiserver accepts for Events besides metadata.name/namespace (`source` is the component)
_EVENT_FIELDS = {"source": ("source", "component"), "reportingComponent": ("reportingComponent",),
                 "reason": ("reason",), "type": ("type",)}


def _field(obj: dict[str, Any], name: str) -> str:
    path = _EVENT_FIELDS.get(name) or tuple(name.split("."))
    value: Any = obj
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def _fields_select(selector: str | None, obj: dict[str, Any]) -> bool:
    """A field selector (`involvedObject.kind=Rollout,source=monotui`): `=`, `==` and `!=` terms."""
    for term in (selector or "").split(","):
        term = term.strip()
        if not term:
            continue
        if "!=" in term:
            k, v = term.split("!=", 1)
            if _field(obj, k) == v:
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if _field(obj, k) != v:
                return False
    return True


def event_table(items: list[dict[str, Any]], rv: int) -> dict[str, Any]:
    """Events as a meta.k8s.io/v1 Table with kube-apiserver's columns (what `kubectl get events` prints)."""
    now = datetime.now(UTC)
    shown = ("Last Seen", "Type", "Reason", "Object", "Message")
    columns: list[Column] = [(name, kind, 0 if name in shown else 1) for name, kind in (
        ("Last Seen", "string"), ("Type", "string"), ("Reason", "string"), ("Object", "string"),
        ("Subobject", "string"), ("Source", "string"), ("Message", "string"), ("First Seen", "string"),
        ("Count", "integer"), ("Name", "string"))]
    rows = []
    for ev in items:
        inv = ev.get("involvedObject") or {}
        src = ev.get("source") or {}
        last = ev.get("lastTimestamp") or ev.get("eventTime") or (ev.get("metadata") or {}).get("creationTimestamp")
        first = ev.get("firstTimestamp") or last
        rows.append(row([age(last, now), ev.get("type", ""), ev.get("reason", ""),
                         f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}", inv.get("fieldPath", ""),
                         ", ".join(v for v in (src.get("component"), src.get("host")) if v), ev.get("message", ""),
                         age(first, now), ev.get("count", 1), (ev.get("metadata") or {}).get("name", "")],
                        ev.get("metadata") or {}))
    return table(columns, rows, rv, name_format=False)


@dataclass
class StandinOptions:
    token: str | None = None
    bookmark_interval: float = 5.0
    max_watch_seconds: float = 1800.0  # the server ends a watch after this long (clients must resume)
    forbidden_verbs: frozenset[str] = frozenset()  # e.g. {"patch"}: answer 403 as RBAC would
    forbidden_patches: frozenset[str] = frozenset()  # e.g. {"rollouts/status"}: PATCH of these answers 403 (RBAC)
    forbidden_resources: frozenset[str] = frozenset()  # e.g. {"events"}: every request on them answers 403 (RBAC)
    # plurals served without a status subresource, as Argo Rollouts' CRD before v0.10: `/status` answers 404
    # and a PATCH of the resource itself takes `.status` too
    without_status_subresource: frozenset[str] = frozenset()
    expire_watches: bool = False  # hostile: every watch answers 410 Gone (a storm of relists, if unchecked)


def paged_list(pager: Pager, store: Store, kind: Kind, namespace: str | None,
               q: Any) -> tuple[list[dict[str, Any]], dict[str, Any]] | Response:
    """A list, or one page of it, as kube-apiserver serves `limit` and `continue`: the pages of one listing come
    from the snapshot its first page took (the list's resourceVersion), `metadata.continue` and
    `remainingItemCount` while more follow; an expired or foreign token is 410 Expired."""
    selector, fields = q.get("labelSelector"), q.get("fieldSelector")
    query = {k: q[k] for k in ("limit", "continue") if q.get(k)}
    if query.get("limit") == "0":
        del query["limit"]  # kube-apiserver: limit=0 is no limit
    name = f"{kind.kind}/{namespace}/{selector}/{fields}"

    def build() -> tuple[list[Any], dict[str, Any]]:
        items, rv = store.list(kind, namespace, selector, fields)
        return items, {"resourceVersion": str(rv)}

    try:
        page = pager.page(name, query, store.rv, build) if query else None
    except PageError as e:
        reason = "Expired" if e.status == 410 else "BadRequest"
        message = ("The provided continue parameter is too old to display a consistent list result. You can "
                   "start a new list without the continue parameter." if e.status == 410 else e.message)
        return JSONResponse(status_object(e.status, reason, message), status_code=e.status)
    if page is None:
        items, meta = build()
        return items, meta
    meta = dict(page.meta)
    if page.next_token:
        meta["continue"] = page.next_token
        meta["remainingItemCount"] = page.remaining
    return page.items, meta


def create_app(store: Store, options: StandinOptions | None = None, pager: Pager | None = None) -> Starlette:
    opts = options or StandinOptions()
    pager = pager or Pager()  # the snapshots behind paged lists (`limit` + `continue`)

    def unauthorized(request: Request) -> Response | None:
        if opts.token is None or request.url.path in ("/version", "/version/"):
            return None  # /version is public, as system:public-info-viewer makes it on real clusters
        header = request.headers.get("authorization", "")
        if not hmac.compare_digest(header.encode(), f"Bearer {opts.token}".encode()):
            return JSONResponse(status_object(401, "Unauthorized", "Unauthorized"), status_code=401)
        return None

    async def version(request: Request) -> Response:
        return JSONResponse({"major": "1", "minor": "30", "gitVersion": "v1.30.0-monotui-standin",
                             "platform": "linux/amd64"})

    async def core_versions(request: Request) -> Response:
        return JSONResponse({"kind": "APIVersions", "versions": ["v1"],
                             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                             "serverAddress": request.url.netloc}]})

    async def groups(request: Request) -> Response:
        out = []
        for group, kinds in itertools.groupby(sorted((k for k in KINDS if k.group), key=lambda k: k.group),
                                              key=lambda k: k.group):
            version = next(iter(kinds)).version
            gv = {"groupVersion": f"{group}/{version}", "version": version}
            out.append({"name": group, "versions": [gv], "preferredVersion": gv})
        return JSONResponse({"kind": "APIGroupList", "apiVersion": "v1", "groups": out})

    def resource_list(group_version: str) -> Response:
        resources = []
        for k in KINDS:
            if k.group_version != group_version:
                continue
            verbs = ["get", "list", "watch", "patch", "update", "create", "delete"]
            resources.append({"name": k.plural, "singularName": k.kind.lower(), "namespaced": True, "kind": k.kind,
                              "verbs": verbs, "shortNames": list(k.short_names)})
            if k.status_subresource and k.plural not in opts.without_status_subresource:
                resources.append({"name": f"{k.plural}/status", "singularName": "", "namespaced": True,
                                  "kind": k.kind, "verbs": ["get", "patch", "update"]})
        if not resources:
            return not_found(group_version)
        return JSONResponse({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
                             "resources": resources})

    def not_found(what: str) -> Response:
        return JSONResponse(status_object(404, "NotFound", "the server could not find the requested resource"),
                            status_code=404)

    async def core_resources(request: Request) -> Response:
        return resource_list("v1")

    async def group_resources(request: Request) -> Response:
        return resource_list(f"{request.path_params['group']}/{request.path_params['version']}")

    def kind_of(request: Request) -> Kind | None:
        p = request.path_params
        gv = f"{p['group']}/{p['version']}" if "group" in p else "v1"
        return BY_PATH.get((gv, p["plural"]))

    async def collection(request: Request) -> Response:
        kind = kind_of(request)
        if kind is None:
            return not_found(request.url.path)
        namespace = request.path_params.get("namespace")
        q = request.query_params
        if kind.plural in opts.forbidden_resources:
            verb = "create" if request.method == "POST" else "watch" if q.get("watch") in ("1", "true") else "list"
            where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
            message = (f'{kind.resource} is forbidden: User "oncall" cannot {verb} resource "{kind.plural}" in API '
                       f'group "{kind.group}" {where}')
            return JSONResponse(status_object(403, "Forbidden", message), status_code=403)
        if q.get("watch") in ("1", "true"):
            return watch(request, kind, namespace)
        if request.method == "POST":
            if namespace is None:
                return JSONResponse(status_object(405, "MethodNotAllowed", "the server does not allow this method "
                                                                            "on the requested resource"),
                                    status_code=405)
            if "create" in opts.forbidden_verbs:
                message = (f'{kind.resource} is forbidden: User "oncall" cannot create resource "{kind.plural}" '
                           f'in API group "{kind.group}" in the namespace "{namespace}"')
                return JSONResponse(status_object(403, "Forbidden", message), status_code=403)
            code, created = store.create(kind, namespace, await request.body())
            return JSONResponse(created, status_code=code)
        listed = paged_list(pager, store, kind, namespace, q)
        if isinstance(listed, Response):
            return listed
        items, meta = listed
        table = {"Event": event_table, "Pod": pod_table}.get(kind.kind)
        if table is not None and "as=Table" in request.headers.get("accept", ""):
            return JSONResponse(table(items, int(meta["resourceVersion"])))
        return JSONResponse({"kind": f"{kind.kind}List", "apiVersion": kind.group_version, "metadata": meta,
                             "items": items})

    def watch(request: Request, kind: Kind, namespace: str | None) -> Response:
        q = request.query_params
        since_raw = q.get("resourceVersion", "")
        bookmarks = q.get("allowWatchBookmarks") in ("1", "true")
        selector = q.get("labelSelector")
        field_selector = q.get("fieldSelector")
        timeout = min(float(q.get("timeoutSeconds") or opts.max_watch_seconds), opts.max_watch_seconds)
        if opts.expire_watches:
            return JSONResponse(status_object(410, "Expired", f"too old resource version: {since_raw}"),
                                status_code=410)

        def matches(event: WatchEvent) -> bool:
            ns = event.obj.get("metadata", {}).get("namespace")
            return (event.kind == kind and (namespace is None or ns == namespace) and _selects(selector, event.obj)
                    and _fields_select(field_selector, event.obj))

        def line(event_type: str, obj: dict[str, Any]) -> bytes:
            return (json.dumps({"type": event_type, "object": obj}, separators=(",", ":")) + "\n").encode()

        async def stream() -> AsyncIterator[bytes]:
            queue = store.subscribe()
            try:
                with store.lock:
                    if since_raw in ("", "0"):
                        items, since = store.list(kind, namespace, selector, field_selector)
                        replay = [WatchEvent(since, kind, "ADDED", o) for o in items]
                    else:
                        since = int(since_raw) if since_raw.isdigit() else 0
                        if since < store.floor:
                            expired = status_object(410, "Expired", f"too old resource version: {since} "
                                                                    f"({store.floor})")
                            replay = None
                        else:
                            replay = [e for e in store.history if e.rv > since and matches(e)]
                if replay is None:
                    yield line("ERROR", expired)
                    return
                for event in replay:
                    yield line(event.type, event.obj)
                last = max([since, *(e.rv for e in replay)])
                deadline = time.monotonic() + timeout
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return
                    try:
                        event = await asyncio.wait_for(queue.get(), min(remaining, opts.bookmark_interval))
                    except TimeoutError:
                        if bookmarks:
                            yield line("BOOKMARK", {"kind": kind.kind, "apiVersion": kind.group_version,
                                                    "metadata": {"resourceVersion": str(max(last, store.rv))}})
                        continue
                    if event.rv <= last or not matches(event):
                        continue
                    last = event.rv
                    yield line(event.type, event.obj)
            finally:
                store.unsubscribe(queue)

        return StreamingResponse(stream(), media_type="application/json")

    async def item(request: Request) -> Response:
        kind = kind_of(request)
        if kind is None:
            return not_found(request.url.path)
        p = request.path_params
        subresource = p.get("subresource", "")
        has_status = kind.status_subresource and kind.plural not in opts.without_status_subresource
        if subresource not in ("", "status") or (subresource == "status" and not has_status):
            return not_found(request.url.path)
        resource = f"{kind.plural}/{subresource}" if subresource else kind.plural
        if request.method == "PATCH" and ("patch" in opts.forbidden_verbs or resource in opts.forbidden_patches):
            message = (f'{kind.resource} "{p["name"]}" is forbidden: User "oncall" cannot patch resource '
                       f'"{resource}" in API group "{kind.group}" in the namespace "{p["namespace"]}"')
            return JSONResponse(status_object(403, "Forbidden", message), status_code=403)
        if request.method == "PATCH":
            code, body = store.patch(kind, p["namespace"], p["name"], subresource,
                                     request.headers.get("content-type", ""), await request.body(),
                                     status_subresource=has_status)
            return JSONResponse(body, status_code=code)
        obj = store.get(kind.kind, p["namespace"], p["name"])
        if obj is None:
            return JSONResponse(status_object(404, "NotFound", f'{kind.resource} "{p["name"]}" not found',
                                              {"name": p["name"], "group": kind.group, "kind": kind.plural}),
                                status_code=404)
        return JSONResponse(obj)

    routes = [
        Route("/version", version),
        Route("/api", core_versions),
        Route("/apis", groups),
        Route("/api/v1", core_resources),
        Route("/apis/{group}/{version}", group_resources),
        Route("/api/v1/{plural}", collection),
        Route("/api/v1/namespaces/{namespace}/{plural}", collection, methods=["GET", "POST"]),
        *log_routes(lambda ns, name: store.get("Pod", ns, name), store.pod_logs),
        Route("/api/v1/namespaces/{namespace}/{plural}/{name}", item, methods=["GET", "PATCH"]),
        Route("/api/v1/namespaces/{namespace}/{plural}/{name}/{subresource}", item, methods=["GET", "PATCH"]),
        Route("/apis/{group}/{version}/{plural}", collection),
        Route("/apis/{group}/{version}/namespaces/{namespace}/{plural}", collection, methods=["GET", "POST"]),
        Route("/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}", item, methods=["GET", "PATCH"]),
        Route("/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}/{subresource}", item,
              methods=["GET", "PATCH"]),
    ]
    app = Starlette(routes=routes)

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            body = await request.body()
            store.calls.append(LoggedCall(scope["method"], scope["path"], scope.get("query_string", b"").decode(),
                                          request.headers.get("content-type", ""), body))
            denied = unauthorized(request)
            replay = replay_receive(body, receive)

            if denied is not None:
                await denied(scope, replay, send)
                return
            await app(scope, replay, send)
            return
        await app(scope, receive, send)

    return guarded  # type: ignore[return-value]


# ---- fixtures and synthetic objects ------------------------------------------------------------------------


def load_fixtures(folder: Path) -> list[dict[str, Any]]:
    """Every Kubernetes object in the YAML files below `folder` (Rollouts, ReplicaSets, AnalysisRuns…).

    Scenarios live in sub-folders and may reuse a namespace and name (two `jesse-test/canary-demo`): a
    sub-folder whose objects would collide with an earlier one's moves to namespace `<namespace>-<folder>`.
    """
    seen: set[tuple[str, str, str]] = set()
    out: list[dict[str, Any]] = []
    groups: dict[Path, list[dict[str, Any]]] = {}
    for path in sorted(folder.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") in BY_KIND:
                groups.setdefault(path.parent, []).append(doc)
    for group_folder, docs in groups.items():
        keys = {(d["kind"], d["metadata"].get("namespace", "default"), d["metadata"]["name"]) for d in docs}
        if keys & seen:
            for d in docs:
                d["metadata"]["namespace"] = f"{d['metadata'].get('namespace', 'default')}-{group_folder.name}"
            keys = {(d["kind"], d["metadata"]["namespace"], d["metadata"]["name"]) for d in docs}
        seen |= keys
        out += docs
    return out


def synthetic(count: int, namespaces: int, seed_time: datetime | None = None) -> list[dict[str, Any]]:
    """`count` canary Rollouts spread over `namespaces` namespaces, each with a stable and a canary ReplicaSet."""
    created = (seed_time or datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    out: list[dict[str, Any]] = []
    for i in range(count):
        ns, name = f"team-{i % namespaces:02d}", f"svc-{i:05d}"
        uid = f"00000000-0000-4000-8000-{i:012d}"
        stable_hash, canary_hash = f"s{i:08x}", f"c{i:08x}"
        step = i % 5
        steps = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {"duration": "30s"}},
                 {"setWeight": 80}]
        out.append({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": name, "namespace": ns, "uid": uid, "generation": 2, "creationTimestamp": created,
                         "annotations": {"rollout.argoproj.io/revision": "2"}},
            "spec": {"replicas": 5, "selector": {"matchLabels": {"app": name}},
                     "strategy": {"canary": {"steps": steps}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": f"registry.example/{name}:v2"}]}}},
            "status": {"observedGeneration": "2", "currentPodHash": canary_hash, "stableRS": stable_hash,
                       "currentStepIndex": step, "replicas": 6, "updatedReplicas": 1, "availableReplicas": 6,
                       "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": created}] if step == 1
                       else None},
        })
        for rev, pod_hash, replicas, image in ((1, stable_hash, 5, "v1"), (2, canary_hash, 1, "v2")):
            out.append({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": f"{name}-{pod_hash}", "namespace": ns, "creationTimestamp": created,
                             "labels": {"app": name, "rollouts-pod-template-hash": pod_hash},
                             "annotations": {"rollout.argoproj.io/revision": str(rev)},
                             "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                                                  "name": name, "uid": uid, "controller": True}]},
                "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                         "template": {"metadata": {"labels": {"app": name, "rollouts-pod-template-hash": pod_hash}},
                                      "spec": {"containers": [{"name": "app",
                                                               "image": f"registry.example/{name}:{image}"}]}}},
                "status": {"replicas": replicas, "availableReplicas": replicas, "readyReplicas": replicas},
            })
    return out


class KubeStandin(BackgroundServer):
    """Runs the stand-in on 127.0.0.1 in a background thread; `with KubeStandin(objects) as kube: kube.url`."""

    name = "Kubernetes API stand-in"

    def __init__(self, objects: Iterable[dict[str, Any]] = (), *, port: int = 0,
                 options: StandinOptions | None = None) -> None:
        self.store = Store()
        for obj in objects:
            self.store.put(obj)
        self.options = options or StandinOptions()
        self.pager = Pager()  # the snapshots behind paged lists: `pager.forget()` expires every continue token
        self._serve(create_app(self.store, self.options, self.pager), port=port, lifespan="off")

    def kubeconfig(self, path: Path, *, context: str = "standin", token: str | None = None,
                   exec_command: list[str] | None = None, namespace: str = "default") -> Path:
        """Write a kubeconfig pointing at this stand-in (bearer token or exec credential plugin)."""
        user: dict[str, Any] = {}
        if token:
            user["token"] = token
        if exec_command:
            user["exec"] = {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": exec_command[0],
                            "args": exec_command[1:], "interactiveMode": "Never"}
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": context, "cluster": {"server": self.url}}],
            "users": [{"name": context, "user": user}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": context,
                                                       "namespace": namespace}}],
        }
        path.write_text(yaml.safe_dump(config))
        return path
