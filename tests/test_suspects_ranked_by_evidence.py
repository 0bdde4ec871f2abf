""""What changed?" ranked by evidence, end to end against the simulator (deploys, health and its Unleash Admin API on
one real HTTP server) and the real app: a change before the breach before one after it; a change whose share of
traffic cannot explain the rise below one that can; a change after which the figure stayed flat below the one that
moved it. `s` opens the best evidenced suspect, its dialog says why, `s` again opens the next."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monotui.engine.core import Engine
from monotui.models import Phase, Strategy
from monotui.simulator.flags import PRODUCTION
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import SimConfig, World
from monotui.ui.app import MonotuiApp
from monotui.ui.screens.confirm import ConfirmActionScreen
from monotui.ui.screens.confirm_flag import ConfirmFlagScreen

from .ui_helpers import on_world_clock, panel_text, poll_now, rows_loaded, select, settle, static_text

TOKEN = "sim-admin-token"
SERVICE = "cart-api"


@pytest.fixture
def world() -> World:
    """Three services, no flags but the test's own, nothing moving unless the test says (its clock too)."""
    return World(SimConfig(services=3, seed=3, deploy_interval=0, flag_share=0, initial_deploys=0,
                           names=(SERVICE, "search-api", "auth-api")),
                 start=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30))


@pytest.fixture
def sim(world: World) -> Iterator[SimulatorServer]:
    with SimulatorServer(world, tick_interval=None, token=TOKEN) as server:
        yield server


@pytest.fixture
def app_for(sim: SimulatorServer, world: World, make_settings: Callable[..., Any],
            monkeypatch: pytest.MonkeyPatch) -> Callable[[], MonotuiApp]:
    """The app on the simulator, polling only when the test says, on the simulator's clock."""
    monkeypatch.setenv("MONOTUI_TEST_TOKEN", TOKEN)

    def build() -> MonotuiApp:
        settings = make_settings(
            {"name": "prod", "kind": "http", "url": sim.url, "token_env": "MONOTUI_TEST_TOKEN", "timeout": 10.0},
            {"name": "flags", "kind": "unleash", "url": sim.url, "token_env": "MONOTUI_TEST_TOKEN",
             "timeout": 10.0})
        return on_world_clock(Engine(settings), world)

    return build


def add_flag(world: World, name: str, rollout: int, *, bad: bool) -> None:
    """A flag of SERVICE, off in production for now, at `rollout` % once on."""
    flags = world.flags
    flags.create("default", name)
    flags.tag(name, "service", SERVICE)
    flags.add_strategy("default", name, PRODUCTION, "flexibleRollout",
                       {"rollout": str(rollout), "stickiness": "default", "groupId": name})
    if bad:
        flags.mark_bad("default", name)
    for _ in range(100):  # its creation is history: older than the 15 minutes "What changed?" looks at
        world.step(10.0)


def turn_on(world: World, name: str, actor: str) -> None:
    world.flags.set_enabled("default", name, PRODUCTION, True, actor=actor)


def error_ratio(world: World) -> float:
    return next(h.error_ratio for h in world.health() if h.service == SERVICE)


def suspect_lines(app: MonotuiApp) -> list[str]:
    return [line for line in panel_text(app, "detail").splitlines() if line.startswith("⚠ SUSPECT")]


def row_of(app: MonotuiApp) -> str:
    return next(key for key, view in app.engine.state.by_key.items() if view.rollout.service == SERVICE)


async def test_an_innocent_flag_flipped_after_a_bad_deploys_spike_is_not_offered_first(
        world: World, app_for: Callable[[], MonotuiApp]) -> None:
    add_flag(world, f"{SERVICE}.fast-path", 25, bad=False)
    app = app_for()
    async with app.run_test(size=(140, 40)) as pilot:
        await poll_now(app)
        await rows_loaded(app)
        world.deploy(SERVICE, bad=True, strategy=Strategy.CANARY)
        while error_ratio(world) < 0.05:  # the bad canary's errors spike
            world.step()
            await poll_now(app)
        for _ in range(100):  # its analysis fails: the canary stops where it is (no auto-rollback here)
            if world.rollout(SERVICE).phase is Phase.DEGRADED:
                break
            world.step()
        assert world.rollout(SERVICE).phase is Phase.DEGRADED
        await poll_now(app)
        world.step(2.0)
        turn_on(world, f"{SERVICE}.fast-path", "bob")  # someone tries a flag, after the spike
        world.step(0.5)
        await poll_now(app)

        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmActionScreen), type(app.screen)
        assert app.screen.plan.rollout.service == SERVICE
        why = static_text(app, "#suspect-why")
        assert why.startswith("Suspect 1 of 2: before the breach"), why
        await pilot.press("escape")
        await settle(pilot)
        select(app, row_of(app))
        await pilot.pause()
        lines = suspect_lines(app)
        assert len(lines) == 2, lines
        assert lines[0].startswith("⚠ SUSPECT error ratio") and "#1 of 2: before the breach" in lines[0], lines
        assert "fast-path" in lines[1] and "#2 of 2: after the breach" in lines[1], lines

        await pilot.press("s")  # again: the next
        await settle(pilot)
        assert isinstance(app.screen, ConfirmFlagScreen), type(app.screen)
        assert "Suspect 2 of 2: after the breach" in static_text(app, "#suspect-why")


async def test_a_guilty_flag_beside_a_blue_green_release_at_no_traffic_is_offered_and_the_release_is_not_the_cause(
        world: World, app_for: Callable[[], MonotuiApp]) -> None:
    add_flag(world, f"{SERVICE}.new-checkout", 50, bad=True)
    app = app_for()
    async with app.run_test(size=(160, 40)) as pilot:
        await poll_now(app)
        await rows_loaded(app)
        world.step(1.0)
        await poll_now(app)
        turn_on(world, f"{SERVICE}.new-checkout", "alice")  # the bad flip
        world.step(0.5)
        world.deploy(SERVICE, strategy=Strategy.BLUE_GREEN, manual_gate=True)  # a preview, no traffic yet
        world.step(0.5)
        assert world.rollout(SERVICE).actual_weight == 0 and error_ratio(world) >= 0.1
        await poll_now(app)

        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmFlagScreen), type(app.screen)
        assert app.screen.plan.flag.name == f"{SERVICE}.new-checkout"
        assert static_text(app, "#suspect-why").startswith("Suspect 1 of 2: before the breach, 50% of traffic")
        await pilot.press("escape")
        await settle(pilot)
        select(app, row_of(app))
        await pilot.pause()
        lines = suspect_lines(app)
        assert len(lines) == 2, lines
        flag_line, release_line = lines
        assert "SUSPECT FLAG" in flag_line and "#1 of 2: before the breach, 50% of traffic" in flag_line, lines
        before = float(flag_line.split("error ratio ")[1].split("%")[0]) / 100
        assert before < 0.05, flag_line  # the figure before the flip, not after it
        assert "before it started →" not in release_line, release_line  # not read as its doing
        assert "not from it: it serves 0% of traffic" in release_line and "#2 of 2" in release_line, release_line
        assert "cannot explain" in release_line


async def test_an_innocent_deploy_and_a_guilty_flag_in_the_same_minute_offer_the_flag(
        world: World, app_for: Callable[[], MonotuiApp]) -> None:
    add_flag(world, f"{SERVICE}.v2-ranking", 25, bad=True)
    app = app_for()
    async with app.run_test(size=(160, 40)) as pilot:
        await poll_now(app)
        await rows_loaded(app)
        world.deploy(SERVICE, strategy=Strategy.CANARY)  # a good release
        for _ in range(4):  # its canary takes traffic; monotui reads the health as it goes
            world.step(5.0)
            await poll_now(app)
        assert error_ratio(world) < 0.05
        world.step(0.5)
        turn_on(world, f"{SERVICE}.v2-ranking", "carol")  # the bad flip, 20 s after the deploy
        world.step(1.0)
        assert error_ratio(world) >= 0.05
        await poll_now(app)

        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmFlagScreen), type(app.screen)
        assert app.screen.plan.flag.name == f"{SERVICE}.v2-ranking"
        await pilot.press("escape")
        await settle(pilot)
        select(app, row_of(app))
        await pilot.pause()
        lines = suspect_lines(app)
        assert len(lines) == 2, lines
        assert "SUSPECT FLAG" in lines[0] and "#1 of 2: before the breach, 25% of traffic" in lines[0], lines
        assert "#2 of 2: before the breach" in lines[1] and "flat after it until another change" in lines[1], lines
        assert "before it started →" not in lines[1], lines  # the rise is not read as the deploy's doing
