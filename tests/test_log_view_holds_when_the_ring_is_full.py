"""Scrolled up to read in the log view (`l`), the view stays where it is as lines come — also once the ring is full
(RING_LINES): each new batch then drops as many of the oldest lines, and the lines under the reader's eyes moved up
by that many at every batch (a fast stream scrolled the text away while it was read)."""

from __future__ import annotations

from typing import Any

from monotui.simulator.instances import log_feed
from monotui.ui.screens.logs import RING_LINES

from .conftest import wait_until
from .test_log_view import _log_lines, log_view, reading
from .ui_helpers import screen_lines


async def test_reading_back_holds_the_view_when_the_ring_is_full(make_settings: Any) -> None:
    async with log_view(make_settings) as (world, service, rollout, app, pilot):
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
