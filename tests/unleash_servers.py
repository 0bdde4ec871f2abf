"""A flag server of each kind, the same scenario on both: the simulator's Unleash Admin API and the real Unleash 7.5
(on PostgreSQL, one for the whole session). A test module imports the fixture functions; pytest knows them by their
`name`: `server` (parametrized over both), `simulated_unleash`, `real_flag_server`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from monotui.simulator.server import SimulatorServer
from monotui.simulator.unleash_server import RealUnleash
from monotui.simulator.world import SimConfig, World
from tests.conftest import START
from tests.unleash_admin import UnleashAdmin

SIM_TOKEN = "sim-admin-token"


@dataclass
class FlagServer:
    kind: str
    url: str
    token: str
    admin: UnleashAdmin


@pytest.fixture(name="simulated_unleash")
def simulated_unleash_fixture() -> Iterator[FlagServer]:
    world = World(SimConfig(services=2, deploy_interval=0, flag_share=0), start=START)
    with SimulatorServer(world, tick_interval=None, token=SIM_TOKEN) as sim:
        admin = UnleashAdmin(sim.url, SIM_TOKEN)
        yield FlagServer("simulator", sim.url, SIM_TOKEN, admin)
        admin.close()


@pytest.fixture(name="real_flag_server")
def real_flag_server_fixture(real_unleash: RealUnleash) -> Iterator[FlagServer]:
    admin = UnleashAdmin(real_unleash.url, real_unleash.admin_token)
    yield FlagServer("unleash", real_unleash.url, real_unleash.admin_token, admin)
    admin.close()


@pytest.fixture(name="server", params=["simulator", "unleash"])
def server_fixture(request: pytest.FixtureRequest) -> FlagServer:
    fixture = "simulated_unleash" if request.param == "simulator" else "real_flag_server"
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]
