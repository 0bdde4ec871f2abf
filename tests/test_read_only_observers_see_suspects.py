"""A read-only session (`--read-only`, and so every `monotui serve` tab) sees what an operator sees — the "⚠ N
suspect" banner, the suspect row and its evidence — with actions refused; it says "READ-ONLY — watching" and shows
no actor (the login of the host it runs on is not who is watching)."""

from __future__ import annotations

from collections.abc import Callable

from monotui.engine.core import Engine
from monotui.serve import session_command
from monotui.simulator.server import SimulatorServer

from .conftest import ACTOR, make_world, wait_until
from .test_suspects import go_bad
from .ui_helpers import make_app, notifications, panel_text, rows_loaded, settle


async def test_a_read_only_session_shows_the_suspect_and_its_evidence_and_refuses_to_act(
        engine_for: Callable[..., Engine]) -> None:
    world = make_world(initial_deploys=0)
    with SimulatorServer(world, tick_interval=None) as sim:
        go_bad(world, "cart-api")
        app = make_app(engine_for({"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 60},
                                  read_only=True))
        async with app.run_test(size=(120, 35)) as pilot:
            await rows_loaded(app)
            await wait_until(lambda: "suspect" in app.rollouts.banner.content.plain, what="the suspect banner")
            banner = app.rollouts.banner.content.plain
            assert "⚠ 1 suspect" in banner and "READ-ONLY — watching" in banner
            assert ACTOR not in banner
            assert app.rollouts.table._order[0] == "prod/cart-api"
            app.rollouts.table.move_cursor(row=0)
            await pilot.pause()
            assert "SUSPECT" in panel_text(app, "detail")
            await pilot.press("s")
            await settle(pilot)
            assert app.screen is app.rollouts, "no dialog in a read-only session"
            assert any("read-only" in n.lower() for n in notifications(app))


async def test_an_operator_still_sees_its_actor_and_the_suspect_key(engine_for: Callable[..., Engine]) -> None:
    world = make_world(initial_deploys=0)
    with SimulatorServer(world, tick_interval=None) as sim:
        go_bad(world, "cart-api")
        app = make_app(engine_for({"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 60}))
        async with app.run_test(size=(120, 35)):
            await rows_loaded(app)
            await wait_until(lambda: "suspect" in app.rollouts.banner.content.plain, what="the suspect banner")
            banner = app.rollouts.banner.content.plain
            assert "⚠ 1 suspect — s" in banner and ACTOR in banner and "watching" not in banner


def test_every_serve_tab_is_such_a_read_only_session() -> None:
    assert "--read-only" in session_command(None)
