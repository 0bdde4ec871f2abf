"""The simulated production as a real HTTP server: the monotui deploy API, /metrics, and test knobs.

Starlette (ASGI) served by uvicorn on a loopback socket. `SimulatorServer` runs it in a background thread for
tests; `monotui simulate` runs it in the foreground — also as `monotui demo`'s child process (simulator/process.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hmac
import json
import random
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import msgspec
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from monotui.action_kinds import DEPLOY_API_ACTIONS, ActionKind
from monotui.models import (
    ActionRequest,
    ActionResponse,
    EventPage,
    FreezeRequest,
    HealthChanges,
    HealthList,
    RolloutChanges,
    RolloutList,
)
from monotui.simulator.changes import ChangeLog
from monotui.simulator.instances import log_routes
from monotui.simulator.loopback import BackgroundServer, loopback_socket, replay_receive
from monotui.simulator.openapi import openapi_document
from monotui.simulator.paging import PAGE_PARAMETERS, Page, PageError, Pager
from monotui.simulator.revisions import revision_routes
from monotui.simulator.services import UnknownRollout
from monotui.simulator.unleash_api import unleash_routes
from monotui.simulator.world import ActionConflict, TargetChanged, UnknownRevision, World

IDEMPOTENCY_LIMIT = 10_000
GZIP_MIN_BYTES = 1024  # smaller answers are not worth compressing
MAX_WAIT_S = 30.0  # longest long-poll on the change feed
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
_ACTION_REQUEST = msgspec.json.Decoder(ActionRequest)
_FREEZE_REQUEST = msgspec.json.Decoder(FreezeRequest)


@dataclass
class Faults:
    """Misbehaviour injected into /v1 answers, for tests and demos of a failing backend."""

    latency_s: float = 0.0  # added before every answer
    error_fraction: float = 0.0  # this fraction of answers are 503
    malformed_fraction: float = 0.0  # this fraction of answers are not valid JSON
    hang: bool = False  # never answer (until the client gives up)
    reset_fraction: float = 0.0  # the connection closes in the middle of the answer
    wrong_types_fraction: float = 0.0  # valid JSON, wrong types
    huge_fraction: float = 0.0  # a 10 MB answer
    drip_fraction: float = 0.0  # the answer arrives a byte at a time, slower than any timeout allows
    counts: dict[str, int] = field(default_factory=dict)  # faults injected, by kind


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int = 0


@dataclass
class SimState:
    world: World
    token: str | None = None
    faults: Faults = field(default_factory=Faults)
    requests: deque[LoggedRequest] = field(default_factory=lambda: deque(maxlen=20_000))
    idempotency: OrderedDict[str, tuple[str, int, bytes]] = field(default_factory=OrderedDict)
    fault_rng: random.Random = field(default_factory=lambda: random.Random(7))
    _cache: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    feed: bool = True  # False: answer the change feed with 404, as a server from before it did
    freeze: bool = True  # False: answer /v1/freeze with 404, as a server from before it had a freeze
    feed_window: int = 100_000  # a change-feed cursor older than this many changes gets 410 (list again)
    served_requests: int = 0  # every request answered, for /_sim/stats (the log above is bounded)
    served_bytes: int = 0  # response body bytes sent, as they went on the wire (compressed or not)
    pager: Pager = field(default_factory=Pager)  # the snapshots behind paged lists (simulator/paging.py)

    def cached(self, name: str, version: int, build: Callable[[], bytes]) -> bytes:
        hit = self._cache.get(name)
        if hit is not None and hit[0] == version:
            return hit[1]
        body = build()
        self._cache[name] = (version, body)
        return body

    def mutating_requests(self) -> list[LoggedRequest]:
        return [r for r in self.requests if r.method not in ("GET", "HEAD", "OPTIONS") and r.path.startswith("/v1/")]


def _error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status)


def _json(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _negotiated(state: SimState, request: Request, body: bytes, *, cache: tuple[str, int] | None = None,
                headers: dict[str, str] | None = None) -> Response:
    """A JSON answer, gzip-compressed when the client accepts it (a big list's compressed body is cached per
    version, so many viewers cost one compression)."""
    headers = {**(headers or {}), "Vary": "Accept-Encoding"}
    if len(body) < GZIP_MIN_BYTES or not _accepts_gzip(request):
        return _json(body, headers=headers)
    def compress() -> bytes:
        return gzip.compress(body, compresslevel=6, mtime=0)

    packed = state.cached(f"{cache[0]}.gz", cache[1], compress) if cache else compress()
    return _json(packed, headers={**headers, "Content-Encoding": "gzip"})


def create_app(state: SimState, *, tick_interval: float | None = 0.5, speed: float = 1.0) -> ASGIApp:
    """The ASGI app. With `tick_interval`, the world advances by itself in (scaled) real time."""
    world = state.world

    def check_auth(request: Request) -> Response | None:
        if state.token is None:
            return None
        header = request.headers.get("authorization", "")
        if not header:
            return _error(401, "unauthorized", "missing bearer token")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), state.token.encode()):
            return _error(403, "forbidden", "invalid token")
        return None

    def paged(name: str, request: Request, key: Any,
              build: Callable[[], tuple[list[Any], dict[str, Any]]]) -> Page | Response | None:
        try:
            return state.pager.page(name, dict(request.query_params), key, build)
        except PageError as e:
            return _error(e.status, e.error, e.message)

    def full_feed(name: str, request: Request, key: Any, snapshot: Callable[[], tuple[list[Any], dict[str, Any]]],
                  answer: Callable[[list[Any], str, str | None], msgspec.Struct]) -> Response:
        """A change feed's first list: in pages when the client asks (limit, continue), else whole, built once per
        `key` (the world's version or health sample) however many clients ask."""
        page = paged(name, request, key, snapshot)
        if isinstance(page, Response):
            return page
        if page is not None:
            return _negotiated(state, request, msgspec.json.encode(answer(page.items, page.meta["cursor"],
                                                                          page.next_token)))

        def whole() -> bytes:
            items, meta = snapshot()
            return msgspec.json.encode(answer(items, meta["cursor"], None))

        return _negotiated(state, request, state.cached(name, key, whole), cache=(name, key))

    async def list_rollouts(request: Request) -> Response:
        if unknown := set(request.query_params) - PAGE_PARAMETERS:
            return _error(400, "bad_request", f"unknown query parameter {sorted(unknown)[0]!r}")
        etag = f'"r{world.version}"'
        if request.headers.get("if-none-match") == etag and "continue" not in request.query_params:
            return Response(status_code=304, headers={"ETag": etag})
        version = world.version
        page = paged("rollouts", request, version,
                     lambda: (world.rollouts(), {"generated_at": world.now, "etag": etag}))
        if isinstance(page, Response):
            return page
        if page is not None:
            return _negotiated(state, request, msgspec.json.encode(RolloutList(
                rollouts=page.items, generated_at=page.meta["generated_at"], continue_=page.next_token)),
                headers={"ETag": page.meta["etag"]})
        body = state.cached(
            "rollouts", version,
            lambda: msgspec.json.encode(RolloutList(rollouts=world.rollouts(), generated_at=world.now)),
        )
        return _negotiated(state, request, body, cache=("rollouts", version), headers={"ETag": etag})

    async def get_rollout(request: Request) -> Response:
        if request.query_params:
            return _error(400, "bad_request", "this endpoint takes no query parameters")
        try:
            rollout = world.rollout(request.path_params["rollout_id"])
        except UnknownRollout:
            return _error(404, "not_found", f"no rollout {request.path_params['rollout_id']!r}")
        return _json(msgspec.json.encode(rollout))

    async def health(request: Request) -> Response:
        if unknown := set(request.query_params) - PAGE_PARAMETERS:
            return _error(400, "bad_request", f"unknown query parameter {sorted(unknown)[0]!r}")
        version = world.health_version
        page = paged("health", request, version, lambda: (world.health(), {"generated_at": world.now}))
        if isinstance(page, Response):
            return page
        if page is not None:
            return _negotiated(state, request, msgspec.json.encode(HealthList(
                services=page.items, generated_at=page.meta["generated_at"], continue_=page.next_token)))
        body = state.cached(
            "health", version,
            lambda: msgspec.json.encode(HealthList(services=world.health(), generated_at=world.now)),
        )
        return _negotiated(state, request, body, cache=("health", version))

    async def events(request: Request) -> Response:
        if unknown := set(request.query_params) - {"since", "limit"}:
            return _error(400, "bad_request", f"unknown query parameter {sorted(unknown)[0]!r}")
        # strictly ASCII digits: Python's int() also takes " 1", "1_0" and "٣", which the schema does not allow
        # (schemathesis' negative cases found it, now and then)
        since_raw = request.query_params.get("since", "0")
        limit_raw = request.query_params.get("limit", "500")
        if not all(re.fullmatch(r"-?[0-9]+", v, re.ASCII) for v in (since_raw, limit_raw)):
            return _error(400, "bad_request", "since and limit must be integers")
        since, limit = int(since_raw), int(limit_raw)
        if since < 0 or not 1 <= limit <= 5000:
            return _error(400, "bad_request", "since must be ≥ 0 and limit between 1 and 5000")
        found, cursor = world.events_since(since, limit)
        return _negotiated(state, request, msgspec.json.encode(EventPage(events=found, cursor=cursor)))

    async def feed_since(request: Request, log: ChangeLog, version: Callable[[], int]) -> int | Response | None:
        """The version `since` stands for (None: list everything), after the long-poll `wait` if one was asked
        for; or the error answer."""
        if not state.feed:
            return _error(404, "not_found", "Not Found")
        if unknown := set(request.query_params) - {"since", "wait", *PAGE_PARAMETERS}:
            return _error(400, "bad_request", f"unknown query parameter {sorted(unknown)[0]!r}")
        if "since" in request.query_params and PAGE_PARAMETERS & set(request.query_params):
            return _error(400, "bad_request", "limit and continue page the list without since, not the changes")
        try:
            wait = float(request.query_params.get("wait", "0"))
        except ValueError:
            return _error(400, "bad_request", "wait must be a number of seconds")
        if not 0 <= wait <= MAX_WAIT_S:
            return _error(400, "bad_request", f"wait must be between 0 and {MAX_WAIT_S:g} seconds")
        if "since" not in request.query_params:
            return None
        since, now = log.parse(request.query_params["since"]), version()
        if since is None or since > now or now - since > state.feed_window:
            return _error(410, "gone", "cursor too old or from another run of the server: list again "
                                       "(the same request without since)")
        deadline = time.monotonic() + wait
        while version() == since and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return since

    async def rollout_changes(request: Request) -> Response:
        since = await feed_since(request, world.rollout_changes, lambda: world.version)
        if isinstance(since, Response):
            return since
        if since is None:  # a full list: built once per version, like GET /v1/rollouts
            def snapshot() -> tuple[list[Any], dict[str, Any]]:
                rollouts, at = world.rollouts_changed(None)
                return rollouts, {"cursor": world.rollout_changes.cursor(at)}

            return full_feed("rollout-changes", request, world.version, snapshot, lambda items, cursor, token:
                             RolloutChanges(cursor=cursor, full=True, rollouts=items, continue_=token))
        changed, version = world.rollouts_changed(since)
        delta = RolloutChanges(cursor=world.rollout_changes.cursor(version), full=False, rollouts=changed)
        return _negotiated(state, request, msgspec.json.encode(delta))

    async def health_changes(request: Request) -> Response:
        since = await feed_since(request, world.health_changes, lambda: world.health_feed_version)
        if isinstance(since, Response):
            return since
        if since is None:  # every service as it is now: built once per health sample, like GET /v1/health
            def health_snapshot() -> tuple[list[Any], dict[str, Any]]:
                services, at = world.health_changed(None)
                return services, {"cursor": world.health_changes.cursor(at)}

            return full_feed("health-changes", request, world.health_version, health_snapshot,
                             lambda items, cursor, token: HealthChanges(cursor=cursor, full=True, services=items,
                                                                        continue_=token))
        services, version = world.health_changed(since)
        moved = HealthChanges(cursor=world.health_changes.cursor(version), full=False, services=services)
        return _negotiated(state, request, msgspec.json.encode(moved))

    async def act(request: Request) -> Response:
        key = request.headers.get("idempotency-key", "")
        if not key:
            return _error(400, "bad_request", "Idempotency-Key header is required")
        raw = await request.body()
        fingerprint = f"{request.url.path}\n{raw.decode('utf-8', 'replace')}"
        if key in state.idempotency:
            seen_fingerprint, status, body = state.idempotency[key]
            if seen_fingerprint != fingerprint:
                return _error(422, "idempotency_mismatch", "Idempotency-Key was used for a different request")
            return _json(body, status, headers={"Idempotent-Replayed": "true"})
        try:
            action = ActionKind(request.path_params["action"])
        except ValueError:
            action = None
        if action not in DEPLOY_API_ACTIONS:
            return _error(404, "not_found", f"unknown action {request.path_params['action']!r}")
        try:
            payload = _ACTION_REQUEST.decode(raw or b"{}")
        except (msgspec.ValidationError, msgspec.DecodeError) as e:
            return _error(422, "invalid_request", str(e))
        try:
            rollout, event = world.act(
                request.path_params["rollout_id"], action, payload.actor, payload.reason, payload.revision,
                expected_revision=payload.expected_revision, expected_step=payload.expected_step,
            )
            status, body = 200, msgspec.json.encode(ActionResponse(rollout=rollout, event=event))
        except UnknownRollout:
            status, body = 404, _body("not_found", f"no rollout {request.path_params['rollout_id']!r}")
        except UnknownRevision as e:
            status, body = 404, _body("unknown_revision", str(e))
        except TargetChanged as e:
            status, body = 412, _body("target_changed", str(e))
        except ActionConflict as e:
            status, body = 409, _body("conflict", str(e))
        state.idempotency[key] = (fingerprint, status, body)
        while len(state.idempotency) > IDEMPOTENCY_LIMIT:
            state.idempotency.popitem(last=False)
        return _json(body, status)

    async def freeze(request: Request) -> Response:
        if not state.freeze:
            return _error(404, "not_found", "no such route")
        if request.method == "GET":
            return _json(msgspec.json.encode(world.freeze))
        if request.method == "DELETE":
            return _json(msgspec.json.encode(world.lift_freeze()))
        try:
            payload = _FREEZE_REQUEST.decode(await request.body() or b"{}")
        except (msgspec.ValidationError, msgspec.DecodeError) as e:
            return _error(422, "invalid_request", str(e))
        try:
            frozen = world.set_freeze(payload.actor, payload.reason, payload.services)
        except UnknownRollout as e:
            return _error(404, "not_found", f"no service {e.args[0]!r}" if e.args else "no such service")
        return _json(msgspec.json.encode(frozen))

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(world.prometheus_text(), media_type="text/plain; version=0.0.4")

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def faults(request: Request) -> Response:
        if request.method == "PUT":
            data = await request.json()
            state.faults = Faults(**{k: v for k, v in data.items() if k in Faults.__dataclass_fields__})
        return JSONResponse(asdict(state.faults))

    async def stats(request: Request) -> Response:
        return JSONResponse({"requests": state.served_requests, "bytes": state.served_bytes})

    async def deploy(request: Request) -> Response:
        data = await request.json()
        try:
            for name in data.get("services", []):
                world.deploy(str(name))
        except ActionConflict as e:  # a frozen line starts no deploy
            return _error(409, "frozen", str(e))
        return JSONResponse({"version": world.version})

    async def advance(request: Request) -> Response:
        data = await request.json() if await request.body() else {}
        world.step(float(data.get("seconds", world.config.tick)))
        return JSONResponse({"elapsed": world.elapsed, "version": world.version})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(_tick_forever(world, tick_interval, speed)) if tick_interval else None
        try:
            yield
        finally:
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    routes = [
        Route("/v1/rollouts", list_rollouts),
        *log_routes(world, check_auth),  # before /v1/rollouts/{id}, whose path would swallow it
        Route("/v1/rollouts/{rollout_id:path}/actions/{action}", act, methods=["POST"]),
        *revision_routes(world),  # before the route of one rollout (its id takes a path)
        Route("/v1/rollouts/{rollout_id:path}", get_rollout),
        Route("/v1/health", health),
        Route("/v1/events", events),
        Route("/v1/freeze", freeze, methods=["GET", "PUT", "DELETE"]),
        Route("/v1/changes/rollouts", rollout_changes),
        Route("/v1/changes/health", health_changes),
        Route("/openapi.json", openapi),
        Route("/metrics", metrics),
        Route("/healthz", healthz),
        Route("/_sim/faults", faults, methods=["GET", "PUT"]),
        Route("/_sim/advance", advance, methods=["POST"]),
        Route("/_sim/stats", stats),
        Route("/_sim/deploy", deploy, methods=["POST"]),
        *unleash_routes(world.flags, state.token),  # the flags, as the Unleash Admin API serves them
    ]
    async def http_error(request: Request, exc: Exception) -> Response:
        # errors are JSON everywhere, routing failures included, as the contract says
        code = getattr(exc, "status_code", 500)
        response = _error(code, "not_found" if code == 404 else "error", str(getattr(exc, "detail", "error")))
        response.headers.update(getattr(exc, "headers", None) or {})  # e.g. Allow on a 405
        return response

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error})
    return _with_log_auth_and_faults(app, state, check_auth)


def _body(error: str, message: str) -> bytes:
    return json.dumps({"error": error, "message": message}).encode()


async def _tick_forever(world: World, interval: float, speed: float) -> None:
    # Fixed-size simulated ticks keep the world deterministic whatever the real timing jitter.
    next_at = time.monotonic()
    while True:
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        world.step(world.config.tick * speed)




def _with_log_auth_and_faults(
    app: Starlette, state: SimState, check_auth: Callable[[Request], Response | None]
) -> ASGIApp:
    """ASGI wrapper: record every request, enforce the token, and inject faults on /v1."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        request = Request(scope)
        entry = LoggedRequest(
            method=scope["method"], path=scope["path"], query=scope.get("query_string", b"").decode(),
            headers={k: v for k, v in request.headers.items() if k != "authorization"}, body=body,
        )
        state.requests.append(entry)

        replay = replay_receive(body, receive)

        async def send_logged(message: Any) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
                state.served_requests += 1
            elif message["type"] == "http.response.body":
                state.served_bytes += len(message.get("body", b""))
            await send(message)

        response: Response | None = None
        if scope["path"].startswith("/v1/"):
            response = check_auth(request) or await _fault(state)
        if response is not None:
            await response(scope, replay, send_logged)
            return
        await app(scope, replay, send_logged)

    return wrapped


class _ResetMidway(Response):
    """Promises a body, sends a part, and drops the connection."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"100000")]})
        await send({"type": "http.response.body", "body": b'{"rollouts": [', "more_body": True})
        raise ConnectionResetError("injected fault: connection reset")


async def _drip() -> AsyncIterator[bytes]:
    for byte in b'{"rollouts": []}':
        await asyncio.sleep(0.5)
        yield bytes([byte])


async def _fault(state: SimState) -> Response | None:
    f = state.faults
    rng = state.fault_rng

    def count(kind: str) -> None:
        f.counts[kind] = f.counts.get(kind, 0) + 1

    if f.hang:
        count("hang")
        await asyncio.sleep(3600)
    if f.latency_s:
        count("latency")
        await asyncio.sleep(f.latency_s * rng.random())
    if f.error_fraction and rng.random() < f.error_fraction:
        count("5xx")
        return _error(503, "unavailable", "injected fault: service unavailable")
    if f.malformed_fraction and rng.random() < f.malformed_fraction:
        count("malformed")
        return Response(b'{"rollouts": [{"id": ', media_type="application/json")
    if f.reset_fraction and rng.random() < f.reset_fraction:
        count("reset")
        return _ResetMidway()
    if f.wrong_types_fraction and rng.random() < f.wrong_types_fraction:
        count("wrong types")
        body = {"rollouts": [{"id": 5, "phase": ["x"], "steps": "no"}], "services": {"a": 1}, "events": 3,
                "cursor": "soon"}
        return JSONResponse(body)
    if f.huge_fraction and rng.random() < f.huge_fraction:
        count("10 MB body")
        return Response(b'{"pad": "' + b"x" * 10_000_000 + b'"}', media_type="application/json")
    if f.drip_fraction and rng.random() < f.drip_fraction:
        count("slow drip")
        return StreamingResponse(_drip(), media_type="application/json")
    return None


class SimulatorServer(BackgroundServer):
    """Runs the simulator on 127.0.0.1 in a background thread: `with SimulatorServer(world) as sim: sim.url`."""

    name = "simulator"

    def __init__(
        self, world: World, *, port: int = 0, token: str | None = None, tick_interval: float | None = 0.5,
        speed: float = 1.0, tls: tuple[str, str] | None = None, feed: bool = True, freeze: bool = True,
    ) -> None:
        self.state = SimState(world=world, token=token, feed=feed, freeze=freeze)
        self.app = create_app(self.state, tick_interval=tick_interval, speed=speed)
        self._serve(self.app, port=port, tls=tls)

    @property
    def world(self) -> World:
        return self.state.world


class _Server(uvicorn.Server):
    """uvicorn's server, telling `on_serving` once it accepts connections."""

    def __init__(self, config: uvicorn.Config, on_serving: Callable[[], None] | None) -> None:
        super().__init__(config)
        self._on_serving = on_serving

    async def startup(self, sockets: list[Any] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self._on_serving is not None:
            self._on_serving()


def serve_forever(world: World, port: int, token: str | None = None, *,
                  on_serving: Callable[[int], None] | None = None,
                  stop_when: Callable[[], None] | None = None) -> None:
    """`monotui simulate`: serve on 127.0.0.1 in the foreground until interrupted. `port` 0 takes any free one;
    `on_serving(port)` is called once connections are accepted; `stop_when`, if given, runs in a thread and the
    server stops when it returns. An OSError (the port is taken) is raised before anything serves."""
    sock = loopback_socket(port)
    state = SimState(world=world, token=token)
    # keep-alive as long as the in-process server's: uvicorn's 5 s default races clients that poll every few
    # seconds (the server closes an idle connection just as the client reuses it)
    config = uvicorn.Config(create_app(state), log_level="warning", access_log=False, timeout_graceful_shutdown=1,
                            timeout_keep_alive=30, ws="none")  # no websockets here: their modules need not load
    bound = sock.getsockname()[1]
    server = _Server(config, (lambda: on_serving(bound)) if on_serving is not None else None)
    if stop_when is not None:
        def watch() -> None:
            stop_when()
            server.should_exit = True

        threading.Thread(target=watch, name="monotui-simulator-stop", daemon=True).start()
    server.run(sockets=[sock])
