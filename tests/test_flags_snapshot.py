"""The flags at 80×24, as a snapshot (frozen world, frozen clock): the Flags indicator on the flipped service's
row and its flags in the detail panel, then the kill switch's confirmation; and under NO_COLOR. Update with
--snapshot-update."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from monotui.config import build_settings
from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import SimConfig, World
from monotui.ui.app import MonotuiApp

from .conftest import wait_until
from .test_snapshots import FROZEN, utc  # noqa: F401  (utc: an autouse fixture pinning the time zone)
from .ui_helpers import rows_loaded, select
from .unleash_admin import UnleashAdmin


@pytest.fixture
def flag_sim() -> Iterator[SimulatorServer]:
    world = World(SimConfig(services=12, seed=5, deploy_interval=0), start=FROZEN)
    for _ in range(20):
        world.step()
    with SimulatorServer(world, tick_interval=None) as server:
        yield server


def flags_app(sim: SimulatorServer, tmp_path: Path) -> MonotuiApp:
    config = build_settings({
        "sources": [{"name": "prod-eu", "kind": "http", "url": sim.url, "poll_interval": 3600},
                    {"name": "flags", "kind": "unleash", "url": sim.url, "poll_interval": 3600}],
        "actor": "oncall@bastion-1", "audit_log": str(tmp_path / "audit.log"),
    })
    world = sim.world
    return MonotuiApp(Engine(config), clock=lambda: world.now)


async def flipped(pilot: Pilot[None]) -> None:
    """A colleague turns a flag of one service on; monotui polls; that service's row is selected."""
    app: MonotuiApp = pilot.app  # type: ignore[assignment]
    await rows_loaded(app)
    await wait_until(lambda: bool(app.engine.state.all_flags()), timeout=30, what="flags listed")
    flag = sorted((f for _, f in app.engine.state.all_flags() if f.service and not f.enabled),
                  key=lambda f: f.name)[0]
    admin = UnleashAdmin(app.engine.settings.source("flags").url, "")
    try:
        admin.toggle(flag.name, True)
    finally:
        admin.close()
    await app.rollouts.action_refresh()
    select(app, next(k for k, v in app.engine.state.by_key.items() if v.rollout.service == flag.service))
    await pilot.pause()


def test_flags_80x24(snap_compare, flag_sim: SimulatorServer, tmp_path: Path) -> None:
    assert snap_compare(flags_app(flag_sim, tmp_path), terminal_size=(80, 24), run_before=flipped)


def test_kill_switch_confirmation_80x24(snap_compare, flag_sim: SimulatorServer, tmp_path: Path) -> None:
    async def open_confirm(pilot: Pilot[None]) -> None:
        await flipped(pilot)
        await pilot.press("x")
        await pilot.pause()

    assert snap_compare(flags_app(flag_sim, tmp_path), terminal_size=(80, 24), run_before=open_confirm)


def test_flags_no_color_80x24(snap_compare, flag_sim: SimulatorServer, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(flags_app(flag_sim, tmp_path), terminal_size=(80, 24), run_before=flipped)
