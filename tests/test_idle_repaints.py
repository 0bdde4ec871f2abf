"""Idle cost follows what changes on screen: a poll (or a clock tick) that changes nothing visible repaints
nothing; a health figure that moved within its rounding repaints no row; a new event and a detail that changed
still show. Repaints are counted by the widgets' own `repaints` hook, and the screen is read as the terminal shows
it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from rich.text import Text
from textual.pilot import Pilot

from monotui.engine.core import Engine
from monotui.formats import percent
from monotui.models import Strategy
from monotui.providers.http_deploy import HttpDeployProvider
from monotui.render.text import plain
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World
from monotui.ui.app import MonotuiApp

from .conftest import make_world, wait_until
from .ui_helpers import cell, make_app, panel_text, rows_loaded, screen_lines, select


def repaints(app: MonotuiApp) -> tuple[int, int, int]:
    return app.rollouts.table.repaints, app.rollouts.detail_panel.repaints, app.rollouts.events_panel.repaints


async def poll(app: MonotuiApp) -> None:
    """One real poll of the simulator, shown as the app shows a poll."""
    await app.engine.refresh_once()
    app.rollouts.refresh_views()


@asynccontextmanager
async def frozen(engine_for: Callable[..., Engine], bulk: bool = False) -> AsyncIterator[tuple[World, Pilot[None]]]:
    """The app on 12 services of a world that moves only when the test says (its clock too), no polls of its own;
    loaded. `bulk`: polls without the change feed (every service's health at every poll)."""
    world = make_world(services=12)
    with SimulatorServer(world, tick_interval=None) as sim:
        engine = engine_for(sim.url)
        if bulk:
            provider = engine.providers["prod"]
            assert isinstance(provider, HttpDeployProvider)
            provider.use_feed = False
        app = make_app(engine, poll=False, clock=lambda: world.now)
        async with app.run_test(size=(120, 35)) as pilot:
            await poll(app)
            await rows_loaded(app, 12)
            await pilot.pause()
            yield world, pilot


async def test_polls_and_ticks_that_change_nothing_on_screen_repaint_nothing(
        engine_for: Callable[..., Engine]) -> None:
    async with frozen(engine_for) as (_, pilot):
        app: MonotuiApp = pilot.app  # type: ignore[assignment]
        before, screen = repaints(app), screen_lines(app)
        ticks = app.rollouts.ticks
        for _ in range(3):  # the change feed answers "nothing new"
            await poll(app)
            await pilot.pause()
        # the one-second clock ticks too (the clock is frozen: no age moves)
        await wait_until(lambda: app.rollouts.ticks >= ticks + 2, timeout=30, what="two clock ticks")
        await pilot.pause()
        assert repaints(app) == before, "nothing changed on screen, nothing was repainted"
        assert screen_lines(app) == screen


async def test_a_health_figure_moving_within_its_rounding_repaints_no_row(
        engine_for: Callable[..., Engine]) -> None:
    async with frozen(engine_for, bulk=True) as (world, pilot):  # every service's health, at every poll
        app: MonotuiApp = pilot.app  # type: ignore[assignment]
        engine = app.engine
        key = app.rollouts.table._order[-1]  # on screen, not selected (the detail panel shows another rollout)
        assert key != app.rollouts.table.selected_key
        service = world.services[key.split("/", 1)[1]]

        def sample(error_ratio: float) -> None:
            """A new health sample in which only this service's error ratio moved."""
            service.error_ratio = error_ratio
            world.health_version += 1

        sample(0.0040)
        await poll(app)
        await pilot.pause()
        assert cell(app, key, "errors") == "0.4%"
        before = app.rollouts.table.repaints

        sample(0.0043)  # the engine gets a new figure; the row shows the same "0.4%"
        await poll(app)
        await pilot.pause()
        assert engine.state.view(key).health.error_ratio == 0.0043  # type: ignore[union-attr]
        assert app.rollouts.table.repaints == before, "a figure that looks the same repaints nothing"

        sample(0.0090)  # now it shows: that row's line alone is drawn again
        await poll(app)
        await pilot.pause()
        assert cell(app, key, "errors") == percent(0.0090) == "0.9%"
        assert app.rollouts.table.repaints == before + 1
        table = app.rollouts.table
        line = screen_lines(app)[table.region.y + 1 + table.index_of(key) - int(table.scroll_y)]
        assert service.name in line and "0.9%" in line, line  # painted (the line under the header)


async def test_a_new_event_and_a_changed_detail_still_show(engine_for: Callable[..., Engine]) -> None:
    async with frozen(engine_for) as (world, pilot):
        app: MonotuiApp = pilot.app  # type: ignore[assignment]
        service = sorted(world.services)[0]
        select(app, f"prod/{service}")
        await pilot.pause()
        events_before = app.rollouts.events_panel.repaints

        world.deploy(service, strategy=Strategy.CANARY, manual_gate=True)
        world.step()
        await poll(app)
        await pilot.pause()
        await wait_until(lambda: app.rollouts.table.selected_key == f"prod/{service}")
        assert app.rollouts.events_panel.repaints > events_before
        deploy = next(line for line in panel_text(app, "events").splitlines() if f"+ {service} v" in line)
        assert any(deploy[:40] in line for line in screen_lines(app)), "painted, not only held"
        assert "Steps" in panel_text(app, "detail")

        detail_before = app.rollouts.detail_panel.repaints
        shown = panel_text(app, "detail")
        for _ in range(40):  # the canary moves on: its step and weight change in the detail
            world.step()
        await poll(app)
        await pilot.pause()
        assert panel_text(app, "detail") != shown
        assert app.rollouts.detail_panel.repaints > detail_before
        progress = next(line for line in panel_text(app, "detail").splitlines() if line.startswith("Progress"))
        assert any(progress[:30] in line for line in screen_lines(app)), "the new step is on screen"


async def test_a_line_that_fits_renders_as_the_wrapping_path_renders_it(engine_for: Callable[..., Engine]) -> None:
    """The panels render a one-line Text that fits directly, not through rich's wrapping: cell for cell the same
    characters and styles (a Text without spans keeps its base style, markup-like text stays text)."""
    async with frozen(engine_for) as (_, pilot):
        app: MonotuiApp = pilot.app  # type: ignore[assignment]
        for panel in (app.rollouts.detail_panel, app.rollouts.events_panel):
            base = panel.visual_style.rich_style
            lines = [*panel._lines, Text("Events", style="bold"), plain("[ERROR] db down [/]"), Text("")]
            for line in lines:
                fast, wrapped = panel._render_line(line, 60), panel._render_wrapped(line, 60, base)
                assert [(s.text, s.style) for strip in fast for s in strip] == \
                    [(s.text, s.style) for strip in wrapped for s in strip], repr(line)
