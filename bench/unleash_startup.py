"""How long a real Unleash takes to start for the tests: PostgreSQL (initdb + ready), then Unleash (migrations +
Admin API answering), then both stopped. Prints JSON (seconds, median and worst of several runs).

    python -m bench.unleash_startup [--runs 3] [--smoke]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.common import emit, smoke
from monotui.simulator.unleash_server import UNLEASH_VERSION, PostgresServer, UnleashServer, missing

READY_WITHIN_S = 300.0  # this measures the start, however slow the machine is: it fails only when Unleash never starts


def one_run() -> dict[str, float]:
    start = time.perf_counter()
    with PostgresServer() as postgres:
        postgres_ready = time.perf_counter()
        unleash = UnleashServer(postgres).start(READY_WITHIN_S)
        try:
            unleash_ready = time.perf_counter()
        finally:
            unleash.stop()
        stopping = time.perf_counter()
    return {"postgres_s": postgres_ready - start, "unleash_s": unleash_ready - postgres_ready,
            "total_s": unleash_ready - start, "stop_s": time.perf_counter() - stopping}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds (MONOTUI_BENCH_SMOKE=1)")
    args = parser.parse_args()
    if smoke(args):
        args.runs = 1
    problem = missing()
    if problem:
        raise SystemExit(problem)
    runs = [one_run() for _ in range(args.runs)]
    out: dict[str, object] = {"unleash_version": UNLEASH_VERSION, "runs": args.runs}
    for key in runs[0]:
        values = [r[key] for r in runs]
        out[key] = {"median": round(statistics.median(values), 2), "worst": round(max(values), 2)}
    emit("unleash_startup", out)


if __name__ == "__main__":
    main()
