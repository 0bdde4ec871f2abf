"""A simulated production (deploys and health, on a real loopback HTTP server) with a flag server beside it: the
simulator's own Unleash Admin API or a real Unleash (`real_unleash`), and one flag of the test's own on one of the
simulated services. Used by the flag tests of the engine and of the command line."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.simulator.unleash_server import RealUnleash
from monotui.simulator.world import World
from tests.conftest import make_world
from tests.unleash_admin import UnleashAdmin

TOKEN = "sim-admin-token"


@dataclass
class Setup:
    """A simulated production (deploys and health) and a flag server (the simulator itself, or a real Unleash)."""

    kind: str
    sim: SimulatorServer
    world: World
    flags_url: str
    token: str
    admin: UnleashAdmin
    service: str  # a service of the world, with a flag of this test's own
    flag: str


@pytest.fixture
def flag_world() -> World:
    return make_world(services=3, flag_share=0)


@pytest.fixture
def flag_sim(flag_world: World) -> Iterator[SimulatorServer]:
    with SimulatorServer(flag_world, tick_interval=None, token=TOKEN) as server:
        yield server


@pytest.fixture(name="setup", params=["simulator", "unleash"])
def setup_fixture(request: pytest.FixtureRequest, flag_sim: SimulatorServer, flag_world: World) -> Iterator[Setup]:
    if request.param == "simulator":
        url, token = flag_sim.url, TOKEN
    else:
        real: RealUnleash = request.getfixturevalue("real_unleash")
        url, token = real.url, real.admin_token
    admin = UnleashAdmin(url, token)
    service = sorted(flag_world.services)[0]
    flag = f"t{uuid.uuid4().hex[:8]}-checkout"  # the real Unleash lives for the whole session: names apart
    admin.create_flag(flag, service=service, rollout=25)
    yield Setup(request.param, flag_sim, flag_world, url, token, admin, service, flag)
    admin.close()


@pytest.fixture(name="engine")
async def engine_fixture(setup: Setup, make_settings: Callable[..., Any],
                         monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Engine]:
    """An engine on both of the setup's sources (deploys and health; flags), after its first poll."""
    monkeypatch.setenv("MONOTUI_TEST_TOKEN", TOKEN)
    monkeypatch.setenv("MONOTUI_TEST_UNLEASH_TOKEN", setup.token)
    settings = make_settings(
        {"name": "prod", "kind": "http", "url": setup.sim.url, "token_env": "MONOTUI_TEST_TOKEN", "timeout": 30},
        {"name": "flags", "kind": "unleash", "url": setup.flags_url, "token_env": "MONOTUI_TEST_UNLEASH_TOKEN",
         "timeout": 30})
    async with Engine(settings) as e:
        await e.refresh_once()
        yield e
