"""Keys while a log streams: monotui in a real 80×24 pty, its log view (`l`) open on a canary that writes RATE lines a
second; the time from a key (`p`, pause and resume in turn: the title line changes) to the complete frame on the
terminal that shows it. Same run, same keys, the same view on a quiet canary (no lines): the baseline.

    python -m bench.logs [--rate 10000] [--presses 40] [--smoke]

The simulator and the writer of the lines run in a process of their own (`--serve`); the machine's load average is
printed with the figures (a p95 means little on a busy machine).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import emit, median, p95, smoke
from bench.terminal import Frame, PtyApp, bench_env, config_file, table_rows

ROOT = Path(__file__).resolve().parent.parent


def serve(rate: int) -> None:
    """The simulator on 127.0.0.1 with one bad canary whose first instance writes `rate` lines a second; prints the
    URL and the service, serves until stdin closes."""
    from monotui.models import Strategy
    from monotui.simulator.instances import log_feed
    from monotui.simulator.server import SimulatorServer
    from monotui.simulator.world import SimConfig, World

    world = World(SimConfig(services=4, seed=1, deploy_interval=0, instances=True))
    service = next(iter(world.services))
    rollout = world.deploy(service, bad=True, strategy=Strategy.CANARY)
    feed = log_feed(world)
    with SimulatorServer(world, tick_interval=None) as sim:
        print(sim.url, *world.services, flush=True)  # the bad canary's service first

        def write() -> None:
            batch = max(1, rate // 100)
            n = 0
            next_at = time.monotonic()
            while rate:
                for _ in range(batch):
                    n += 1
                    feed.write(service, rollout.instances[0].name, f"INFO request {n} handled in 3ms",
                               revision=rollout.revision)
                next_at += batch / rate
                time.sleep(max(0.0, next_at - time.monotonic()))

        threading.Thread(target=write, daemon=True).start()
        sys.stdin.read()


def keys_in_log_view(rate: int, presses: int, folder: Path) -> dict[str, Any]:
    server = subprocess.Popen([sys.executable, "-m", "bench.logs", "--serve", str(rate)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert server.stdout is not None
        url, service, *others = server.stdout.readline().split()
        names = {service, *others}
        folder.mkdir(parents=True, exist_ok=True)
        config = config_file(folder, [{"name": "sim", "kind": "http", "url": url, "poll_interval": 1.0}])
        with PtyApp(["--config", str(config)], bench_env(folder), cwd=ROOT, size=(80, 24)) as app:
            app.frame_after(app.started, lambda f: service in f.text, what="the rows")
            t0 = time.perf_counter()
            for key in ("/", *service):
                app.press(key)
            app.frame_after(t0, lambda f: set(table_rows(f, names)) == {service}, timeout=30,
                            what="only the service's row")
            app.press("\r")  # the filter stays, the rows have the keys again
            app.settle(1.0)
            del app.frames[:-1]
            t0 = app.press("l")
            app.frame_after(t0, lambda f: f.lines[0].startswith("Logs ·"), what="the log view")
            app.settle(0.5)
            latencies = []
            for i in range(presses):
                # PtyApp keeps the last 200 frames and counts them from the start: with a repaint every 0.1 s
                # that count runs past the end, so each key starts from an empty list
                del app.frames[:]
                t0 = app.press("p")

                def shows(frame: Frame, paused: bool = i % 2 == 0) -> bool:
                    return ("PAUSED" in frame.lines[0]) == paused and frame.lines[0].startswith("Logs ·")

                latencies.append(app.frame_after(t0, shows, what=f"key {i + 1}").at - t0)
                end = time.perf_counter() + 0.1
                while time.perf_counter() < end:
                    app.pump(0.02)
            app.quit()
        return {"key_to_frame_ms_median": round(median(latencies) * 1000, 1),
                "key_to_frame_ms_p95": round(p95(latencies) * 1000, 1), "presses": len(latencies)}
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=10_000, help="lines a second")
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--serve", type=int, metavar="RATE", help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="a few keys, a slower stream (MONOTUI_BENCH_SMOKE=1)")
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve)
        return
    if smoke(args):
        args.rate, args.presses = 500, 4
    with tempfile.TemporaryDirectory() as tmp:
        quiet = keys_in_log_view(0, args.presses, Path(tmp) / "quiet")
        streaming = keys_in_log_view(args.rate, args.presses, Path(tmp) / "streaming")
    emit("log_stream_keys", {"rate_lines_per_s": args.rate, "streaming": streaming, "baseline_quiet": quiet,
                             "load_average_1m": round(os.getloadavg()[0], 1), "cpus": os.cpu_count()})


if __name__ == "__main__":
    main()
