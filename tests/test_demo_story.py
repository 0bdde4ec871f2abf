"""The demo's story: with the demo's own world (the default seed) a bad deploy and a bad flag flip are each flagged
as a suspect within the first 60 s, and each is fixed in 3 keys (`s`, Tab, Enter) at 80×24."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from monotui.cli import DEMO_PROTECTED, Globals, _world, demo_settings
from monotui.config import Settings
from monotui.engine import Engine
from monotui.models import Phase
from monotui.simulator import story
from monotui.simulator.flags import PRODUCTION
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World
from monotui.ui.app import MonotuiApp

from .conftest import wait_until
from .ui_helpers import rows_loaded, settle

FIRST_MINUTE = 60.0


def demo_world() -> World:
    """`monotui demo`'s world with its defaults (12 services, seed 1, a deploy every 5 s on average)."""
    return _world(services=12, seed=1, deploy_interval=5.0, bad_probability=0.2, auto_rollback=False, staged=True)


@pytest.fixture
def world() -> World:
    return demo_world()


@pytest.fixture
def sim(world: World) -> Iterator[SimulatorServer]:
    with SimulatorServer(world, tick_interval=None) as server:
        yield server


def settings_for(url: str, audit: Path) -> Settings:
    config = audit.parent / "monotui.toml"
    config.write_text(f'audit_log = "{audit}"\nactor = "oncall@bastion-1"\n')
    return demo_settings(Globals(config=str(config)), url)


def step_to(world: World, elapsed: float) -> None:
    while world.elapsed < elapsed:
        world.step()


async def test_both_drills_are_suspects_within_the_first_minute_in_simulated_time(sim: SimulatorServer,
                                                                                   world: World) -> None:
    first: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        async with Engine(settings_for(sim.url, Path(folder) / "audit.log")) as engine:
            engine.state.clock = lambda: world.now
            while world.elapsed < FIRST_MINUTE:
                step_to(world, world.elapsed + 1.0)
                await engine.refresh_once()
                for suspect in engine.state.suspects():
                    first.setdefault(suspect.kind, world.elapsed)
    assert first.get("rollout", 99) <= 15.0, first
    assert story.BAD_FLAG_AT <= first.get("flag", 99) <= story.BAD_FLAG_AT + 5.0, first


def test_the_flag_drill_avoids_protected_services_and_keeps_its_service_quiet() -> None:
    world = demo_world()
    step_to(world, story.BAD_FLAG_AT + 0.5)
    [flag] = [f for f in world.flags.flags.values() if f.bad]
    service = flag.service()
    assert service not in DEMO_PROTECTED and flag.production_share() == story.BAD_FLAG_ROLLOUT / 100
    assert service in world.quiet
    step_to(world, story.BAD_FLAG_AT + story.QUIET_FOR + 1.0)
    assert service not in world.quiet


async def wait_suspect(app: MonotuiApp, kind: str) -> str:
    def found() -> bool:
        suspect = app.rollouts.suspect()
        return suspect is not None and (suspect.flag is not None) == (kind == "flag")

    await wait_until(found, timeout=30, what=f"a {kind} suspect on screen")
    suspect = app.rollouts.suspect()
    assert suspect is not None
    assert "suspect" in app.rollouts.banner.content.plain
    return suspect.view.rollout.service


async def fix_in_three_keys(pilot: Pilot[None]) -> None:
    await pilot.press("s")
    await settle(pilot)
    await pilot.press("tab")  # Cancel has the focus: Tab moves it to the confirm button
    await pilot.press("enter")
    await settle(pilot)


async def deploy_drill(app: MonotuiApp, pilot: Pilot[None], world: World) -> None:
    step_to(world, 15.0)
    service = await wait_suspect(app, "rollout")
    bad = world.services[service].current
    assert bad.bad
    await fix_in_three_keys(pilot)
    await wait_until(lambda: world.services[service].current.revision != bad.revision, timeout=30,
                     what="the bad release rolled back")
    assert world.services[service].phase is Phase.HEALTHY


def drill_app(sim: SimulatorServer, world: World, audit_path: Path) -> MonotuiApp:
    """The demo's app on the story's world, polling, its clock the world's (the story's time is simulated)."""
    audit_path.parent.mkdir(parents=True, exist_ok=True)
    engine = Engine(settings_for(sim.url, audit_path))
    engine.state.clock = lambda: world.now
    return MonotuiApp(engine, clock=lambda: world.now)


async def test_the_bad_deploy_drill_in_three_keys_at_80x24(sim: SimulatorServer, world: World,
                                                           audit_path: Path) -> None:
    app = drill_app(sim, world, audit_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app)
        await deploy_drill(app, pilot, world)


async def test_the_bad_flag_flip_drill_in_three_keys_at_80x24(sim: SimulatorServer, world: World,
                                                              audit_path: Path) -> None:
    app = drill_app(sim, world, audit_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app)
        await deploy_drill(app, pilot, world)  # the story's first minute: the deploy first
        step_to(world, story.BAD_FLAG_AT + 1.0)
        assert world.elapsed < FIRST_MINUTE
        service = await wait_suspect(app, "flag")
        [flag] = [f for f in world.flags.flags.values() if f.bad and f.service() == service]
        await fix_in_three_keys(pilot)
        await wait_until(lambda: not flag.enabled[PRODUCTION], timeout=30, what="the bad flag turned off")
        assert world.flags.error_boost(service) == 0.0
