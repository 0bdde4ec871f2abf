"""Keys while a hostile source is fed: `python -m bench.hostile` prints one JSON object.

The app runs headless with two sources: the simulator (50 services) and a hostile deploy API in its own process
answering every poll with one of: a 200 MB valid body, a ~1 MB gzip bomb (1 GB once decompressed), 100,000
valid rollouts (about 37 MB) byte for byte the same at every poll, or 100,000 rollouts of which one changed since
the last answer (its version), stamped with the time like a real list. Arrow keys are pressed all along; each
figure is key event → cursor moved. The baseline is the same run with the hostile source answering an empty list.
Nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import itertools
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual import events

from bench.run import ROOT, frozen_world
from monotui.config import build_settings
from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer

KINDS = ("empty", "200mb", "gzip-bomb", "100k-rollouts", "100k-changing")


def _rows(count: int) -> list[str]:
    row = {"id": "", "service": "", "environment": "eu-west-1", "strategy": "canary", "phase": "Healthy",
           "revision": 7, "version": "v1.2.3", "image": "registry.example/app:v1.2.3", "commit": "0" * 40,
           "commit_message": "a change", "author": "dev@example", "started_at": "2026-11-26T09:00:00Z",
           "steps": [{"weight": 20}, {"pause": True}, {"weight": 50}], "current_step": 3, "set_weight": 100,
           "actual_weight": 100}
    return [json.dumps({**row, "id": f"svc-{i}", "service": f"svc-{i}"}) for i in range(count)]


def _rollouts_body(count: int) -> bytes:
    return ('{"rollouts": [' + ",".join(_rows(count)) + "]}").encode()


def _changing(count: int) -> Callable[[], bytes]:
    """Each call: the same rollouts but one, whose version moved, and the time of the answer."""
    original = _rows(count)
    rows = list(original)
    answers = itertools.count(1)

    def body() -> bytes:
        n = next(answers)
        rows[n % count] = original[n % count].replace('"v1.2.3"', f'"v1.2.3-{n}"', 1)
        stamp = datetime.now(UTC).isoformat()
        return ('{"generated_at": "' + stamp + '", "rollouts": [' + ",".join(rows) + "]}").encode()

    return body


def serve(kind: str, port: int) -> None:
    """The hostile deploy API (run in a child process, so its work never shares the app's interpreter)."""
    import uvicorn

    headers = [(b"content-type", b"application/json")]
    body = b'{"rollouts": []}'
    if kind == "gzip-bomb":
        body = gzip.compress(b" " * (1024 * 1024 * 1024), compresslevel=9)
        headers.append((b"content-encoding", b"gzip"))
    elif kind == "100k-rollouts":
        body = _rollouts_body(100_000)
    changing = _changing(100_000) if kind == "100k-changing" else None
    chunk = _rollouts_body(2000)[len(b'{"rollouts": ['):-2] + b","

    async def huge() -> AsyncIterator[bytes]:
        yield b'{"rollouts": ['
        for _ in range(200 * 1024 * 1024 // len(chunk)):
            yield chunk
        yield b"{}]}"

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path == "/v1/rollouts" and kind == "200mb":
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            async for part in huge():
                await send({"type": "http.response.body", "body": part, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        if path.startswith("/v1/changes/"):  # no change feed: the client polls /v1/rollouts, the hostile body
            await send({"type": "http.response.start", "status": 404, "headers": headers[:1]})
            await send({"type": "http.response.body", "body": b'{"error": "not_found", "message": "Not Found"}'})
            return
        body_now = changing() if path == "/v1/rollouts" and changing is not None else body
        answer = body_now if path == "/v1/rollouts" else (
            b'{"services": []}' if path == "/v1/health" else b'{"events": [], "cursor": 0}')
        await send({"type": "http.response.start", "status": 200,
                    "headers": headers if path == "/v1/rollouts" else headers[:1]})
        await send({"type": "http.response.body", "body": answer})

    print("ready", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="critical", lifespan="off")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(kind: str, seconds: float) -> dict[str, Any]:
    from monotui.ui.app import MonotuiApp

    port = _free_port()
    child = subprocess.Popen([sys.executable, "-m", "bench.hostile", "--serve", kind, "--port", str(port)],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        with SimulatorServer(frozen_world(50), tick_interval=None) as good, tempfile.TemporaryDirectory() as tmp:
            sources = [{"name": "good", "kind": "http", "url": good.url, "poll_interval": 0.5},
                       {"name": "hostile", "kind": "http", "url": f"http://127.0.0.1:{port}", "poll_interval": 0.5,
                        "timeout": 11}]
            engine = Engine(build_settings({"sources": sources, "audit_log": str(Path(tmp) / "audit.log")}))

            async def go() -> tuple[list[float], set[str]]:
                app = MonotuiApp(engine)
                latencies: list[float] = []
                errors: set[str] = set()
                async with app.run_test(size=(120, 35)):
                    while app.rollouts.table.row_count < 2:
                        await asyncio.sleep(0.01)
                    end = time.monotonic() + seconds
                    i = 0
                    while time.monotonic() < end:
                        before = app.rollouts.table.cursor_row
                        last = app.rollouts.table.row_count - 1
                        key = "down" if before == 0 or ((i // 10) % 2 == 0 and before < last) else "up"
                        t0 = time.perf_counter()
                        app.post_message(events.Key(key, None))
                        while app.rollouts.table.cursor_row == before:
                            await asyncio.sleep(0)
                        latencies.append(time.perf_counter() - t0)
                        error = engine.state.status("hostile").error
                        if error:
                            errors.add(error[:90])
                        i += 1
                        await asyncio.sleep(0.02)
                return latencies, errors

            latencies, errors = asyncio.run(go())
    finally:
        child.terminate()
        child.wait(10)
    ordered = sorted(latencies)
    return {"presses": len(latencies), "key_ms_median": round(statistics.median(ordered) * 1000, 2),
            "key_ms_p95": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2),
            "key_ms_max": round(ordered[-1] * 1000, 2), "hostile_source_shows": sorted(errors)[:3]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long keys are pressed per case")
    parser.add_argument("--only", nargs="*", choices=KINDS, help="only these cases")
    parser.add_argument("--serve", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    out: dict[str, Any] = {}
    for kind in args.only or KINDS:
        out[kind] = measure(kind, args.seconds)
        print(f"{kind}: done", file=sys.stderr)
    out["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
