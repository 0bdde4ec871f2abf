"""The history screen against a hostile revisions endpoint: markup, control sequences and huge strings in a revision
show as inert, bounded text (the screen, the roll-back confirmation); garbage, an answer about another rollout, an
answer too large or a server error show as "Cannot list revisions" in the panel — no crash, no traceback, and Enter
opens no confirmation."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from textual.pilot import Pilot

from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.ui.app import MonotuiApp
from monotui.ui.screens.confirm import ConfirmActionScreen
from monotui.ui.screens.history import HistoryScreen
from monotui.ui.widgets.panels import RenderablePanel

from .conftest import wait_until
from .revisions_server import RevisionsServer, json_body
from .test_revision_history import SERVICE, staged_world
from .ui_helpers import make_app, rows_loaded, screen_lines, select, settle, static_text

HOSTILE_VERSION = "[red]v9[/red]\x1b]0;pwned\x07\x1b[2J[/]"


@pytest.fixture
def staged() -> Iterator[SimulatorServer]:
    with SimulatorServer(staged_world(), tick_interval=None) as server:
        yield server


def source(url: str) -> dict[str, object]:
    return {"name": "prod", "kind": "http", "url": url, "poll_interval": 600, "timeout": 5,
            "max_response_mb": 4}


async def history(app: MonotuiApp, pilot: Pilot[None]) -> HistoryScreen:
    await rows_loaded(app)
    select(app, f"prod/{SERVICE}")
    await pilot.press("h")
    await wait_until(lambda: isinstance(app.screen, HistoryScreen), what="the history screen")
    screen = app.screen
    assert isinstance(screen, HistoryScreen)
    await wait_until(lambda: bool(screen.revisions) or screen.error is not None, timeout=30,
                     what="the revisions read")
    await pilot.pause()
    return screen


def panel(screen: HistoryScreen) -> str:
    return "\n".join(screen.query_one("#revision-detail", RenderablePanel).lines)


async def test_markup_controls_and_huge_strings_in_a_revision_are_inert_and_bounded(
        staged: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    huge = "x" * 300_000
    body = json.dumps({"rollout_id": SERVICE, "revisions": [
        {"revision": 14, "version": "v14", "ended": "live", "stable": True, "current": True},
        {"revision": 12, "version": HOSTILE_VERSION + huge, "ended": "promoted",
         "author": "[bold]mallory\u202e[/bold]", "commit": "\x1b[31mdeadbeef", "commit_message": huge + "\r\n[/]",
         "end_reason": "[link=https://evil.example]click[/link]" + huge, "ended_by": "\x9b2J" + huge,
         "images": [f"img:{i}[/]" for i in range(20_000)],
         "changes": {"commit_range": huge, "config_keys": [f"[b]k{i}" for i in range(20_000)]}},
    ]}).encode()
    with RevisionsServer(staged.url, json_body(body)) as server:
        app = make_app(engine_for(source(server.url)))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await history(app, pilot)
            assert [r.revision for r in screen.revisions] == [14, 12]
            await pilot.press("down")
            await pilot.pause()
            shown = "\n".join(screen_lines(app))
            detail = panel(screen)
            assert "[red]v9" in shown and "[red]v9" in detail  # as typed, never markup
            assert "[bold]mallory" in detail and "[link=" in detail
            for text in (shown, detail):
                assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text and "\u202e" not in text
            assert len(detail) < 20_000  # bounded, not a million characters per field
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, ConfirmActionScreen), what="the confirmation")
            plan = static_text(app, "#confirm-plan")
            assert "r12 ([red]v9" in plan and "\x1b" not in plan and len(plan) < 2_000
            await pilot.press("escape")
            await settle(pilot)
            assert app.is_running
    assert not staged.state.mutating_requests()


@pytest.mark.parametrize("answer", [
    pytest.param(json_body(b"<html>502 Bad Gateway</html>"), id="html"),
    pytest.param(json_body(b'{"rollout_id": "checkout-api", "revisions": {"a": 1}}'), id="wrong-shape"),
    pytest.param(json_body(b'{"rollout_id": "cart-api", "revisions": []}'), id="another-rollout"),
    pytest.param(json_body(b'{"rollout_id": "checkout-api", "revisions": [' + b'{"revision": 1},' * 600_000
                           + b'{"revision": 2}]}'), id="too-large"),
    pytest.param(json_body(b'{"error": "boom\\u001b[2J [red]x[/]"}', status=500), id="server-error"),
    pytest.param(json_body(b"[" * 100_000 + b"]" * 100_000), id="deep"),
    pytest.param(json_body(b'{"rollout_id": "checkout-api", "revisions": [{"revision": 1e400}, '
                           b'{"revision": 123456789012345678901234567890}]}'), id="huge-numbers"),
])
async def test_a_revisions_answer_that_cannot_be_read_is_said_in_the_panel(
        answer: Callable[..., object], staged: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    with RevisionsServer(staged.url, answer) as server:  # type: ignore[arg-type]
        app = make_app(engine_for(source(server.url)))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await history(app, pilot)
            shown = "\n".join(screen_lines(app))
            if screen.error is not None:
                assert "Cannot list revisions" in panel(screen)
            else:  # what could be read of it, each revision on its own
                assert all(isinstance(r.revision, int) for r in screen.revisions)
            assert "\x1b" not in shown and "Traceback" not in shown
            await pilot.press("enter")
            await settle(pilot)
            if isinstance(app.screen, ConfirmActionScreen):  # a revision whose number alone could be read
                chosen = screen.selected
                assert chosen is not None and f"r{chosen.revision} (?)"[:40] in static_text(app, "#confirm-plan")
                await pilot.press("escape")
                await settle(pilot)
            assert isinstance(app.screen, HistoryScreen) and app.is_running
    assert not staged.state.mutating_requests()
