"""The `:` command line (k9s): commands of the command table by their word, jumps through the filter's scopes, a
service's row, Tab completion; a command that cannot act says why; unknown words say so. Driven with Pilot at
80×24."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from monotui.engine.core import Engine
from monotui.render.row_filter import SCOPES
from monotui.simulator.server import SimulatorServer
from monotui.ui.app import MonotuiApp
from monotui.ui.command_line import COMMAND_WORDS, SCOPE_WORDS, parse, words_of
from monotui.ui.commands import COMMANDS
from monotui.ui.screens.command_line import CommandLineScreen
from monotui.ui.screens.confirm_freeze import ConfirmFreezeScreen

from .ui_helpers import make_app, notifications, rows_loaded, screen_lines, settle


@pytest.fixture
def app(sim: SimulatorServer, engine_for: Callable[..., Engine]) -> MonotuiApp:
    east = {"name": "east", "kind": "http", "url": sim.url, "poll_interval": 60.0, "timeout": 10.0}
    return make_app(engine_for(east))


async def command(pilot: Pilot[None], typed: str, *keys: str) -> None:
    await pilot.press("colon")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CommandLineScreen)
    await pilot.press(*typed, *keys)
    await settle(pilot)


def test_every_command_of_the_table_has_a_word_and_the_jumps_are_the_filter_scopes() -> None:
    assert {c.id for c in COMMAND_WORDS.values()} == {c.id for c in COMMANDS}
    assert all(COMMAND_WORDS[words_of(c)[0]] is c for c in COMMANDS), "one word, one command"
    assert {s.name for s in SCOPE_WORDS.values()} == {s.name for s in SCOPES}
    assert parse(":q", set()).command is COMMAND_WORDS["quit"]
    assert parse(":ns payments", set()).argument == "payments"


async def test_source_jump_filters_with_the_scope(app: MonotuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app, 8)
        await command(pilot, "source east", "enter")
        assert app.rollouts.filter_text == "@east" and app.rollouts.table.row_count == 8
        await pilot.press("escape")
        await command(pilot, "source west", "enter")
        assert app.rollouts.table.row_count == 0
        assert "no rollout matches" in str(app.rollouts.filter_status.render())


async def test_tab_completes_and_freeze_opens_its_confirmation(app: MonotuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app, 8)
        await command(pilot, "fre", "tab")
        assert app.screen.query_one("#command-line").value == "freeze"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmFreezeScreen)
        await pilot.press("escape")


async def test_a_service_name_selects_its_row(app: MonotuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app, 8)
        await command(pilot, "auth-api", "enter")
        view = app.rollouts.selected_view()
        assert view is not None and view.rollout.service == "auth-api"


async def test_team_filters_by_owner_and_nonsense_says_so(app: MonotuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app, 8)
        await command(pilot, "team payments", "enter")
        assert app.rollouts.filter_input.value == "team:payments"
        await command(pilot, "frobnicate", "enter")
        assert any("not a command: frobnicate" in n for n in notifications(app))
        assert app.is_running


async def test_q_quits(app: MonotuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app, 8)
        await command(pilot, "q", "enter")
        await pilot.pause()
        assert not app.is_running


async def test_a_command_with_a_service_runs_on_that_services_row(app: MonotuiApp, sim: SimulatorServer) -> None:
    """k9s's habit: `:history cart-api` opens cart-api's history from any row; `:pause cart-api` its confirmation."""
    from monotui.models import Strategy
    from monotui.ui.screens.confirm import ConfirmActionScreen
    from monotui.ui.screens.history import HistoryScreen

    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app, 8)
        assert app.rollouts.table.selected_key != "east/cart-api"
        await command(pilot, "history cart-api", "enter")
        assert isinstance(app.screen, HistoryScreen) and app.rollouts.table.selected_key == "east/cart-api"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("g")  # back to the top row
        await command(pilot, "pause cart-api", "enter")
        assert isinstance(app.screen, ConfirmActionScreen)
        assert "Pause cart-api" in "\n".join(screen_lines(app))
        await pilot.press("escape")
        await settle(pilot)
        await command(pilot, "quit cart-api", "enter")  # not a command on a row: said, nothing done
        assert any("not a command" in m for m in notifications(app))
    assert sim.state.mutating_requests() == []
