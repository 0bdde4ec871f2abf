"""Chaos: the app against a simulator that misbehaves in every way we know, for a bounded number of polls.
No crash, input keeps working, the source shows as stale with the reason, and it recovers by itself."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from textual import events

from monotui.engine.core import Engine
from monotui.simulator.server import Faults, SimulatorServer

from .conftest import make_world, wait_until
from .ui_helpers import make_app, rows_loaded

FAULTS = {
    "latency up to 10 s": Faults(latency_s=10.0),
    "20% 5xx": Faults(error_fraction=0.2),
    "all 5xx": Faults(error_fraction=1.0),
    "connection resets": Faults(reset_fraction=1.0),
    "malformed and truncated JSON": Faults(malformed_fraction=1.0),
    "wrong types": Faults(wrong_types_fraction=1.0),
    "10 MB body": Faults(huge_fraction=1.0),
    "slow drip": Faults(drip_fraction=1.0),
    "hanging": Faults(hang=True),
}


async def test_chaos(engine_for: Callable[..., Engine], tmp_path: Path) -> None:
    world = make_world(deploy_interval=2.0)
    with SimulatorServer(world, tick_interval=0.2) as sim:
        source = {"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 0.2, "timeout": 1.0}
        engine = engine_for(source)
        app = make_app(engine)
        report: dict[str, dict[str, object]] = {}
        worst_input = 0.0
        async with app.run_test(size=(120, 35)):
            await rows_loaded(app)
            for name, faults in FAULTS.items():
                sim.state.faults = faults
                errors: set[str] = set()
                # Keys are pressed until the source shows the fault (a condition, not a guessed window: a loaded
                # machine may need several polls), and for at least a few seconds in any case.
                must_fail = name != "20% 5xx"
                started = time.monotonic()
                presses = 0
                while (time.monotonic() - started < 3.0 or presses < 10
                       or (must_fail and not errors and time.monotonic() - started < 90)):
                    before = app.rollouts.table.cursor_row
                    key = "down" if before < app.rollouts.table.row_count - 1 else "up"
                    t0 = time.perf_counter()
                    app.post_message(events.Key(key, None))
                    await wait_until(lambda b=before: app.rollouts.table.cursor_row != b, timeout=30,
                                     what=f"{name}: the key press handled")
                    worst_input = max(worst_input, time.perf_counter() - t0)
                    presses += 1
                    status = engine.state.status("prod")
                    if status.error:
                        errors.add(status.error.split(":")[-1].strip()[:60])
                    await asyncio.sleep(0.05)
                sim.state.faults = Faults()
                if must_fail:
                    assert errors, f"{name}: the source never showed as failing"
                    await wait_until(lambda: app.rollouts.alerts.display
                                     or engine.state.status("prod").state != "error", timeout=30,
                                     what=f"{name}: the failure shown above the table")
                recover_start = time.perf_counter()
                # one backoff interval (capped at 16 polls: 3.2 s, ±10% jitter) plus one poll's own deadline;
                # generous, as the machine may be loaded: what matters is that it recovers by itself
                await wait_until(lambda: engine.state.status("prod").state == "ok", timeout=60,
                                 what=f"{name}: recovery")
                report[name] = {"injected": sum(faults.counts.values()), "key_presses": presses,
                                "errors_shown": sorted(errors)[:3],
                                "recovered_after_s": round(time.perf_counter() - recover_start, 2)}
                await wait_until(lambda: not app.rollouts.alerts.display, timeout=30,
                                 what=f"{name}: the error bar cleared")
            assert app.is_running, "no crash"
            assert app.rollouts.table.row_count == len(world.services)
    figures = json.dumps({"faults": report, "crashes": 0, "worst_input_latency_ms": round(worst_input * 1000, 1)},
                         indent=2)
    print(figures)  # `pytest -s tests/test_chaos.py` shows the figures quoted in docs/reliability.md
    if os.environ.get("MONOTUI_CHAOS_REPORT"):
        Path(os.environ["MONOTUI_CHAOS_REPORT"]).write_text(figures + "\n")
