"""A roll-back to a chosen revision that the server carries out but whose answer is lost (the connection closes, or
a gateway answers 502 instead) is written as outcome unknown, after an intent that was on disk before the request
left, both naming the revision asked for; never as done, never as failed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.confirm import ConfirmActionScreen
from monotui.ui.screens.history import HistoryScreen

from .conftest import ACTOR, wait_until
from .hostile_proxy import HostileProxy
from .test_history_screen import open_history
from .test_revision_history import SERVICE, staged_world
from .ui_helpers import make_app, notifications, settle


@pytest.mark.parametrize("mode", ["close", "502"])
async def test_the_server_acts_and_its_answer_is_lost(mode: str, engine_for: Callable[..., Engine],
                                                      audit_path: Path) -> None:
    intents_when_sent: list[list[object]] = []

    def on_mutation(method: str, target: str) -> None:
        intents_when_sent.append([r["outcome"] for r in AuditLog(audit_path).read()])

    with SimulatorServer(staged_world(), tick_interval=None) as staged, \
            HostileProxy(staged.url, mode, on_mutation=on_mutation) as proxy:
        app = make_app(engine_for({"name": "prod", "kind": "http", "url": proxy.url, "poll_interval": 600,
                                   "timeout": 5}))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_history(app, pilot, f"prod/{SERVICE}")
            await pilot.press("down", "down", "down")
            assert screen.selected is not None and screen.selected.revision == 12
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, ConfirmActionScreen), what="the confirmation")
            await pilot.press("shift+tab", *"back to r12", "tab", "tab", "enter")
            await settle(pilot)
            await wait_until(lambda: len(AuditLog(audit_path).read()) >= 2, timeout=30, what="the outcome record")
            await wait_until(lambda: isinstance(app.screen, HistoryScreen), what="back on the history")
            await wait_until(lambda: any("unknown" in n.lower() for n in notifications(app)), timeout=20,
                             what="the unknown outcome said")
        assert staged.world.rollout(SERVICE).revision == 12  # the server did roll back
        [posted] = staged.state.mutating_requests()
        assert json.loads(posted.body)["revision"] == 12
    assert intents_when_sent == [["intent"]]  # the intent was on disk before the request reached the server
    records = AuditLog(audit_path).read()
    assert [r["outcome"] for r in records] == ["intent", "unknown"]
    assert all(r["target_revision"] == 12 and r["actor"] == ACTOR and r["action"] == "rollback" for r in records)
