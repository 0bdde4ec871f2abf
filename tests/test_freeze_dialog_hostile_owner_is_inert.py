"""A server's owner strings (team, on call) holding markup, terminal control sequences and a megabyte of text show
in the freeze confirmation as inert, bounded text at 80×24; confirming the freeze writes the person who froze into
the audit log before anything is sent, and promote of the frozen rollout is then refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from monotui.action_kinds import ActionKind
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.models import Owner, Phase, Strategy
from monotui.simulator import world as sim_world
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.confirm_freeze import ConfirmFreezeScreen

from .conftest import ACTOR, wait_until
from .ui_helpers import make_app, notifications, rows_loaded, screen_lines, settle, static_text

HUGE = "y" * 1_000_000


def hostile_owner(service: str) -> Owner:
    return Owner(team="[red]pwn[/red]\x1b]0;title\x07\x1b[2J[/]" + HUGE, on_call="[link=https://evil]x\u202e" + HUGE)


async def test_hostile_owner_strings_in_the_freeze_dialog_are_inert_and_the_freeze_is_audited_and_held(
        sim: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim_world, "owner_for", hostile_owner)
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    app = make_app(engine_for({"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 0.3,
                               "timeout": 5, "max_response_mb": 16}))
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app)
        await pilot.press("Z")
        await wait_until(lambda: isinstance(app.screen, ConfirmFreezeScreen), what="the freeze dialog")
        await settle(pilot)
        owner = static_text(app, "#confirm-owner")
        shown = "\n".join(screen_lines(app))
        assert "[red]pwn" in owner and "[link=" in owner  # as typed, never markup
        for text in (owner, shown):
            assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
        assert len(owner) < 5_000
        sent_before = len(sim.state.mutating_requests())
        await pilot.press("shift+tab", *"incident", "tab", "tab", "enter")
        await wait_until(lambda: len(sim.state.mutating_requests()) > sent_before, timeout=20, what="the freeze sent")
        await wait_until(lambda: sim.world.rollout("cart-api").phase is Phase.PAUSED, timeout=20, what="paused")
        await wait_until(lambda: bool(app.engine.holds()), timeout=20, what="the freeze held")
        await pilot.press("escape")
        sent = len(sim.state.mutating_requests())
        cart = app.engine.state.rollout("prod", "cart-api")
        assert cart is not None
        outcome = await app.engine.execute(app.engine.plan("prod", cart, ActionKind.PROMOTE))
        assert outcome.outcome == "refused" and len(sim.state.mutating_requests()) == sent
        assert app.is_running and not any("Traceback" in n for n in notifications(app))
    records = AuditLog(audit_path).read()
    freeze = [r for r in records if r["action"] == "freeze"]
    assert [r["outcome"] for r in freeze][:1] == ["intent"] and all(r["actor"] == ACTOR for r in freeze)
    assert all(r["actor"] == ACTOR for r in records)
