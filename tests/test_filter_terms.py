"""The `/` filter: its match count beside it, a hint when nothing matches, `!term` inverts, a regular expression
when the term looks like one (a bad one says so and is matched as text), the `@source` and `ns:` scopes, and
`Esc` clears it — driven with Pilot at 80×24."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual import events
from textual.pilot import Pilot

from monotui.engine.core import Engine
from monotui.models import Strategy
from monotui.render.row_filter import SCOPES, looks_like_regex, parse
from monotui.simulator.server import SimulatorServer
from monotui.ui.app import MonotuiApp

from .conftest import wait_until
from .ui_helpers import make_app, rows_loaded, screen_lines, settle, static_text


def shown(app: MonotuiApp) -> list[str]:
    return list(app.rollouts.table._order)


async def type_filter(pilot: Pilot[None], text: str) -> None:
    await pilot.press("slash", *text)
    await settle(pilot)


@pytest.fixture
def app(sim: SimulatorServer, engine_for: Callable[..., Engine]) -> MonotuiApp:
    east = {"name": "east", "kind": "http", "url": sim.url, "poll_interval": 60.0, "timeout": 10.0}
    return make_app(engine_for(east))


async def test_the_count_and_the_hint_beside_the_filter(app: MonotuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app, 8)
        await type_filter(pilot, "cart")
        assert shown(app) == ["east/cart-api"]
        assert static_text(app, "#filter-status") == "1 of 8 match"
        assert any("1 of 8 match" in line for line in screen_lines(app)), "on screen at 80 columns"
        await pilot.press(*"zzz")
        await settle(pilot)
        assert shown(app) == []
        assert static_text(app, "#filter-status") == "no rollout matches — esc clears"
        await pilot.press("escape")  # while typing in the filter
        await settle(pilot)
        assert len(shown(app)) == 8 and not app.rollouts.filter_bar.display
        assert app.rollouts.filter_text == ""


async def test_bang_inverts(app: MonotuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app, 8)
        await type_filter(pilot, "!cart")
        assert "east/cart-api" not in shown(app) and len(shown(app)) == 7
        assert static_text(app, "#filter-status") == "7 of 8 match"


async def test_a_regular_expression_when_it_looks_like_one(app: MonotuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app, 8)
        await type_filter(pilot, "/^c.*api$/")
        rows = shown(app)
        assert rows and all(r.split("/")[1].startswith("c") and r.endswith("api") for r in rows)
        await pilot.press("escape")
        await type_filter(pilot, "^(cart|auth)-api$")
        assert sorted(shown(app)) == ["east/auth-api", "east/cart-api"]


async def test_a_bad_regular_expression_says_so_and_does_not_crash(app: MonotuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app, 8)
        await type_filter(pilot, "cart(")
        status = static_text(app, "#filter-status")
        assert "not a regular expression" in status and "matched as text" in status, status
        assert shown(app) == []  # no service has "cart(" in its name
        assert app.is_running


async def test_source_and_namespace_scopes(app: MonotuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app, 8)
        await type_filter(pilot, "@east")
        assert len(shown(app)) == 8
        await pilot.press("escape")
        await type_filter(pilot, "@west")
        assert shown(app) == []
        await pilot.press("escape")
        environment = app.engine.state.view("east/cart-api").rollout.environment  # a deploy API's namespace
        await type_filter(pilot, f"ns:{environment} cart")
        assert shown(app) == ["east/cart-api"]
        await pilot.press("escape")
        await type_filter(pilot, "!@east")
        assert shown(app) == []


def test_scopes_are_one_table_and_the_regex_rule() -> None:
    assert [s.prefix for s in SCOPES] == ["@", "ns:", "team:"]
    assert looks_like_regex("/pay/") and looks_like_regex("^pay") and looks_like_regex("a|b")
    assert not looks_like_regex("v2.3") and not looks_like_regex("cart-api")
    assert parse("v2.3").terms[0].pattern is None
    assert parse("[").problem is not None


def burst(app: MonotuiApp, keys: str) -> None:
    """Keys as a terminal delivers a fast typist's (or a paste's) burst: all queued before the app handles the first."""
    names = {"/": "slash", "\r": "enter", "\x1b": "escape", "-": "minus"}
    for ch in keys:
        app.post_message(events.Key(names.get(ch, ch), None if ch == "\x1b" else ch))


@pytest.mark.parametrize("leave", ["\r", "\x1b"])
async def test_keys_typed_right_after_the_filter_closes_reach_the_table(app: MonotuiApp, sim: SimulatorServer,
                                                                      leave: str) -> None:
    """`/cart⏎p` in one burst: the `p` is the table's pause key, not a letter of the filter (nor lost)."""
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app, 8)
        burst(app, f"/cart{leave}p")
        await wait_until(lambda: len(app.screen_stack) > 1 or app.rollouts.filter_text not in ("", "cart"),
                         what="the burst handled")
        await settle(pilot)
        assert app.rollouts.filter_text == ("cart" if leave == "\r" else "")
        assert app.rollouts.focused is app.rollouts.table, "the table has the keys again"
        assert app.rollouts.table.selected_key == "east/cart-api"
        assert len(app.screen_stack) == 2, "p reached the table: the pause confirmation is open"
        assert "Pause cart-api" in "\n".join(screen_lines(app))


async def test_the_count_is_drawn_again_only_when_it_changes(app: MonotuiApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """The count is set at every tick and poll; setting a text lays the whole screen out again (it may wrap), a
    cost that at 10,000 services delayed keys: it is set only when it changes."""
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app, 8)
        status = app.rollouts.filter_status
        updates: list[object] = []
        update = status.update
        monkeypatch.setattr(status, "update", lambda *a, **k: (updates.append(a), update(*a, **k))[1])
        for _ in range(3):
            app.rollouts.refresh_views(force=True)  # what each tick of the clock does
        assert updates == []
        await type_filter(pilot, "cart")  # c, ca, car, cart: a count per change (8, 7, 1 of 8)
        assert static_text(app, "#filter-status") == "1 of 8 match"
        assert [str(text) for (text,) in updates] == ["8 of 8 match", "7 of 8 match", "1 of 8 match"]
        for _ in range(3):
            app.rollouts.refresh_views(force=True)
        assert len(updates) == 3
        await pilot.press("escape")
        await settle(pilot)
        assert static_text(app, "#filter-status").strip() == "" and len(updates) == 4
