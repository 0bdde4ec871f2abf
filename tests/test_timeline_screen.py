"""The timeline screen (T) at 80×24 against the simulator: it opens full screen on what happened, `/` filters by
service, `o` turns the order, `p` pauses (new entries wait, counted, until resumed), Esc closes; the filter and the
pause hold for the events panel too; it reads under NO_COLOR."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from monotui.action_kinds import ActionKind
from monotui.engine.core import Engine
from monotui.models import Strategy
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World
from monotui.ui.app import MonotuiApp
from monotui.ui.screens.rollouts import RolloutsScreen
from monotui.ui.screens.timeline import TimelineScreen
from monotui.ui.widgets.panels import RenderablePanel

from .conftest import make_world, wait_until
from .ui_helpers import on_world_clock, panel_text, poll_now, rows_loaded, screen_lines, settle

SIZE = (80, 24)


@pytest.fixture
def world() -> World:
    return make_world(services=4, initial_deploys=0, names=("cart-api", "search-api", "auth-api"))


@pytest.fixture
def app_for(sim: SimulatorServer, world: World, engine_for: Callable[..., Engine]) -> Callable[..., MonotuiApp]:
    def build(**overrides: Any) -> MonotuiApp:
        return on_world_clock(engine_for({"name": "prod", "kind": "http", "url": sim.url, "timeout": 10.0},
                                         **overrides), world)

    return build


def timeline(app: MonotuiApp) -> TimelineScreen:
    assert isinstance(app.screen, TimelineScreen), type(app.screen)
    return app.screen


def lines(app: MonotuiApp) -> list[str]:
    return app.screen.query_one("#timeline-list", RenderablePanel).lines


async def test_t_opens_the_timeline_filters_turns_pauses_and_closes_at_80x24(
        world: World, app_for: Callable[..., MonotuiApp]) -> None:
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await poll_now(app)
        await rows_loaded(app, 4)
        world.deploy("cart-api", strategy=Strategy.CANARY)
        world.step(2.0)
        world.deploy("search-api", strategy=Strategy.CANARY)
        world.step(2.0)
        world.act("search-api", ActionKind.PAUSE, "alice@laptop", "looks odd")
        world.step(1.0)
        await poll_now(app)

        await pilot.press("T")
        await settle(pilot)
        screen = timeline(app)
        shown = lines(app)
        assert any("cart-api" in line and "deploy started" in line for line in shown), shown
        assert any("search-api" in line and "paused" in line and "alice@laptop" in line for line in shown), shown
        times = [e.at for e in screen.entries]
        assert times == sorted(times, reverse=True)  # newest first
        assert "newest first" in str(screen.head.render())
        text = "\n".join(screen_lines(app))
        assert "Timeline" in text and "search-api" in text and "esc" in text.lower()

        await pilot.press("o")  # oldest first
        await settle(pilot)
        times = [e.at for e in screen.entries]
        assert times == sorted(times) and "oldest first" in str(screen.head.render())
        await pilot.press("o")
        await settle(pilot)

        await pilot.press("slash", *"cart", "enter")  # only cart-api
        await settle(pilot)
        assert screen.entries and {e.service for e in screen.entries} == {"cart-api"}
        assert all("search-api" not in line for line in lines(app))

        await pilot.press("p")  # paused: a new entry waits, counted
        await settle(pilot)
        before = lines(app)
        world.act("cart-api", ActionKind.PAUSE, "bob@laptop", "hold on")
        world.step(1.0)
        await poll_now(app)
        screen.rebuild()
        await settle(pilot)
        assert lines(app) == before
        assert "PAUSED, 1 new" in str(screen.head.render())
        assert "PAUSED" in "\n".join(screen_lines(app))
        await pilot.press("p")  # resumed: it is there, on top
        await settle(pilot)
        assert "bob@laptop" in lines(app)[0]

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RolloutsScreen)
        # the events panel keeps the filter: cart-api only, and says so
        events = panel_text(app, "events")
        assert "cart-api" in events and "search-api" not in events
        assert app.rollouts.events_panel.border_title == "What changed · cart · esc clears"
        # Esc on the main screen clears it: every service's events again
        await pilot.press("escape")
        await settle(pilot)
        assert app.rollouts.events_panel.border_title == "What changed"
        assert not app.rollouts.event_filter.service


async def test_the_events_panel_pauses_with_the_timeline(world: World, app_for: Callable[..., MonotuiApp]) -> None:
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await poll_now(app)
        await rows_loaded(app, 4)
        world.deploy("cart-api", strategy=Strategy.CANARY)
        world.step(1.0)
        await poll_now(app)
        await wait_until(lambda: "cart-api" in panel_text(app, "events"), what="the deploy in the events panel")
        await pilot.press("T", "p", "escape")
        await settle(pilot)
        assert app.rollouts.events_panel.border_title == "What changed · ‖ paused · esc clears"
        held = panel_text(app, "events")
        world.deploy("auth-api", strategy=Strategy.CANARY)
        world.step(1.0)
        await poll_now(app)
        await settle(pilot)
        assert panel_text(app, "events") == held  # paused: the lines hold still
        await pilot.press("T", "p", "escape")
        await settle(pilot)
        await wait_until(lambda: "auth-api" in panel_text(app, "events"), what="the new deploy once resumed")
        assert app.rollouts.events_panel.border_title == "What changed"


async def test_the_timeline_reads_under_no_color(world: World, app_for: Callable[..., MonotuiApp],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await poll_now(app)
        world.deploy("cart-api", strategy=Strategy.CANARY, bad=True)
        world.step(2.0)
        await poll_now(app)
        await pilot.press("T", "p")
        await settle(pilot)
        text = "\n".join(screen_lines(app))
        # icons and words carry the meaning: the deploy's "+", the pause in capitals
        assert "+ cart-api deploy started" in text and "PAUSED" in text, text


async def test_the_palette_opens_the_timeline_and_the_keymap_moves_its_key(
        world: World, app_for: Callable[..., MonotuiApp]) -> None:
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await poll_now(app)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Timeline")
        await settle(pilot, 0.3)
        await pilot.press("enter")
        await wait_until(lambda: isinstance(app.screen, TimelineScreen), what="the palette opens the timeline")
    app = app_for(keymap={"timeline": "ctrl+t"})
    async with app.run_test(size=SIZE) as pilot:
        await poll_now(app)
        await pilot.press("T")
        await settle(pilot)
        assert isinstance(app.screen, RolloutsScreen)
        await pilot.press("ctrl+t")
        await wait_until(lambda: isinstance(app.screen, TimelineScreen), what="the remapped key opens it")


async def test_esc_while_typing_the_filter_goes_back_to_the_list_then_closes(
        world: World, app_for: Callable[..., MonotuiApp]) -> None:
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await poll_now(app)
        await pilot.press("T", "slash", *"auth")
        await settle(pilot)
        screen = timeline(app)
        assert screen.view.service == "auth"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and app.focused is screen.panel and screen.filter_input.display
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RolloutsScreen)
