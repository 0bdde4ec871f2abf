"""What every benchmark shares: the simulator in its own process, settings, medians, CPU of a process, frames
painted by a headless app, and one flushed JSON line per figure (so a failure later loses nothing)."""

from __future__ import annotations

import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Self

import httpx
from textual import events

from monotui.config import Settings, build_settings
from monotui.simulator.loopback import loopback_socket

DEMO_DEPLOY_INTERVAL = 5.0  # `monotui demo`'s default: a new deploy every ~5 s


def emit(name: str, figures: Any) -> None:
    """One figure, one JSON line on stdout, flushed at once."""
    print(json.dumps({"figure": name, **(figures if isinstance(figures, dict) else {"value": figures})}),
          flush=True)


def smoke(args: Any = None) -> bool:
    """A smoke run (`--smoke`, or MONOTUI_BENCH_SMOKE=1): tiny sizes, every figure still measured, in seconds. It
    keeps the benchmarks working (tests/test_benches_smoke.py); its figures mean nothing."""
    return bool(getattr(args, "smoke", False)) or os.environ.get("MONOTUI_BENCH_SMOKE") == "1"


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def p95(xs: Sequence[float]) -> float:
    ordered = sorted(xs)
    return ordered[max(0, math.ceil(len(ordered) * 0.95) - 1)]  # nearest rank


def settings(*urls: str, folder: Path, poll_interval: float = 2.0, timeout: float = 10.0, **extra: Any) -> Settings:
    sources = [{"name": f"s{i}", "kind": "http", "url": url, "poll_interval": poll_interval, "timeout": timeout}
               for i, url in enumerate(urls)]
    return build_settings({"sources": sources, "audit_log": str(folder / "audit.log"), "actor": "bench@local",
                           **extra})


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int | None = None) -> float:
    with open(f"/proc/{pid or 'self'}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def wait_for(predicate: Callable[[], bool], timeout: float = 120.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"benchmark: {what} not reached within {timeout:g}s")
        time.sleep(0.02)


class SimProcess:
    """`monotui simulate` in its own process (so it never shares the measured client's GIL), ready when its
    /healthz answers: `with SimProcess(5000) as sim: sim.url`."""

    ready_within = 120.0  # seconds the simulator may take to build its world and answer

    def __init__(self, services: int, *, deploy_interval: float = DEMO_DEPLOY_INTERVAL, seed: int = 1,
                 feed: bool = True) -> None:
        self.services = services
        self.args = ["--services", str(services), "--deploy-interval", str(deploy_interval), "--seed", str(seed)]
        self.feed = feed  # False: the change feed answers 404, as a server from before it (clients poll in bulk)

    def __enter__(self) -> Self:
        with loopback_socket() as probe:
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        command = ["monotui", "simulate"] if self.feed else ["bench.common", "--without-feed"]
        self.process = subprocess.Popen([sys.executable, "-m", *command, "--port", str(port), *self.args],
                                        stderr=subprocess.DEVNULL, cwd=Path(__file__).resolve().parent.parent)

        def ready() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError("the simulator exited")
            try:
                return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, self.ready_within, "simulator ready")
        return self

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def stats(self) -> dict[str, Any]:
        """Requests and body bytes the simulator served so far (its /_sim/stats)."""
        return dict(httpx.get(f"{self.url}/_sim/stats", timeout=120).json())

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return httpx.post(f"{self.url}{path}", json=body, timeout=60).json()

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


class FrameProbe:
    """Counts the frames a headless app paints, with the selected row at paint time.

    Headless Textual computes each frame (layout, compositing) but skips turning it into terminal bytes; the probe
    does that step too, so a frame costs what it costs on a real terminal (minus the write).
    """

    def __init__(self, app: Any) -> None:
        from monotui.compat.textual import on_painted_frame

        self.frames: list[tuple[float, int]] = []  # (time painted, table cursor row)

        def painted() -> None:
            self.frames.append((time.perf_counter(), app.rollouts.table.cursor_row))
            del self.frames[:-1000]

        on_painted_frame(app, painted)

    def painted_after(self, t0: float, cursor_not: int) -> float | None:
        """Time of the first frame after `t0` that shows a cursor elsewhere than `cursor_not`."""
        for t, row in self.frames:
            if t >= t0 and row != cursor_not:
                return t
        return None


async def key_to_frame(app: Any, presses: int) -> list[float]:
    """Seconds from each key event to the first painted frame showing the moved cursor. The keys are `G` and `g` in
    turn (the last row, then the first), so that each press scrolls the table (it needs more than a page of rows)."""
    probe = FrameProbe(app)
    out = []
    for i in range(presses):
        before = app.rollouts.table.cursor_row
        key = "G" if i % 2 == 0 else "g"
        t0 = time.perf_counter()
        app.post_message(events.Key(key, key))  # as a terminal key event enters
        deadline = t0 + 30
        while (painted := probe.painted_after(t0, before)) is None:
            if time.perf_counter() > deadline:
                raise TimeoutError("no frame painted the moved cursor within 30 s")
            await asyncio.sleep(0.0005)
        out.append(painted - t0)
        await asyncio.sleep(0.01)
    return out


def _serve_without_feed() -> None:
    """`monotui simulate`'s production with the change feed turned off (for SimProcess(feed=False))."""
    import argparse

    from monotui.simulator.server import SimulatorServer
    from monotui.simulator.world import SimConfig, World

    parser = argparse.ArgumentParser()
    parser.add_argument("--without-feed", action="store_true")
    for option in ("--port", "--services", "--seed"):
        parser.add_argument(option, type=int)
    parser.add_argument("--deploy-interval", type=float)
    args = parser.parse_args()
    world = World(SimConfig(services=args.services, seed=args.seed, deploy_interval=args.deploy_interval))
    with SimulatorServer(world, port=args.port, feed=False):
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    _serve_without_feed()
