"""The log view (`l`) at 80×24 shows when each line was written (HH:MM:SS, local time) before the instance that
wrote it: an on-call engineer reading an error needs to know whether it is from now or from ten minutes ago."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from monotui.simulator.instances import log_feed

from .conftest import wait_until
from .test_log_view import log_view
from .ui_helpers import screen_lines


async def test_each_log_line_starts_with_its_time_at_80x24(make_settings: Any) -> None:
    async with log_view(make_settings) as (world, service, rollout, app, _pilot):
        canary = rollout.instances[0]
        written = datetime.now(UTC).replace(microsecond=0)
        log_feed(world).write(service, canary.name, "ERROR marker-4410", revision=rollout.revision, at=written)
        await wait_until(lambda: any("marker-4410" in line for line in screen_lines(app)), timeout=20,
                         what="the line on screen")
        shown = next(line for line in screen_lines(app) if "marker-4410" in line).strip()
        stamp = written.astimezone().strftime("%H:%M:%S")
        assert shown == f"{stamp} [pod/{canary.name}/app] ERROR marker-4410", shown
