"""Keys while a hostile source is fed: `python -m bench.hostile [--seconds 20] [--only CASE ...] [--smoke]`.

The app runs headless with two sources: the simulator (50 services) and a hostile deploy API in its own process
answering every poll with one of: a 200 MB valid body, a ~1 MB gzip bomb (1 GB once decompressed), 100,000
valid rollouts (about 37 MB) byte for byte the same at every poll, or 100,000 rollouts of which one changed since
the last answer (its version), stamped with the time like a real list. `monotui` runs in a real pseudo-terminal;
keys are pressed all along (`G` and `g` in turn, each scrolling the table by a page) and each figure is a key
written to the terminal → the complete frame on the terminal showing the table scrolled. The baseline is the same
run with the hostile source answering an empty list. One JSON line per case. Nothing here asserts.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import emit, median, p95, rss_mb, smoke
from bench.run import ROOT, frozen_world
from bench.terminal import PtyApp, bench_env, config_file, key_to_painted_frame, table_rows
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


def serve(kind: str, port: int, rows: int, megabytes: int, bomb_megabytes: int) -> None:
    """The hostile deploy API (run in a child process, so its work never shares the app's interpreter)."""
    import uvicorn

    headers = [(b"content-type", b"application/json")]
    body = b'{"rollouts": []}'
    if kind == "gzip-bomb":
        body = gzip.compress(b" " * (bomb_megabytes * 1024 * 1024), compresslevel=9)
        headers.append((b"content-encoding", b"gzip"))
    elif kind == "100k-rollouts":
        body = _rollouts_body(rows)
    changing = _changing(rows) if kind == "100k-changing" else None
    chunk = _rollouts_body(min(rows, 2000))[len(b'{"rollouts": ['):-2] + b","

    async def huge() -> AsyncIterator[bytes]:
        yield b'{"rollouts": ['
        for _ in range(max(1, megabytes * 1024 * 1024 // len(chunk))):
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


def measure(kind: str, seconds: float, rows: int, megabytes: int, bomb_megabytes: int) -> dict[str, Any]:
    port = _free_port()
    child = subprocess.Popen([sys.executable, "-m", "bench.hostile", "--serve", kind, "--port", str(port),
                              "--rows", str(rows), "--megabytes", str(megabytes), "--bomb-megabytes",
                              str(bomb_megabytes)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    world = frozen_world(50)
    names = set(world.services) | {f"svc-{i}" for i in range(rows)}
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        with SimulatorServer(world, tick_interval=None) as good, tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            config = config_file(folder, [
                {"name": "good", "kind": "http", "url": good.url, "poll_interval": 0.5},
                {"name": "hostile", "kind": "http", "url": f"http://127.0.0.1:{port}", "poll_interval": 0.5,
                 "timeout": 11}])
            with PtyApp(["--config", str(config)], bench_env(folder)) as app:
                app.frame_after(app.started, lambda f: len(table_rows(f, names)) >= 20, timeout=120,
                                what="the good source's rows")
                latencies = key_to_painted_frame(app, names, 1_000_000, pause=0.02, seconds=seconds)
                shows = sorted({line.strip()[:90] for line in app.frames[-1].lines
                                if "hostile" in line and not line.lstrip().startswith("│")})
                rss = rss_mb(app.proc.pid)
                app.quit()
    finally:
        child.terminate()
        child.wait(10)
    return {"presses": len(latencies), "key_to_frame_ms_median": round(median(latencies) * 1000, 2),
            "key_to_frame_ms_p95": round(p95(latencies) * 1000, 2),
            "key_to_frame_ms_max": round(max(latencies) * 1000, 2), "app_rss_mb": round(rss, 1),
            "hostile_source_shows": shows[:3]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long keys are pressed per case")
    parser.add_argument("--only", nargs="*", choices=KINDS, help="only these cases")
    parser.add_argument("--rows", type=int, default=100_000, help="rollouts in the 100k cases")
    parser.add_argument("--megabytes", type=int, default=200, help="size of the big valid body")
    parser.add_argument("--bomb-megabytes", type=int, default=1024, help="the gzip bomb's size decompressed")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds (MONOTUI_BENCH_SMOKE=1)")
    parser.add_argument("--serve", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.rows, args.megabytes, args.bomb_megabytes)
        return
    if smoke(args):
        args.seconds, args.rows, args.megabytes, args.bomb_megabytes = 0.5, 1000, 2, 8
        args.only = args.only or ["empty", "100k-changing"]
    for kind in args.only or KINDS:
        try:
            emit("hostile", {"case": kind, **measure(kind, args.seconds, args.rows, args.megabytes,
                                                     args.bomb_megabytes)})
        except (TimeoutError, RuntimeError) as e:
            emit("hostile", {"case": kind, "error": str(e).splitlines()[0]})


if __name__ == "__main__":
    main()
