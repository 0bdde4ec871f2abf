"""Under NO_COLOR bold is a signal — what needs a human — so at 80×24 a paused rollout's service name is bold and a
healthy one's is not (every name was bold, and the signal was lost). In colour every name stays bold."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from monotui.action_kinds import ActionKind
from monotui.engine.core import Engine
from monotui.models import Strategy
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World
from monotui.ui.app import MonotuiApp

from .conftest import make_world
from .ui_helpers import poll_now, rows_loaded, settle


@pytest.fixture
def world() -> World:
    return make_world(services=3, initial_deploys=0, names=("cart-api", "search-api", "auth-api"))


def name_is_bold(app: MonotuiApp, name: str) -> bool:
    """Whether the service name, where the table draws it, is drawn bold."""
    for strip in app.screen._compositor.render_strips():
        if f" {name} " in strip.text and "Service" not in strip.text:
            segment = next(s for s in strip if name in s.text)
            return bool(segment.style and segment.style.bold)
    raise AssertionError(f"{name} not on screen")


@pytest.mark.parametrize("no_color", [True, False])
async def test_service_names_bold_only_where_a_human_is_needed_under_no_color(
        no_color: bool, sim: SimulatorServer, world: World, engine_for: Callable[..., Engine],
        monkeypatch: pytest.MonkeyPatch) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    for name in ("cart-api", "auth-api"):  # two paused rows: one has the cursor, the other does not
        world.deploy(name, strategy=Strategy.CANARY)
        world.step(2.0)
        world.act(name, ActionKind.PAUSE, "alice@laptop", "looks odd")
        world.step(1.0)
    engine = engine_for({"name": "prod", "kind": "http", "url": sim.url, "timeout": 10.0})
    engine.state.clock = lambda: world.now
    app = MonotuiApp(engine, poll=False, clock=lambda: world.now)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color is no_color
        await poll_now(app)
        await rows_loaded(app, 3)
        await settle(pilot)
        assert name_is_bold(app, "cart-api") and name_is_bold(app, "auth-api"), "paused: waits for a human"
        assert name_is_bold(app, "search-api") is not no_color, "healthy: bold only in colour"
