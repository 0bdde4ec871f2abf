"""The TUI driven by keys with Pilot, against the simulator as a real server; asserts what the screen shows,
what the server received and what the audit log holds."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.models import Phase, Strategy
from monotui.simulator.server import Faults, SimulatorServer
from monotui.ui.commands import COMMANDS
from monotui.ui.screens.confirm import ConfirmActionScreen
from monotui.ui.screens.help import HelpScreen

from .conftest import ACTOR, make_world, wait_until
from .ui_helpers import cell, make_app, notifications, panel_text, rows_loaded, select, settle, static_text

SLOW = 60.0  # poll interval for tests that must see an action's effect without a new poll


def slow_source(url: str) -> dict[str, object]:
    # timeout: a whole answer's wall-clock deadline; with a 60 s interval one failed first poll (a loaded machine)
    # would leave the table empty for the rest of the test
    return {"name": "prod", "kind": "http", "url": url, "poll_interval": SLOW, "timeout": 10.0}


def stage(sim: SimulatorServer, phase: Phase) -> None:
    """Put cart-api in `phase`."""
    world = sim.world
    if phase is Phase.HEALTHY:
        return
    world.deploy("cart-api", strategy=Strategy.CANARY, manual_gate=phase is Phase.PAUSED)
    for _ in range(200):
        world.step()
        if world.rollout("cart-api").phase is phase:
            return
        if phase is Phase.PROGRESSING and world.rollout("cart-api").current_step == 1:
            return
    raise AssertionError(f"could not stage {phase}")


ACTIONS = [
    # key, staged phase, action path, phase after
    ("p", Phase.PROGRESSING, "pause", Phase.PAUSED),
    ("r", Phase.PAUSED, "resume", Phase.PROGRESSING),
    ("n", Phase.PROGRESSING, "promote", Phase.PROGRESSING),
    ("F", Phase.PROGRESSING, "promote-full", Phase.HEALTHY),
    ("A", Phase.PROGRESSING, "abort", Phase.ABORTED),
    ("b", Phase.PROGRESSING, "rollback", Phase.HEALTHY),
]


@pytest.mark.parametrize(("key", "staged", "path", "after"), ACTIONS, ids=[a[2] for a in ACTIONS])
async def test_action_through_key_and_confirmation(sim: SimulatorServer, engine_for: Callable[..., Engine],
                                                   audit_path: Path, key: str, staged: Phase, path: str,
                                                   after: Phase) -> None:
    stage(sim, staged)
    before = sim.world.rollout("cart-api")
    app = make_app(engine_for(slow_source(sim.url)))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        select(app, "prod/cart-api")
        await pilot.press(key)
        await settle(pilot)
        assert isinstance(app.screen, ConfirmActionScreen)
        plan = static_text(app, "#confirm-plan")
        assert "cart-api" in plan and before.environment in plan and "source prod" in plan
        assert f"r{before.revision}" in plan and "→" in plan
        assert app.screen.focused.id == "cancel", "Cancel is focused by default"
        await pilot.press("shift+tab")  # from Cancel back to the reason field
        await pilot.press(*"error spike")
        await pilot.press("tab", "tab", "enter")  # reason → Cancel → confirm
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmActionScreen)
        [posted] = sim.state.mutating_requests()
        assert posted.path == f"/v1/rollouts/cart-api/actions/{path}"
        body = json.loads(posted.body)
        # the request carries exactly what the dialog showed: the revision (and step, or rollback target)
        expected: dict[str, object] = {"actor": ACTOR, "reason": "error spike", "expected_revision": before.revision}
        if path == "promote":
            expected["expected_step"] = before.current_step
        if path == "rollback":
            expected["revision"] = (before.rollback_to or before.stable).revision  # type: ignore[union-attr]
        assert body == expected
        # the outcome shows at once: no poll happened since (interval is 60 s)
        assert cell(app, "prod/cart-api", "status").endswith(after.value if path != "rollback" else "Rolled back")
        assert any("done" in n for n in notifications(app))
        [record] = AuditLog(audit_path).outcomes()
        assert (record["action"], record["outcome"], record["actor"]) == (path, "done", ACTOR)
        assert record["confirmed_by"] == "dialog"


async def test_cancel_and_escape_send_nothing(sim: SimulatorServer, engine_for: Callable[..., Engine],
                                              audit_path: Path) -> None:
    stage(sim, Phase.PROGRESSING)
    app = make_app(engine_for(slow_source(sim.url)))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        select(app, "prod/cart-api")
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("enter")  # Enter on the focused Cancel
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmActionScreen)
        await pilot.press("A")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmActionScreen)
        assert any("Nothing was sent" in n for n in notifications(app))
    assert sim.state.mutating_requests() == []
    assert AuditLog(audit_path).outcomes() == []


async def test_protected_service_needs_its_name_typed(sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    stage(sim, Phase.PROGRESSING)
    app = make_app(engine_for(slow_source(sim.url), protected_services=["cart-api"]))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        select(app, "prod/cart-api")
        await pilot.press("p")
        await settle(pilot)
        assert "type" in static_text(app, "#protected-hint").lower()
        app.screen.query_one("#confirm").press()
        await settle(pilot)
        assert isinstance(app.screen, ConfirmActionScreen), "not confirmed without the name"
        assert sim.state.mutating_requests() == []
        app.screen.query_one("#typed-name").focus()
        await pilot.pause()
        await pilot.press(*"cart-api", "enter", "enter")  # Enter moves to the confirm button, Enter presses it
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmActionScreen)
    assert len(sim.state.mutating_requests()) == 1


async def test_read_only_offers_no_action_and_sends_nothing(sim: SimulatorServer,
                                                            engine_for: Callable[..., Engine]) -> None:
    stage(sim, Phase.PROGRESSING)
    app = make_app(engine_for(sim.url, read_only=True))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        select(app, "prod/cart-api")
        footer_keys = {b.binding.key for b in app.screen.active_bindings.values() if b.enabled}
        assert not {c.key for c in COMMANDS if c.mutating} & footer_keys
        for command in COMMANDS:
            if command.key in ("q", "slash"):
                continue
            await pilot.press(command.key)
            await pilot.pause()
            await pilot.press("tab", "enter", "escape")
        for key in ("down", "p", "r", "n", "F", "A", "b", "enter", "tab", "enter"):
            await pilot.press(key)
        await settle(pilot, 0.3)
        assert "READ-ONLY" in app.rollouts.banner.content.plain
    assert sim.state.mutating_requests() == []


async def test_per_source_read_only(sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    stage(sim, Phase.PROGRESSING)
    source = {**slow_source(sim.url), "read_only": True}
    app = make_app(engine_for(source))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        select(app, "prod/cart-api")
        await pilot.press("p")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmActionScreen)
    assert sim.state.mutating_requests() == []


async def test_cursor_stays_on_its_rollout_when_rows_change_and_reorder(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for(sim.url))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app, 8)
        order = list(app.rollouts.table._order)
        healthy = [k for k in order if sim.world.rollout(k.split("/")[1]).phase is Phase.HEALTHY]
        chosen = healthy[0]
        select(app, chosen)
        await pilot.pause()
        before = app.rollouts.table.cursor_row
        # the two rows below it get new deploys and jump above it; other rows change in place
        for key in order[-2:]:
            sim.world.deploy(key.split("/")[1], strategy=Strategy.CANARY)
        await wait_until(lambda: app.rollouts.table._order.index(chosen) == before + 2)
        await pilot.pause()
        assert app.rollouts.table.selected_key == chosen
        assert app.rollouts.table.cursor_row == before + 2
        assert chosen.split("/")[1] in panel_text(app, "detail").splitlines()[0]
        # and when the selected row itself changes, it is still the one under the cursor
        sim.world.step(1.0)  # so that this deploy is the newest, first in its group
        sim.world.deploy(chosen.split("/")[1], strategy=Strategy.CANARY)
        await wait_until(lambda: app.rollouts.table._order.index(chosen) == 0)
        await pilot.pause()
        assert app.rollouts.table.selected_key == chosen


async def test_a_failing_source_shows_stale_with_age_and_error_then_recovers(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for(sim.url))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app, 8)
        sim.state.faults = Faults(error_fraction=1.0)
        await wait_until(lambda: app.rollouts.alerts.display)
        await pilot.pause(0.2)
        alert = app.rollouts.alerts.content.plain
        assert "prod" in alert and "503" in alert and "old" in alert
        assert all(cell(app, key, "status").startswith("?") for key in app.rollouts.table._order)
        assert "error" in app.rollouts.banner.content.plain
        await pilot.press("down", "down")
        assert app.rollouts.table.cursor_row == 2, "input stays responsive"
        sim.state.faults = Faults()
        await wait_until(lambda: not app.rollouts.alerts.display, timeout=5)
        await pilot.pause(0.2)
        assert not any(cell(app, key, "status").startswith("?") for key in app.rollouts.table._order)


async def test_a_source_that_is_down_from_the_start_does_not_stop_the_others(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    app = make_app(engine_for(sim.url, dead))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app, 8)
        await wait_until(lambda: app.rollouts.alerts.display)
        await pilot.pause()
        assert "prod1" in app.rollouts.alerts.content.plain and "cannot connect" in app.rollouts.alerts.content.plain


MARKUP = ["[red]x[/]", "[ERROR] db", "[/]", "[bold]"]


async def test_strings_from_servers_are_shown_literally(engine_for: Callable[..., Engine]) -> None:
    world = make_world(names=tuple(MARKUP))
    world.deploy("[red]x[/]", strategy=Strategy.CANARY, message="fix [/] and [ERROR] now", author="[b]eve[/b]")
    with SimulatorServer(world, tick_interval=None) as server:
        app = make_app(engine_for(slow_source(server.url)))
        async with app.run_test(size=(120, 35)) as pilot:
            await rows_loaded(app)
            services = {cell(app, key, "service") for key in app.rollouts.table._order}
            assert set(MARKUP) <= services
            select(app, "prod/[red]x[/]")
            await pilot.pause()
            detail = panel_text(app, "detail")
            assert "[red]x[/]" in detail and "fix [/] and [ERROR] now" in detail and "[b]eve[/b]" in detail
            await pilot.press("p")
            await settle(pilot)
            assert "[red]x[/]" in static_text(app, "#confirm-plan")
            await pilot.press("tab", "enter")
            await settle(pilot)
            assert any("[red]x[/]" in n for n in notifications(app))
        [posted] = server.state.mutating_requests()
        assert posted.path == "/v1/rollouts/[red]x[/]/actions/pause"


async def test_help_screen_lists_every_key(sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for(sim.url))
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        from .ui_helpers import text_of

        shown = "\n".join(text_of(s.content) for s in app.screen.query("Static"))
        for command in COMMANDS:
            if command.parameter in ("retry", "restart") or command.action == "flag":
                assert command.label not in shown, "the deploy API has no such action (and no flags): not listed"
            else:
                assert command.label in shown
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, HelpScreen)


async def test_filter(sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for(sim.url))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app, 8)
        await pilot.press("slash", *"cart", "enter")
        await pilot.pause()
        assert app.rollouts.table._order == ["prod/cart-api"]
        await pilot.press("escape")
        await pilot.pause()
        assert app.rollouts.table.row_count == 8


async def test_command_palette_offers_actions_for_the_selected_rollout(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    from monotui.ui.palette import MonotuiCommands

    stage(sim, Phase.PROGRESSING)
    app = make_app(engine_for(slow_source(sim.url)))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        select(app, "prod/cart-api")
        await pilot.pause()
        provider = MonotuiCommands(app.screen)
        texts = [text for text, _ in provider._commands()]
        assert "Pause cart-api" in texts and "Roll back cart-api" in texts
        assert "Resume cart-api" not in texts, "only what fits a Progressing rollout"


async def test_tls_verification_off_is_shown_in_the_header(sim: SimulatorServer,
                                                          engine_for: Callable[..., Engine]) -> None:
    source = {**slow_source(sim.url), "verify_tls": False}
    app = make_app(engine_for(source))
    async with app.run_test(size=(120, 35)):
        await rows_loaded(app)
        assert "TLS NOT VERIFIED" in app.rollouts.banner.content.plain
    app = make_app(engine_for(slow_source(sim.url)))
    async with app.run_test(size=(120, 35)):
        await rows_loaded(app)
        assert "TLS NOT VERIFIED" not in app.rollouts.banner.content.plain
