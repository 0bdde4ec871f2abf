"""Scrolled up to read in the log view (`l`), the view stays where it is as lines come — also once the ring is full
(RING_LINES): each new batch then drops as many of the oldest lines, and the lines under the reader's eyes moved up
by that many at every batch (a fast stream scrolled the text away while it was read)."""

from __future__ import annotations

from typing import Any

from monotui.engine.core import Engine
from monotui.simulator.instances import log_feed
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.logs import RING_LINES, LogScreen

from .conftest import wait_until
from .test_log_view import _log_lines, _setup, reading
from .ui_helpers import make_app, rows_loaded, screen_lines, select


async def test_reading_back_holds_the_view_when_the_ring_is_full(make_settings: Any) -> None:
    world, service = _setup(make_settings)
    with SimulatorServer(world, tick_interval=None) as sim:
        engine = Engine(make_settings(sim.url))
        app = make_app(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await rows_loaded(app)
            key = next(k for k, v in engine.state.by_key.items() if v.rollout.service == service)
            select(app, key)
            await pilot.press("l")
            await wait_until(lambda: isinstance(app.screen, LogScreen), timeout=20, what="the log view")
            rollout = engine.state.by_key[key].rollout
            feed = log_feed(world)
            pod = rollout.instances[0].name
            for i in range(RING_LINES + 100):
                feed.write(service, pod, f"INFO first-batch {i:05}", revision=rollout.revision)
            last = f"first-batch {RING_LINES + 99:05}"
            await wait_until(lambda: any(last in line for line in _log_lines(app)[-3:]), timeout=30,
                             what="the ring filled and drawn")
            await wait_until(lambda: last in "\n".join(screen_lines(app)), what="followed to the end")
            for _ in range(10):
                await pilot.press("pageup")
            await pilot.pause(0.3)
            held = reading(app)
            assert any("first-batch" in line for line in held) and not any(last in line for line in held)
            for i in range(300):
                feed.write(service, pod, f"INFO second-batch {i:03}", revision=rollout.revision)
            await wait_until(lambda: any("second-batch 299" in line for line in _log_lines(app)), timeout=20,
                             what="the second batch read and written")
            await pilot.pause(0.3)
            assert len(_log_lines(app)) == RING_LINES
            assert reading(app) == held  # still where the reader left it
        await engine.aclose()
