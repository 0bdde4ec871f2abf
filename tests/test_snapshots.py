"""Layout snapshots at 80×24 and 120×35 (frozen world, frozen clock). Update with --snapshot-update."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot

from monotui.config import build_settings
from monotui.engine.core import Engine
from monotui.models import Strategy
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import SimConfig, World
from monotui.ui.app import MonotuiApp

from .ui_helpers import rows_loaded, select

FROZEN = datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Event times show in local time: pin the zone so snapshots match on every machine."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def frozen_sim() -> Iterator[SimulatorServer]:
    world = World(SimConfig(services=12, seed=5, deploy_interval=0), start=FROZEN)
    world.deploy("cart-api", strategy=Strategy.CANARY, manual_gate=True)
    for _ in range(80):  # 40 simulated seconds: a bad canary degrades, a gate waits for a human
        world.step()
    with SimulatorServer(world, tick_interval=None) as server:
        yield server


def frozen_app(sim: SimulatorServer, tmp_path: Path, **settings: object) -> MonotuiApp:
    config = build_settings({
        "sources": [{"name": "prod-eu", "kind": "http", "url": sim.url, "poll_interval": 3600}],
        "actor": "oncall@bastion-1", "audit_log": str(tmp_path / "audit.log"), **settings,
    })
    world = sim.world
    return MonotuiApp(Engine(config), clock=lambda: world.now)


async def loaded(pilot: Pilot[None]) -> None:
    await rows_loaded(pilot.app)  # type: ignore[arg-type]
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 35)], ids=["80x24", "120x35"])
def test_main_screen(snap_compare, frozen_sim: SimulatorServer, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(frozen_app(frozen_sim, tmp_path), terminal_size=size, run_before=loaded)


def test_confirm_rollback_80x24(snap_compare, frozen_sim: SimulatorServer, tmp_path: Path) -> None:
    async def open_confirm(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        app: MonotuiApp = pilot.app  # type: ignore[assignment]
        select(app, app.rollouts.table._order[1])
        await pilot.press("b")
        await pilot.pause()

    app = frozen_app(frozen_sim, tmp_path, protected_services=["orders-api"])
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_confirm)


def test_read_only_120x35(snap_compare, frozen_sim: SimulatorServer, tmp_path: Path) -> None:
    assert snap_compare(frozen_app(frozen_sim, tmp_path, read_only=True), terminal_size=(120, 35),
                        run_before=loaded)


def test_no_color_80x24(snap_compare, frozen_sim: SimulatorServer, tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR: the terminal's own colours; PRODUCTION and the cursor in reverse, Degraded in bold, an error ratio
    over its threshold bold and underlined."""
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(frozen_app(frozen_sim, tmp_path), terminal_size=(80, 24), run_before=loaded)


def test_16_colours_80x24(snap_compare, frozen_sim: SimulatorServer, tmp_path: Path) -> None:
    """The ANSI theme: only the terminal's 16 colours, as over an old SSH client or in a plain tmux."""
    assert snap_compare(frozen_app(frozen_sim, tmp_path, theme="ansi-dark"), terminal_size=(80, 24),
                        run_before=loaded)
