"""The log view (`l`) at 80×24 shows when each line was written (HH:MM:SS, local time) before the instance that
wrote it: an on-call engineer reading an error needs to know whether it is from now or from ten minutes ago."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from monotui.engine.core import Engine
from monotui.models import Strategy
from monotui.simulator.instances import log_feed
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.logs import LogScreen

from .conftest import make_world, wait_until
from .ui_helpers import make_app, rows_loaded, screen_lines, select


async def test_each_log_line_starts_with_its_time_at_80x24(make_settings: Any) -> None:
    world = make_world(instances=True)
    service = next(iter(world.services))
    world.deploy(service, bad=True, strategy=Strategy.CANARY)
    with SimulatorServer(world, tick_interval=None) as sim:
        engine = Engine(make_settings(sim.url))
        app = make_app(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await rows_loaded(app)
            key = next(k for k, v in engine.state.by_key.items() if v.rollout.service == service)
            select(app, key)
            await pilot.pause()
            rollout = engine.state.by_key[key].rollout
            await pilot.press("l")
            await wait_until(lambda: isinstance(app.screen, LogScreen), timeout=20, what="the log view")
            canary = rollout.instances[0]
            written = datetime.now(UTC).replace(microsecond=0)
            log_feed(world).write(service, canary.name, "ERROR marker-4410", revision=rollout.revision, at=written)
            await wait_until(lambda: any("marker-4410" in line for line in screen_lines(app)), timeout=20,
                             what="the line on screen")
            shown = next(line for line in screen_lines(app) if "marker-4410" in line).strip()
            stamp = written.astimezone().strftime("%H:%M:%S")
            assert shown == f"{stamp} [pod/{canary.name}/app] ERROR marker-4410", shown
