"""The simulated production's instances and their logs: which instances run each revision of a service (the deploy
API's optional `instances`), and `GET /v1/rollouts/{id}/logs` — newline-delimited JSON LogLines, one per line an
instance wrote, with `revision` (canary, stable or a number), `since_s`, `tail` and `follow`.

Instances are derived from the service's state alone (no draw from the world's random generator, so a seed's
production is the same with or without them). Lines are written as wall time passes: every instance writes a
request line now and then; the instances of a bad release write the errors that sink it.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from monotui.models import Instance, LogLine
from monotui.simulator.services import Release, ServiceSim, ServiceTable, UnknownRollout

STABLE_INSTANCES = 3
LINES_KEPT = 5_000  # per service
LINE_EVERY_S = 2.0  # each instance writes a line about this often
_SEQUENCE = itertools.count(1)


def _suffix(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return digest[:5]


def instance_names(service: str, release: Release, count: int) -> list[str]:
    return [f"{service}-{release.revision}-{_suffix(f'{service}/{release.revision}/{i}')}" for i in range(count)]


def canary_count(svc: ServiceSim) -> int:
    return max(1, round(STABLE_INSTANCES * svc.set_weight / 100)) if svc.in_rollout else 0


def instances_of(svc: ServiceSim) -> list[Instance]:
    """The instances running the current revision (when it is not the stable one) and the stable revision."""
    out: list[Instance] = []
    if svc.in_rollout:
        for i, name in enumerate(instance_names(svc.name, svc.current, canary_count(svc))):
            crashing = svc.current.bad and i == 0
            out.append(Instance(name=name, revision=svc.current.revision, phase="Running",
                                status="CrashLoopBackOff" if crashing else "", ready=0 if crashing else 1,
                                containers=1, restarts=3 if crashing else 0, started_at=svc.started_at,
                                node=f"node-{i % 3 + 1}", container_names=["app"]))
    for i, name in enumerate(instance_names(svc.name, svc.stable, STABLE_INSTANCES)):
        out.append(Instance(name=name, revision=svc.stable.revision, phase="Running", ready=1, containers=1,
                            started_at=svc.stable.deployed_at, node=f"node-{(i + 1) % 3 + 1}",
                            container_names=["app"]))
    return out


@dataclass
class ServiceLog:
    lines: deque[tuple[int, LogLine]] = field(default_factory=lambda: deque(maxlen=LINES_KEPT))
    written_until: float = 0.0  # wall time up to which lines were made


@dataclass
class LogFeed:
    """What each service's instances wrote, kept per service; followers are woken for every new line."""

    world: ServiceTable
    services: dict[str, ServiceLog] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=set)
    clock: Callable[[], float] = time.time

    def write(self, service: str, instance: str, message: str, *, revision: int | None = None,
              at: datetime | None = None) -> None:
        """One line, now (tests and demos write with it; from any thread)."""
        with self.lock:
            line = LogLine(time=at or datetime.now(UTC), instance=instance, container="app", revision=revision,
                           message=message)
            self.services.setdefault(service, ServiceLog()).lines.append((next(_SEQUENCE), line))
            for loop, event in list(self.waiters):
                loop.call_soon_threadsafe(event.set)

    def catch_up(self, service: str) -> None:
        """Write the lines due since the last call, as the instances would have."""
        now = self.clock()
        with self.world.lock, self.lock:
            svc = self.world.services.get(service)
            if svc is None:
                return
            log = self.services.setdefault(service, ServiceLog())
            start = max(log.written_until, now - 60.0)  # at most a minute's worth at once
            ticks = int((now - start) / LINE_EVERY_S)
            if log.written_until and ticks == 0:
                return
            log.written_until = now
            canary = set(instance_names(svc.name, svc.current, canary_count(svc))) if svc.in_rollout else set()
            for tick in range(max(ticks, 1)):
                at = datetime.fromtimestamp(start + tick * LINE_EVERY_S, UTC)
                for inst in instances_of(svc):
                    if inst.name in canary and svc.current.bad:
                        message = (f"ERROR {svc.current.version}: POST /v1/{svc.name.split('-')[0]} failed: "
                                   "upstream returned 500 (NullPointerException in handler)")
                    else:
                        message = f"INFO GET /healthz 200 {3 + (tick + len(inst.name)) % 7}ms"
                    self.write(service, inst.name, message, revision=inst.revision, at=at)

    def since(self, service: str, seq: int) -> list[tuple[int, LogLine]]:
        with self.lock:
            log = self.services.get(service)
            return [e for e in log.lines if e[0] > seq] if log else []


_FEEDS: weakref.WeakKeyDictionary[ServiceTable, LogFeed] = weakref.WeakKeyDictionary()


def log_feed(world: ServiceTable) -> LogFeed:
    """The world's log feed (one per world)."""
    with world.lock:
        feed = _FEEDS.get(world)
        if feed is None:
            feed = _FEEDS[world] = LogFeed(world)
        return feed


_ENCODER = msgspec.json.Encoder()


def log_routes(world: ServiceTable, check_auth: Callable[[Request], Response | None]) -> list[Route]:
    """The logs endpoint (registered before `/v1/rollouts/{id}`, whose path would swallow it)."""
    feed = log_feed(world)

    def error(status: int, code: str, message: str) -> Response:
        return Response(_ENCODER.encode({"error": code, "message": message}), status_code=status,
                        media_type="application/json")

    async def logs(request: Request) -> Response:
        if (denied := check_auth(request)) is not None:
            return denied
        rollout_id = request.path_params["rollout_id"]
        q = request.query_params
        try:
            with world.lock:
                svc = world._service(rollout_id)
                which = q.get("revision", "canary")
                if which == "canary":
                    revision = svc.current.revision
                elif which == "stable":
                    revision = svc.stable.revision
                else:
                    revision = int(which)
            since_s = float(q["since_s"]) if q.get("since_s") else None
            tail = int(q["tail"]) if q.get("tail") else None
        except UnknownRollout:
            return error(404, "not_found", f"no rollout {rollout_id}")
        except ValueError:
            return error(400, "bad_request", "revision is canary, stable or a number; since_s and tail numbers")
        follow = q.get("follow") in ("1", "true")
        after = datetime.now(UTC) - timedelta(seconds=since_s) if since_s is not None else None

        def wanted(line: LogLine) -> bool:
            return line.revision == revision and (after is None or line.time is None or line.time >= after)

        async def stream() -> AsyncIterator[bytes]:
            event = asyncio.Event()
            waiter = (asyncio.get_running_loop(), event)
            feed.waiters.add(waiter)
            try:
                feed.catch_up(rollout_id)
                backlog = feed.since(rollout_id, 0)
                seen = backlog[-1][0] if backlog else 0
                lines = [line for _, line in backlog if wanted(line)]
                if tail is not None:
                    lines = lines[-tail:] if tail > 0 else []
                yield b"".join(_ENCODER.encode(line) + b"\n" for line in lines)
                while follow:
                    event.clear()
                    try:
                        await asyncio.wait_for(event.wait(), 0.5)
                    except TimeoutError:
                        feed.catch_up(rollout_id)
                    fresh = feed.since(rollout_id, seen)
                    if fresh:
                        seen = fresh[-1][0]
                        chunk = b"".join(_ENCODER.encode(line) + b"\n" for _, line in fresh if wanted(line))
                        if chunk:
                            yield chunk
            finally:
                feed.waiters.discard(waiter)

        return StreamingResponse(stream(), media_type="application/x-ndjson")

    return [Route("/v1/rollouts/{rollout_id:path}/logs", logs)]
