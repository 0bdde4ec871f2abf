"""The log view (`l`) and the pods in the detail panel, driven with Pilot against the simulator's deploy API: the
canary's lines (the bad release's errors) arrive within a second of being written, drawn as plain text; search,
pause and the canary/stable switch; it fits 80×24."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from monotui.engine.core import Engine
from monotui.models import Rollout, Strategy
from monotui.simulator.instances import log_feed
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World
from monotui.ui.screens.logs import LogScreen

from .conftest import make_world, wait_until
from .ui_helpers import cell, make_app, panel_text, rows_loaded, screen_lines, select


def reading(app: Any) -> list[str]:
    """The log's rows as the reader sees them, without the scrollbar's column (its thumb moves as lines arrive)
    and without the last row (a horizontal scrollbar appears there when a wider line arrives)."""
    return [line[:-2] for line in screen_lines(app)[1:-2]]



def _setup(make_settings: Any) -> tuple[Any, str]:
    world = make_world(instances=True)
    service = next(iter(world.services))
    world.deploy(service, bad=True, strategy=Strategy.CANARY)
    return world, service


@asynccontextmanager
async def bad_canary_selected(make_settings: Any) -> AsyncIterator[tuple[World, str, Rollout, Any, Any, str]]:
    """The simulator with a bad canary, the app at 80×24 with its rows and the canary's row selected:
    (world, service, rollout, app, pilot, the row's key)."""
    world, service = _setup(make_settings)
    with SimulatorServer(world, tick_interval=None) as sim:
        engine = Engine(make_settings(sim.url))
        app = make_app(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await rows_loaded(app)
            key = next(k for k, v in engine.state.by_key.items() if v.rollout.service == service)
            select(app, key)
            await pilot.pause()
            yield world, service, engine.state.by_key[key].rollout, app, pilot, key
        await engine.aclose()


@asynccontextmanager
async def log_view(make_settings: Any) -> AsyncIterator[tuple[World, str, Rollout, Any, Any]]:
    """The same, with the log view (`l`) open on the canary: (world, service, rollout, app, pilot)."""
    async with bad_canary_selected(make_settings) as (world, service, rollout, app, pilot, _key):
        await pilot.press("l")
        await wait_until(lambda: isinstance(app.screen, LogScreen), timeout=20, what="the log view")
        yield world, service, rollout, app, pilot

def _log_lines(app: Any) -> list[str]:
    screen = app.screen
    assert isinstance(screen, LogScreen)
    return [str(line) for line in screen.log_widget.lines]


async def test_l_streams_the_canary_logs_and_the_view_works_at_80x24(make_settings: Any, tmp_path: Path) -> None:
    async with bad_canary_selected(make_settings) as (world, service, rollout, app, pilot, key):
        # the pods under each revision, and the marker for the canary's crashing pod
        await wait_until(lambda: "Pods" in panel_text(app, "detail"), timeout=20, what="pods in the detail")
        assert "CrashLoopBackOff" in panel_text(app, "detail")
        assert "⚠0/1↻3" in cell(app, key, "status")

        await pilot.press("l")
        await wait_until(lambda: isinstance(app.screen, LogScreen), timeout=20, what="the log view")
        # the bad release's errors, from the canary's instance
        await wait_until(lambda: any("upstream returned 500" in line for line in _log_lines(app)), timeout=20,
                         what="the canary's errors")
        canary = rollout.instances[0]
        assert all(f"[{canary.name}]" not in line or f"[pod/{canary.name}/app]" in line
                   for line in _log_lines(app))
        # a line written now is shown within a second, as it was written (no markup read)
        written = time.monotonic()
        log_feed(world).write(service, canary.name, "ERROR [bold]boom[/bold] marker-7731",
                              revision=rollout.revision)
        await wait_until(lambda: any("marker-7731" in line for line in _log_lines(app)), timeout=10,
                         step=0.01, what="the new line")
        assert time.monotonic() - written <= 1.0
        assert any(line.endswith("ERROR [bold]boom[/bold] marker-7731") for line in _log_lines(app))
        # 80×24: every line fits, the title and the keys are on screen
        lines = screen_lines(app)
        assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
        assert lines[0].startswith(f"Logs · {service} · canary")
        assert "/ search" in lines[-1]

        # search: only the lines holding the text
        await pilot.press("slash", *"marker-7731", "enter")
        await wait_until(lambda: len(_log_lines(app)) >= 1 and all("marker-7731" in line
                                                                  for line in _log_lines(app)),
                         what="search applied")
        await pilot.press("slash", "ctrl+u", "enter")  # the search cleared: every line again
        await wait_until(lambda: any("upstream returned 500" in line for line in _log_lines(app)),
                         what="search cleared")

        # pause: lines keep being read, none drawn until resumed
        await pilot.press("p")
        assert "PAUSED" in screen_lines(app)[0]
        log_feed(world).write(service, canary.name, "INFO while-paused-5520", revision=rollout.revision)
        screen = app.screen
        assert isinstance(screen, LogScreen)
        await wait_until(lambda: any("while-paused-5520" in line for line in screen.streams["canary"].lines),
                         what="read while paused")
        await pilot.pause(0.3)
        assert not any("while-paused-5520" in line for line in _log_lines(app))
        await pilot.press("p")
        await wait_until(lambda: any("while-paused-5520" in line for line in _log_lines(app)),
                         what="drawn once resumed")

        # the stable revision's lines, then back
        await pilot.press("t")
        assert rollout.stable is not None
        stable_names = [i.name for i in rollout.instances if i.revision == rollout.stable.revision]
        await wait_until(lambda: any(name in line for line in _log_lines(app) for name in stable_names),
                         timeout=20, what="the stable revision's lines")
        assert not any("marker-7731" in line for line in _log_lines(app))
        assert "stable" in screen_lines(app)[0]
        await pilot.press("t")
        await wait_until(lambda: any("marker-7731" in line for line in _log_lines(app)), what="canary again")
        await pilot.press("escape")
        await wait_until(lambda: not isinstance(app.screen, LogScreen), what="back to the rows")


async def test_the_log_ring_keeps_memory_bounded(make_settings: Any) -> None:
    async with log_view(make_settings) as (world, service, rollout, app, _pilot):
        from monotui.ui.screens.logs import RING_LINES

        feed = log_feed(world)
        for i in range(RING_LINES + 1500):
            feed.write(service, rollout.instances[0].name, f"INFO line {i}", revision=rollout.revision)
        screen = app.screen
        assert isinstance(screen, LogScreen)
        await wait_until(lambda: any(f"line {RING_LINES + 1499}" in line
                                     for line in list(screen.streams["canary"].lines)[-5:]),
                         timeout=30, what="every line read")
        await wait_until(lambda: any(f"line {RING_LINES + 1499}" in line for line in _log_lines(app)[-5:]),
                         timeout=10, what="drawn")
        assert len(screen.streams["canary"].lines) == RING_LINES
        assert len(_log_lines(app)) <= RING_LINES


async def test_reading_back_holds_the_view_while_lines_arrive(make_settings: Any) -> None:
    """Scrolled up to read, the view stays where it is as lines come; `end` follows the stream again; a line
    longer than the screen is read to its end with the right arrow."""
    async with log_view(make_settings) as (world, service, rollout, app, pilot):
        feed = log_feed(world)
        pod = rollout.instances[0].name
        for i in range(100):
            feed.write(service, pod, f"INFO first-batch {i:03}", revision=rollout.revision)
        feed.write(service, pod, "INFO long " + "x" * 150 + " tail-end-4411", revision=rollout.revision)
        await wait_until(lambda: "tail-end-4411" in " ".join(_log_lines(app)[-3:]), timeout=20,
                         what="the first batch drawn")
        await wait_until(lambda: "first-batch" in "\n".join(screen_lines(app)), what="followed to the end")
        for _ in range(3):
            await pilot.press("pageup")
        await pilot.pause()
        held = reading(app)
        assert not any("tail-end-4411" in line for line in held)
        for i in range(50):
            feed.write(service, pod, f"INFO second-batch {i:03}", revision=rollout.revision)
        await wait_until(lambda: any("second-batch 049" in line for line in _log_lines(app)), timeout=20,
                         what="the second batch read and written")
        await pilot.pause(0.3)
        assert reading(app) == held  # still where the reader left it
        await pilot.press("end")
        await wait_until(lambda: any("second-batch 049" in line for line in screen_lines(app)),
                         what="following again")
        # the long line's end, with the right arrow
        feed.write(service, pod, "INFO long " + "y" * 150 + " far-right-5512", revision=rollout.revision)
        await wait_until(lambda: any("INFO long yyy" in line for line in screen_lines(app)), what="long line")
        await pilot.press("p")  # the canary's own lines would move it up and away
        assert not any("far-right-5512" in line for line in screen_lines(app))
        for _ in range(150):
            await pilot.press("right")
        await wait_until(lambda: any("far-right-5512" in line for line in screen_lines(app)),
                         what="the long line's end")
