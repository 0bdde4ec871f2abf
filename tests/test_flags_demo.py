"""The demo's flags: with nothing but pip the demo reads the simulator's flags, a bad flag flip becomes a suspect
and turning the flag off mends its service; `demo --unleash` serves them from a real Unleash kept in step with the
simulated production, or says what is missing and how to install it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monotui.cli import Globals, demo_settings, main
from monotui.engine import Engine
from monotui.simulator.flags import PRODUCTION
from monotui.simulator.server import SimulatorServer
from monotui.simulator.unleash_mirror import UnleashMirror
from monotui.simulator.unleash_server import NPM_PACKAGE, RealUnleash
from monotui.simulator.world import World
from tests.conftest import make_world, wait_until
from tests.unleash_admin import UnleashAdmin


@pytest.fixture
def world() -> World:
    return make_world(services=6, flag_share=1.0, seed=5)


@pytest.fixture
def sim(world: World) -> Iterator[SimulatorServer]:
    with SimulatorServer(world, tick_interval=None) as server:
        yield server


def service_with_flag(world: World) -> tuple[str, str]:
    """A healthy service and its flag (off in production, so turning it on is the bad change)."""
    flag = next(f for f in sorted(world.flags.flags.values(), key=lambda f: f.name) if f.service())
    world.flags.set_enabled(flag.project, flag.name, PRODUCTION, False)
    service = flag.service()
    assert service is not None
    return service, flag.name


async def test_a_bad_flag_flip_in_the_demo_is_a_suspect_and_turning_it_off_mends_it(
        sim: SimulatorServer, world: World, audit_path: Path, tmp_path: Path) -> None:
    config = tmp_path / "monotui.toml"
    config.write_text(f'audit_log = "{audit_path}"\n')
    settings = demo_settings(Globals(config=str(config)), sim.url)
    assert [s.kind for s in settings.sources] == ["http", "unleash"]  # the demo shows flags with nothing but pip
    service, name = service_with_flag(world)
    async with Engine(settings) as engine:
        await engine.refresh_once()
        world.flags.mark_bad("default", name)
        world.flags.set_enabled("default", name, PRODUCTION, True, actor="dana")  # the bad flip
        world.step(1.0)
        await engine.refresh_once()
        await engine.refresh_once()  # health and the flip, whatever order the two sources answered in
        [suspect] = [s for s in engine.state.suspects() if s.kind == "flag"]
        assert suspect.flag is not None and suspect.flag.name == name and suspect.service == service
        assert suspect.evidence.actor == "dana" and suspect.evidence.now >= 0.05

        flag = engine.state.flag("flags", name)
        assert flag is not None
        outcome = await engine.execute_flag(engine.plan_flag("flags", flag, False), "demo", confirmed_by="dialog")
        assert outcome.ok, outcome.message()
        world.step(1.0)
        await engine.refresh_once()
        assert service not in engine.state.breach_since  # mended
        assert [s for s in engine.state.suspects() if s.kind == "flag"] == []


def test_demo_unleash_without_the_tools_says_what_is_missing_and_how_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MONOTUI_UNLEASH_DIR", str(tmp_path / "empty"))  # no unleash-server installed there
    (tmp_path / "monotui.toml").write_text(f'audit_log = "{tmp_path / "audit.log"}"\n')
    monkeypatch.setenv("MONOTUI_CONFIG", str(tmp_path / "monotui.toml"))
    assert main(["demo", "--unleash"]) == 2
    err = capsys.readouterr().err
    assert f"{NPM_PACKAGE} is not installed in {tmp_path / 'empty'}" in err
    assert "bash .ci/run" in err and "npm install --prefix" in err


async def test_the_real_unleash_of_the_demo_follows_the_simulated_production(
        real_unleash: RealUnleash, world: World) -> None:
    service, name = service_with_flag(world)
    admin = UnleashAdmin(real_unleash.url, real_unleash.admin_token)
    try:
        with UnleashMirror(world.flags, real_unleash.url, real_unleash.admin_token, interval=0.1):
            for flag in world.flags.flags.values():  # seeded: every flag of the world, as it is in the world
                assert admin.enabled(flag.name, PRODUCTION) == flag.enabled[PRODUCTION]
            world.flags.mark_bad("default", name)
            world.flags.set_enabled("default", name, PRODUCTION, True, actor="dana")  # a flip in the world
            await wait_until(lambda: admin.enabled(name, PRODUCTION), timeout=30, step=0.1,
                             what="the flip replayed onto Unleash")
            assert world.flags.error_boost(service) > 0
            admin.toggle(name, False)  # the kill switch, on Unleash
            await wait_until(lambda: world.flags.error_boost(service) == 0, timeout=30, step=0.1,
                             what="the simulated service mended")
    finally:
        admin.close()


async def test_the_demo_shows_a_flag_flip_in_the_events_panel(
        sim: SimulatorServer, world: World, audit_path: Path, tmp_path: Path) -> None:
    from tests.ui_helpers import make_app, panel_text, rows_loaded

    config = tmp_path / "monotui.toml"
    config.write_text(f'audit_log = "{audit_path}"\n')
    settings = demo_settings(Globals(config=str(config)), sim.url)
    service, name = service_with_flag(world)
    app = make_app(Engine(settings))
    async with app.run_test(size=(160, 50)):
        await rows_loaded(app)
        world.flags.set_enabled("default", name, PRODUCTION, True, actor="dana")
        await wait_until(lambda: f"{name}: enabled" in panel_text(app, "events"), timeout=30,
                         what="the flip in the events panel")
        line = next(line for line in panel_text(app, "events").splitlines() if f"{name}: enabled" in line)
        assert service in line
