"""A breach stays on the timeline after the health series has moved past it: at 80×24 the timeline screen (T)
still lists "health breached" a minute after the service crossed its threshold (the series holds the last seconds
only, and what the state saw was dropped for a service with a series); and `monotui timeline`, one poll, lists a
breach that began before the series does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from monotui.cli import main
from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World
from monotui.ui.app import MonotuiApp
from monotui.ui.screens.timeline import TimelineScreen
from monotui.ui.widgets.panels import RenderablePanel

from .conftest import make_world, wait_until
from .ui_helpers import poll_now, rows_loaded, screen_lines, settle

SERVICE = "search-api"


@pytest.fixture
def world() -> World:
    return make_world(services=3, initial_deploys=0, names=("cart-api", SERVICE, "auth-api"))


def breach(world: World) -> None:
    world.services[SERVICE].base_error = 0.2  # its errors jump over 5% and stay there


async def test_the_timeline_screen_keeps_a_breach_after_the_series_moved_on_at_80x24(
        sim: SimulatorServer, world: World, engine_for: Callable[..., Engine]) -> None:
    engine = engine_for({"name": "prod", "kind": "http", "url": sim.url, "timeout": 10.0})
    engine.state.clock = lambda: world.now
    app = MonotuiApp(engine, poll=False, clock=lambda: world.now)
    async with app.run_test(size=(80, 24)) as pilot:
        await poll_now(app)
        await rows_loaded(app, 3)
        breach(world)
        world.step(2.0)
        await app.engine.refresh_once()
        for _ in range(120):  # a minute: the series (its last seconds) is over the threshold from first to last
            world.step(0.5)
        await poll_now(app)
        await pilot.press("T")
        await wait_until(lambda: isinstance(app.screen, TimelineScreen), what="the timeline")
        await settle(pilot)
        lines = app.screen.query_one("#timeline-list", RenderablePanel).lines
        assert any(SERVICE in line and "health breached" in line for line in lines), lines
        assert any(SERVICE in line and "health breached" in line for line in screen_lines(app)), screen_lines(app)


def test_the_timeline_command_lists_a_breach_that_began_before_its_series(
        sim: SimulatorServer, world: World, tmp_path: Path, audit_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    breach(world)
    for _ in range(120):  # a minute: the series (its last seconds) is over the threshold from first to last
        world.step(0.5)
    config = tmp_path / "config.toml"
    config.write_text(f'audit_log = "{audit_path}"\n\n[[sources]]\nname = "prod"\nkind = "http"\n'
                      f'url = "{sim.url}"\ntimeout = 10.0\n')
    assert main(["--config", str(config), "timeline", "--since", "2h"]) == 0
    out = capsys.readouterr().out
    assert any(SERVICE in line and "health breached" in line for line in out.splitlines()), out
