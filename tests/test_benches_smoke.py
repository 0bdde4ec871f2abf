"""Every benchmark still runs and still reports its figures: each is run in its smoke mode (tiny sizes, a few seconds;
`MONOTUI_BENCH_SMOKE=1`), and its JSON lines must hold every figure it promises, as numbers. The figures of a smoke
run mean nothing; a benchmark that crashes or stops measuring something fails here instead of rotting unseen.

The benchmarks run as processes of their own, two at a time (most of their time is spent waiting on the
processes they start), once per session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# one worker runs them all: the `runs` fixture starts every bench, so a second worker would start them again
pytestmark = [pytest.mark.xdist_group("benches"), pytest.mark.terminal]

# a run → (bench module and its extra arguments, {figure name: [paths of the numbers it must hold]}); a path is
# keys joined by ".". bench.run's figures 8 and 9 call bench.feed and bench.viewers, run on their own below; its
# figure 7 runs bench.argo_scale in a process of its own. bench.run is run in two halves, side by side.
BENCHES: dict[str, tuple[list[str], dict[str, list[str]]]] = {
    "run": (["--only", "refresh", "apply", "startup", "memory"], {
        "1_refresh": ["50.refresh_ms", "50.baseline_get_json_ms", "50.refresh_unchanged_ms"],
        "2_apply_snapshot": ["100.apply_5pct_ms", "100.apply_5pct_and_paint_ms", "100.rebuild_ms"],
        "4_startup": ["start_to_first_rows_s", "import_textual_app_s", "import_monotui_ui_s", "import_demo_path_s"],
        "5_memory": ["rss_after_5min_mb", "rss_after_run_mb", "events_kept"],
    }),
    "run idle input argo": (["--only", "idle", "input", "argo"], {
        "3_idle_cpu": ["cpu_fraction_polling", "cpu_fraction_not_polling"],
        "6_input_latency": ["key_to_frame_ms_median", "key_to_frame_ms_p95", "baseline_no_hang_ms_p95"],
        "7_argo": ["engine.first_full_state_s", "engine.modified_to_state_ms_median", "app.first_full_table_s",
                   "app.modified_to_screen_ms_median"],
    }),
    "feed": ([], {"change_feed": ["feed_changes.bytes", "feed_full_relist.bytes", "bulk_gzip.bytes",
                                  "bulk_uncompressed.bytes", "bulk_uncompressed_vs_changes.bytes_x",
                                  "feed_changes.client_cpu_ms"]}),
    "viewers": ([], {"viewers": ["feed.requests_per_s", "feed.bytes_per_s", "bulk.bytes_per_s",
                                 "uncompressed.bytes_per_s", "bulk_vs_feed_bytes_x"]}),
    "scale": (["--busy", "1"], {"scale": ["first_full_table_s", "idle_cpu_fraction", "cpu_per_poll_interval_s",
                                          "key_to_frame_ms_median", "key_to_frame_ms_p95", "rss_mb"],
                                "scale_busy": ["first_full_table_s", "key_to_frame_ms_p95", "busy_loops",
                                               "ratio_first_full_table_s", "ratio_key_to_frame_ms_p95"]}),
    "hostile": ([], {"hostile": ["key_to_frame_ms_median", "key_to_frame_ms_p95", "key_to_frame_ms_max",
                                 "app_rss_mb"]}),
    "huge": ([], {"memory_per_rollout": ["models_bytes_per_rollout", "app_table_bytes_per_rollout"],
                  "huge_production": ["apply_and_first_table_s", "rows_shown", "key_to_frame_ms_p95"]}),
    "decode": ([], {"decode": ["rollouts.body_bytes", "rollouts.empty_heap.models_typed.ms",
                               "rollouts.app_heap.client_item_by_item.ms", "health.empty_heap.json_loads.ms"]}),
    "idle_split": ([], {"idle_split": ["cpu_fraction", "paint_s", "refresh_views_s", "frames"]}),
    "unleash_poll": ([], {"unleash_poll": ["first_poll_s", "first_poll_requests", "later_poll_s_median"]}),
    "unleash_startup": ([], {"unleash_startup": ["postgres_s.median", "unleash_s.median", "total_s.median"]}),
    "logs": ([], {"log_stream_keys": ["streaming.key_to_frame_ms_p95", "baseline_quiet.key_to_frame_ms_p95",
                                      "load_average_1m"]}),
    "paged": ([], {"paged": ["first_rows_s", "first_full_table_s", "floor_list_s", "ratio_full_table_to_floor",
                             "idle_cpu_fraction", "key_to_frame_ms_p95", "rss_kb_per_rollout"]}),
    "unleash_bulk": ([], {"unleash_bulk": ["bulk.first_poll_s", "bulk.first_poll_requests",
                                           "one_by_one.first_poll_requests", "floor_s", "ratio_first_poll_to_floor"]}),
    "oneshot": ([], {"status_json_vs_curl": ["status_json_s", "status_json_rss_mb", "floor_s", "floor_rss_mb",
                                             "ratio_time", "ratio_rss"]}),
}
# how many of each figure a smoke run prints (one per size, mode or case; bench.scale: quiet and busy, each)
COUNTS = {"scale": 2, "hostile": 2}


@dataclass
class Run:
    code: int
    lines: list[dict[str, Any]]
    stderr: str


def _run(bench: str) -> Run:
    argv, _ = BENCHES[bench]
    env = {**os.environ, "MONOTUI_BENCH_SMOKE": "1", "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run([sys.executable, "-m", f"bench.{bench.split()[0]}", "--smoke", *argv], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired as e:
        return Run(-1, [], f"no end within {e.timeout:g} s")
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return Run(done.returncode, lines, done.stderr)


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, Run]]:
    slowest_first = ["run idle input argo", "run", "unleash_startup", "scale", "viewers", "hostile", "feed",
                     "huge", "idle_split", "unleash_poll", "decode", "paged", "unleash_bulk", "logs",
                     "oneshot"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {bench: pool.submit(_run, bench) for bench in slowest_first}
        yield {bench: future.result() for bench, future in futures.items()}


def _number(figure: dict[str, Any], path: str) -> Any:
    value: Any = figure
    for key in path.split("."):
        value = value[key] if isinstance(value, dict) and key in value else None
    return value


def test_every_bench_is_run_here() -> None:
    names = {p.stem for p in (ROOT / "bench").glob("*.py")} - {"__init__", "common", "terminal", "argo_scale"}
    assert names == {run.split()[0] for run in BENCHES}, "a benchmark without a smoke run, or the reverse"


@pytest.mark.parametrize("bench", list(BENCHES))
def test_a_bench_in_smoke_mode_reports_every_figure(bench: str, runs: dict[str, Run]) -> None:
    run = runs[bench]
    assert run.code == 0, f"bench.{bench} exited {run.code}:\n{run.stderr[-3000:]}"
    _, expected = BENCHES[bench]
    for name, paths in expected.items():
        figures = [line for line in run.lines if line.get("figure") == name]
        assert len(figures) == COUNTS.get(bench, 1), f"bench.{bench}: {len(figures)} `{name}` lines: {run.lines}"
        for figure in figures:
            assert "error" not in figure, f"bench.{bench}: {name}: {figure['error']}"
            for path in paths:
                value = _number(figure, path)
                assert isinstance(value, int | float) and not isinstance(value, bool) and value >= 0, (
                    f"bench.{bench}: {name}: {path} is {value!r} in {figure}")
