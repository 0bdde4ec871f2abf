"""Container logs for the Kubernetes API stand-in: `GET /api/v1/namespaces/{ns}/pods/{pod}/log` as kube-apiserver
serves it (plain text, one line per line written) with `container`, `follow`, `tailLines`, `sinceSeconds`,
`sinceTime` and `timestamps`; what `kubectl logs` (with `-f`, `-c`, `--tail`, `--since`, `-l`, `--prefix`) reads.

Lines come from `PodLogs.write` (tests and demos play the application with it); a container that has written
nothing yet starts with the lines a starting server writes, and a container that is not ready with the error it
crashes on.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

LINES_KEPT = 10_000  # per container, as a node keeps a bounded log file
GONE_CHECK_S = 1.0  # a follower notices this often that its pod went away (kube-apiserver ends the stream)

Key = tuple[str, str, str]  # (namespace, pod, container)
Entry = tuple[int, datetime, str]  # (sequence number, when written, the line)
_SEQUENCE = itertools.count(1)


@dataclass
class PodLogs:
    """Lines per container, and the followers waiting for the next ones."""

    lines: dict[Key, deque[Entry]] = field(default_factory=dict)
    followers: dict[Key, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Entry]]]] = field(
        default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def _kept(self, key: Key) -> deque[Entry]:
        return self.lines.setdefault(key, deque(maxlen=LINES_KEPT))

    def write(self, namespace: str, pod: str, container: str, *texts: str, at: datetime | None = None) -> None:
        """Append lines to a container's log (from any thread); followers get them at once."""
        with self.lock:
            kept = self._kept((namespace, pod, container))
            for text in texts:
                entry = (next(_SEQUENCE), at or datetime.now(UTC), text)
                kept.append(entry)
                for loop, queue in list(self.followers.get((namespace, pod, container), ())):
                    loop.call_soon_threadsafe(queue.put_nowait, entry)

    def seed(self, pod: dict[str, Any], container: dict[str, Any], status: dict[str, Any]) -> None:
        """The first lines of a container that has written nothing yet."""
        meta = pod.get("metadata") or {}
        key = (str(meta.get("namespace", "default")), str(meta.get("name", "")), str(container.get("name", "")))
        with self.lock:
            if key in self.lines:
                return
            try:
                start = datetime.fromisoformat(str(meta.get("creationTimestamp")).replace("Z", "+00:00"))
            except ValueError:
                start = datetime.now(UTC)
            image = str(container.get("image", ""))
            kept = self._kept(key)
            kept.append((next(_SEQUENCE), start, f"INFO starting {image}"))
            waiting = (status.get("state") or {}).get("waiting") or {}
            if not status or status.get("ready") is not False:
                kept.append((next(_SEQUENCE), start + timedelta(seconds=1), "INFO listening on :8080"))
            else:
                reason = waiting.get("reason") or "not ready"
                kept.append((next(_SEQUENCE), start + timedelta(seconds=2),
                             f"ERROR {image}: readiness probe failed ({reason}): upstream returned 500"))

    def subscribe(self, key: Key) -> asyncio.Queue[Entry]:
        queue: asyncio.Queue[Entry] = asyncio.Queue()
        with self.lock:
            self.followers.setdefault(key, set()).add((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, key: Key, queue: asyncio.Queue[Entry]) -> None:
        with self.lock:
            self.followers[key] = {(lp, q) for lp, q in self.followers.get(key, set()) if q is not queue}

    def since(self, key: Key, after: datetime | None, tail: int | None) -> list[Entry]:
        with self.lock:
            entries = [e for e in self.lines.get(key, ()) if after is None or e[1] >= after]
        return entries if tail is None else entries[-tail:] if tail > 0 else []


def _status(code: int, reason: str, message: str) -> JSONResponse:
    return JSONResponse({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                         "message": message, "reason": reason, "code": code}, status_code=code)


def _line(entry: Entry, timestamps: bool) -> bytes:
    _, at, text = entry
    prefix = at.strftime("%Y-%m-%dT%H:%M:%S.%f000Z") + " " if timestamps else ""
    return f"{prefix}{text}\n".encode()


def log_routes(get_pod: Callable[[str, str], dict[str, Any] | None], logs: PodLogs) -> list[Route]:
    """The log subresource's route (before the stand-in's generic `{subresource}` route)."""

    async def pod_log(request: Request) -> Response:
        namespace, name = request.path_params["namespace"], request.path_params["name"]
        pod = get_pod(namespace, name)
        if pod is None:
            return _status(404, "NotFound", f'pods "{name}" not found')
        q = request.query_params
        containers = [c for c in (pod.get("spec") or {}).get("containers") or [] if isinstance(c, dict)]
        names = [str(c.get("name", "")) for c in containers]
        container = q.get("container")
        if not container:
            if len(names) != 1:
                return _status(400, "BadRequest", f"a container name must be specified for pod {name}, choose one "
                                                  f"of: [{' '.join(names)}]")
            container = names[0]
        if container not in names:
            return _status(400, "BadRequest", f"container {container} is not valid for pod {name}")
        try:
            tail = int(q["tailLines"]) if q.get("tailLines") not in (None, "") else None
            since_s = int(q["sinceSeconds"]) if q.get("sinceSeconds") not in (None, "") else None
            since_time = (datetime.fromisoformat(q["sinceTime"].replace("Z", "+00:00"))
                          if q.get("sinceTime") else None)
        except ValueError as e:
            return _status(400, "BadRequest", f"invalid log options: {e}")
        if (tail is not None and tail < 0) or (since_s is not None and since_s < 1):
            return _status(422, "Invalid", "PodLogOptions is invalid: tailLines and sinceSeconds must be positive")
        after = datetime.now(UTC) - timedelta(seconds=since_s) if since_s is not None else since_time
        statuses = {str(s.get("name")): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
        logs.seed(pod, containers[names.index(container)], statuses.get(container, {}))
        key = (namespace, name, container)
        follow = q.get("follow") in ("true", "1")
        timestamps = q.get("timestamps") in ("true", "1")

        async def stream() -> AsyncIterator[bytes]:
            queue = logs.subscribe(key) if follow else None
            try:
                with logs.lock:
                    backlog = logs.since(key, after, tail)
                    seen = max((e[0] for e in logs.lines.get(key, ())), default=0)
                yield b"".join(_line(e, timestamps) for e in backlog)
                if queue is None:
                    return
                while True:
                    try:
                        entry = await asyncio.wait_for(queue.get(), GONE_CHECK_S)
                    except TimeoutError:
                        if get_pod(namespace, name) is None:
                            return
                        continue
                    chunk = [entry]
                    while not queue.empty() and len(chunk) < 1000:
                        chunk.append(queue.get_nowait())
                    fresh = [e for e in chunk if e[0] > seen]  # written while the backlog was read: sent already
                    if fresh:
                        yield b"".join(_line(e, timestamps) for e in fresh)
            finally:
                if queue is not None:
                    logs.unsubscribe(key, queue)

        return StreamingResponse(stream(), media_type="text/plain")

    return [Route("/api/v1/namespaces/{namespace}/pods/{name}/log", pod_log)]
