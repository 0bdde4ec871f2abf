"""A roll-back chosen in the history screen is pinned to the rollout as the dialog showed it: a deploy that lands while
the confirmation is open is named in the dialog and nothing is sent; one that lands on the server after the last
poll is refused by the server's pin (412) and audited as refused, and the rollout keeps the new revision."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.ui.app import MonotuiApp
from monotui.ui.screens.confirm import ConfirmActionScreen
from monotui.ui.screens.history import HistoryScreen

from .conftest import wait_until
from .test_history_screen import open_history
from .test_revision_history import SERVICE, staged_world
from .ui_helpers import make_app, notifications, settle


@pytest.fixture
def staged() -> Iterator[SimulatorServer]:
    with SimulatorServer(staged_world(), tick_interval=None) as server:
        yield server


def source(url: str, poll_interval: float) -> dict[str, object]:
    return {"name": "prod", "kind": "http", "url": url, "poll_interval": poll_interval, "timeout": 5}


async def open_rollback_to_r12(app: MonotuiApp, pilot: Pilot[None]) -> ConfirmActionScreen:
    screen = await open_history(app, pilot, f"prod/{SERVICE}")
    await pilot.press("down", "down", "down")
    assert screen.selected is not None and screen.selected.revision == 12
    await pilot.press("enter")
    await wait_until(lambda: isinstance(app.screen, ConfirmActionScreen), what="the confirmation")
    dialog = app.screen
    assert isinstance(dialog, ConfirmActionScreen) and dialog.plan.target_revision == 12
    return dialog


async def test_a_deploy_seen_while_the_dialog_is_open_disables_it_and_nothing_is_sent(
        staged: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    app = make_app(engine_for(source(staged.url, 0.2)))
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_rollback_to_r12(app, pilot)
        staged.world.deploy(SERVICE)  # r16 starts under the open dialog
        await wait_until(lambda: dialog.changed is not None, timeout=30, what="the dialog told of the change")
        await pilot.press("shift+tab", *"late", "tab", "tab", "enter")  # try to confirm anyway
        await settle(pilot)
        assert isinstance(app.screen, ConfirmActionScreen)  # still open, its confirm button disabled
    assert not staged.state.mutating_requests()
    assert staged.world.rollout(SERVICE).revision == 16
    assert not [r for r in AuditLog(audit_path).read() if r["outcome"] in ("intent", "done")]


async def test_a_deploy_the_client_has_not_seen_is_refused_by_the_pin_and_audited_as_refused(
        staged: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    app = make_app(engine_for(source(staged.url, 600)))  # no poll before the confirmation
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_rollback_to_r12(app, pilot)
        staged.world.deploy(SERVICE)  # r16 lands on the server only
        assert dialog.changed is None
        await pilot.press("shift+tab", *"back", "tab", "tab", "enter")
        await wait_until(lambda: bool(staged.state.mutating_requests()), what="the request")
        await wait_until(lambda: [r["outcome"] for r in AuditLog(audit_path).read()][-1:] != ["intent"],
                         timeout=20, what="the outcome record")
        await wait_until(lambda: isinstance(app.screen, HistoryScreen), what="back on the history")
        await wait_until(lambda: any("refused" in n.lower() or "changed" in n.lower() for n in notifications(app)),
                         what="the refusal said")
    assert staged.world.rollout(SERVICE).revision == 16  # the server did not roll back the new deploy
    records = AuditLog(audit_path).read()
    assert [r["outcome"] for r in records] == ["intent", "refused"]
    assert all(r["target_revision"] == 12 and r["expected_revision"] == 14 for r in records)
