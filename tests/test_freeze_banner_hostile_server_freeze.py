"""A server's freeze whose actor and reason hold markup, terminal control sequences and a megabyte of text reads in the
banner inert and bounded at 80×24, and still holds: promote of a frozen rollout is refused with nothing sent, and the
refusal in the audit log names this operator, not the server's actor."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from monotui.action_kinds import ActionKind
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer

from .conftest import ACTOR, wait_until
from .test_freeze_tui import http, progressing, staged
from .ui_helpers import make_app, rows_loaded, screen_lines, static_text

HUGE = "q" * 1_000_000


async def test_a_hostile_server_freeze_is_inert_in_the_banner_and_holds_promote(
        engine_for: Callable[..., Engine], audit_path: Path) -> None:
    world = staged(2)
    world.set_freeze("[red]mallory[/red]\x1b]0;t\x07\u202e" + HUGE, "[/]\x1b[2J[link=x]boom" + HUGE)
    with SimulatorServer(world, tick_interval=None) as sim:
        app = make_app(engine_for(http(sim.url) | {"max_response_mb": 16}))
        async with app.run_test(size=(80, 24)) as pilot:
            await rows_loaded(app, 8)
            await wait_until(lambda: "FROZEN" in static_text(app, "#banner"), what="the banner says FROZEN")
            banner = static_text(app, "#banner")
            shown = "\n".join(screen_lines(app))
            assert "[red]mallory" in banner
            for text in (banner, shown):
                assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
            assert len(banner) < 2_000
            service = progressing(world)[0]
            rollout = app.engine.state.rollout("prod", service)
            assert rollout is not None
            sent = len(sim.state.mutating_requests())
            outcome = await app.engine.execute(app.engine.plan("prod", rollout, ActionKind.PROMOTE))
            assert outcome.outcome == "refused" and "frozen since" in (outcome.error or "")
            assert len(outcome.error or "") < 2_000
            assert len(sim.state.mutating_requests()) == sent
            await pilot.pause()
            assert app.is_running
    [record] = AuditLog(audit_path).read()
    assert record["actor"] == ACTOR and record["outcome"] == "refused" and record["action"] == "promote"
