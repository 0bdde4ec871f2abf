"""One-shot commands against their floor: `python -m bench.oneshot [--services 10000] [--runs 3] [--smoke]`.

For N services (the simulator in its own process, deploys on at the demo's rate): `monotui status --json` from
process start to exit, wall time and peak RSS (the child's ru_maxrss), against its floor measured in the same run:
`curl` of the same two lists (`/v1/rollouts`, `/v1/health`) and `json.load` of each in a fresh `python3`
(the issue's yardstick: what a shell script would do). Medians of `--runs`; `ratio_time`, `ratio_rss` divide
monotui's by the floor's. One JSON line per figure, with the load average.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import SimProcess, emit, median, smoke
from bench.terminal import bench_env, config_file

# a small launcher forks the command and reports its peak RSS: a child forked from this (bigger) process would
# count this process's pages in its own ru_maxrss
LAUNCHER = ("import os, sys\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    os.execvp(sys.argv[1], sys.argv[1:])\n"
            "_, status, usage = os.wait4(pid, 0)\n"
            "print(usage.ru_maxrss, file=sys.stderr)\n"
            "sys.exit(os.waitstatus_to_exitcode(status))\n")


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one command, its output thrown away; it must succeed."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, *command], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, env=env, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed: {done.stderr[-500:]}")
    return elapsed, int(done.stderr.split()[-1]) / 1024  # KB on Linux


def floor_command(url: str) -> list[str]:
    script = ("import json, subprocess, sys\n"
              "for path in ('/v1/rollouts', '/v1/health'):\n"
              "    body = subprocess.run(['curl', '-sf', '--compressed', sys.argv[1] + path], check=True,\n"
              "                          capture_output=True).stdout\n"
              "    json.loads(body)\n")
    return [sys.executable, "-S", "-c", script, url]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds (MONOTUI_BENCH_SMOKE=1)")
    args = parser.parse_args()
    services, runs = (200, 1) if smoke(args) else (args.services, args.runs)
    if not shutil.which("curl"):
        raise SystemExit("bench.oneshot: the floor needs curl")
    monotui = [sys.executable, "-m", "monotui"]
    with SimProcess(services) as sim, tempfile.TemporaryDirectory() as folder:
        config = config_file(Path(folder), [{"name": "prod", "kind": "http", "url": sim.url}])
        env = {**bench_env(Path(folder)), "NO_COLOR": "1"}
        mine: list[tuple[float, float]] = []
        floor: list[tuple[float, float]] = []
        for _ in range(runs):  # alternate, so a burst of load falls on both
            floor.append(timed(floor_command(sim.url), env))
            mine.append(timed([*monotui, "--config", str(config), "status", "--json"], env))
        figures: dict[str, Any] = {
            "services": services, "runs": runs,
            "status_json_s": round(median([t for t, _ in mine]), 3),
            "status_json_rss_mb": round(median([m for _, m in mine]), 1),
            "floor_s": round(median([t for t, _ in floor]), 3),
            "floor_rss_mb": round(median([m for _, m in floor]), 1),
            "load": round(os.getloadavg()[0], 2),
        }
        figures["ratio_time"] = round(figures["status_json_s"] / figures["floor_s"], 2)
        figures["ratio_rss"] = round(figures["status_json_rss_mb"] / figures["floor_rss_mb"], 2)
        emit("status_json_vs_curl", figures)


if __name__ == "__main__":
    main()
