"""Ownership on screen at 80×24: the detail panel names the owner, who is on call, the runbook and the dashboard
(as text: no link); every confirmation — a rollout action, the freeze, a silence, the kill switch — says
"owner: …, on call: …"; `/team:` filters the table."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from monotui.config import build_settings
from monotui.engine.core import Engine
from monotui.engine.flag_plan import FlagPlan
from monotui.models import Flag, Owner, Strategy
from monotui.render.owners import owner_links
from monotui.simulator.owners import owner_for
from monotui.simulator.server import SimulatorServer
from monotui.ui.app import MonotuiApp
from monotui.ui.screens.confirm import ConfirmActionScreen
from monotui.ui.screens.confirm_flag import ConfirmFlagScreen
from monotui.ui.screens.confirm_freeze import ConfirmFreezeScreen
from monotui.ui.screens.silence import SilenceScreen

from .conftest import ACTOR, wait_until
from .ui_helpers import make_app, panel_text, rows_loaded, screen_lines, select, settle, static_text

SIZE = (80, 24)


def app_for(sim: SimulatorServer, audit_path: Path, **extra: object) -> MonotuiApp:
    settings = build_settings({
        "sources": [{"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 30, "timeout": 2.0}],
        "actor": ACTOR, "audit_log": str(audit_path),
        "services": {"cart-api": {"team": "payments-team", "on_call": "alice"}}, **extra})
    return make_app(Engine(settings))


async def test_the_detail_panel_names_the_owner_and_the_links_as_text(sim: SimulatorServer,
                                                                     audit_path: Path) -> None:
    app = app_for(sim, audit_path)
    async with app.run_test(size=SIZE) as pilot:
        await rows_loaded(app)
        select(app, "prod/cart-api")
        await settle(pilot)
        shown = [" ".join(line.split()) for line in panel_text(app, "detail").splitlines()]
        served = owner_for("cart-api")
        assert "Owner payments-team · on call alice" in shown  # the config's team and on call
        assert f"Runbook {served.runbook}" in shown and f"Dashboard {served.dashboard}" in shown  # the API's
        assert any("payments-team · on call alice" in line for line in screen_lines(app))
        for _, text in owner_links(app.rollouts.selected_view().owner):  # plain text: nothing to click
            assert not any("link" in str(span.style) for span in text.spans) and "link" not in str(text.style)


async def test_a_rollout_confirmation_says_who_owns_it_at_80x24(sim: SimulatorServer, audit_path: Path) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    app = app_for(sim, audit_path)
    async with app.run_test(size=SIZE) as pilot:
        await rows_loaded(app)
        select(app, "prod/cart-api")
        await pilot.press("p")
        await wait_until(lambda: isinstance(app.screen, ConfirmActionScreen), what="the pause dialog")
        await settle(pilot)
        assert static_text(app, "#confirm-owner") == "owner: payments-team, on call: alice"
        assert any("owner: payments-team, on call: alice" in line
                   for line in screen_lines(app))  # seen at 80×24, not scrolled away


async def test_the_freeze_confirmation_names_each_owner(sim: SimulatorServer, audit_path: Path) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    app = app_for(sim, audit_path)
    async with app.run_test(size=SIZE) as pilot:
        await rows_loaded(app)
        await pilot.press("Z")
        await wait_until(lambda: isinstance(app.screen, ConfirmFreezeScreen), what="the freeze dialog")
        await settle(pilot)
        assert "cart-api: owner: payments-team, on call: alice" in static_text(app, "#confirm-owner")


async def test_the_team_filter_keeps_only_that_team(sim: SimulatorServer, audit_path: Path) -> None:
    app = app_for(sim, audit_path)
    async with app.run_test(size=SIZE) as pilot:
        await rows_loaded(app)
        await pilot.press("slash", *"team:payments-team", "enter")
        await wait_until(lambda: app.rollouts.table.row_count == 2,
                         what="cart-api (the config) and payments-api (the deploy API)")
        assert set(app.rollouts.table._order) == {"prod/cart-api", "prod/payments-api"}


async def test_the_silence_and_kill_switch_confirmations_say_who_owns_it(sim: SimulatorServer,
                                                                       audit_path: Path) -> None:
    app = app_for(sim, audit_path)
    owner = Owner(team="payments-team", on_call="payments-primary")
    flag = Flag(name="new-checkout", project="default", environment="production", enabled=True,
                service="cart-api")
    async with app.run_test(size=SIZE) as pilot:
        await rows_loaded(app)
        app.push_screen(SilenceScreen("cart-api", "alertmanager", 2, owner=owner))
        await settle(pilot)
        assert static_text(app, "#confirm-owner") == "owner: payments-team, on call: payments-primary"
        app.pop_screen()
        plan = FlagPlan(source="flags", flag=flag, enabled=False)
        app.push_screen(ConfirmFlagScreen(plan, owner=None))
        await settle(pilot)
        assert static_text(app, "#confirm-owner") == "owner: unknown (no team configured)"
        assert isinstance(app.screen.query_one("#confirm-owner"), Static)
