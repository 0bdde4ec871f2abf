"""Stop the line from the TUI at 80×24, driven with Pilot against the simulator: `Z` opens one confirmation listing
every rollout it pauses, the banner then says FROZEN (as text: it reads under NO_COLOR), promote is refused with
the freeze's words and nothing sent, rollback stays, `U` resumes exactly what was paused; another operator's
freeze reads the same; read-only mode refuses the freeze like any action."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.color import Color

from monotui.engine.core import Engine
from monotui.models import Phase, Strategy
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World
from monotui.ui.screens.confirm_freeze import ConfirmFreezeScreen

from .conftest import ACTOR, make_world, wait_until
from .ui_helpers import make_app, notifications, rows_loaded, screen_lines, select, settle, static_text


def http(url: str) -> dict[str, object]:
    return {"name": "prod", "kind": "http", "url": url, "poll_interval": 0.2, "timeout": 5.0}


def staged(count: int) -> World:
    world = make_world(initial_deploys=0, deploy_interval=1.0)
    for service in list(world.services)[:count]:
        world.deploy(service, strategy=Strategy.CANARY)
    return world


def progressing(world: World) -> list[str]:
    return sorted(r.service for r in world.rollouts() if r.phase is Phase.PROGRESSING)


async def test_Z_freezes_at_80x24_the_banner_says_so_promote_is_refused_and_U_resumes_what_was_paused(
        engine_for: Callable[..., Engine]) -> None:
    world = staged(8)  # more than the dialog's list shows at once: it scrolls under its count
    paused_by_freeze = progressing(world)
    assert len(paused_by_freeze) == 8
    with SimulatorServer(world, tick_interval=None) as sim:
        app = make_app(engine_for(http(sim.url)))
        async with app.run_test(size=(80, 24)) as pilot:
            await rows_loaded(app, 8)
            await pilot.press("Z")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmFreezeScreen)
            assert "pauses 8 rollout(s) in 1 source(s)" in static_text(app, "#freeze-count")
            listed = static_text(app, "#freeze-plan")
            assert all(f"pause {s} (prod)" in listed for s in paused_by_freeze)
            lines = screen_lines(app)
            assert max(len(line.rstrip()) for line in lines) <= 80
            shown = "\n".join(lines)
            assert "Freeze PRODUCTION?" in shown and "Cancel" in shown and "Freeze " in shown, shown
            assert "pauses 8 rollout(s)" in shown
            app.screen.query_one("#reason").value = "checkout errors"  # type: ignore[attr-defined]
            await pilot.click("#confirm")
            await settle(pilot, 0.2)
            await wait_until(lambda: "FROZEN since" in static_text(app, "#banner"), what="the banner says FROZEN")
            banner = static_text(app, "#banner")
            assert f"by {ACTOR}: checkout errors" in banner
            assert "FROZEN since" in screen_lines(app)[0], "on the first line at 80 columns"
            assert progressing(world) == [] and world.freeze.frozen

            # promote is refused with the freeze's words; nothing is sent
            sent = len(sim.state.mutating_requests())
            select(app, "prod/cart-api")
            await pilot.pause()
            assert app.rollouts.check_action("rollout", ("promote",)) is None
            assert app.rollouts.check_action("rollout", ("resume",)) is None
            await pilot.press("n")  # promote
            await settle(pilot)
            assert any("frozen since" in n and ACTOR in n for n in notifications(app)), notifications(app)
            assert len(sim.state.mutating_requests()) == sent
            assert app.rollouts.check_action("rollout", ("rollback",)) is True, "mitigation is never blocked"

            for _ in range(20):  # time passes: the frozen platform starts no new deploy
                world.step(0.5)
            assert {r.phase for r in world.rollouts()} <= {Phase.PAUSED, Phase.HEALTHY}

            await pilot.press("U")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmFreezeScreen)
            assert "resumes 8 rollout(s)" in static_text(app, "#freeze-count")
            await pilot.click("#confirm")
            await settle(pilot, 0.2)
            await wait_until(lambda: "FROZEN" not in static_text(app, "#banner"), what="the banner unfrozen")
            assert not world.freeze.frozen
            assert progressing(world) == paused_by_freeze
            resumed = sorted(r.path.split("/")[3] for r in sim.state.mutating_requests() if r.path.endswith("/resume"))
            assert resumed == paused_by_freeze


async def test_another_operators_freeze_reads_the_same_in_the_banner_and_refuses_promote(
        engine_for: Callable[..., Engine]) -> None:
    world = staged(2)
    world.set_freeze("alice@bastion-1", "checkout errors")
    with SimulatorServer(world, tick_interval=None) as sim:
        app = make_app(engine_for(http(sim.url)))
        async with app.run_test(size=(80, 24)) as pilot:
            await rows_loaded(app, 8)
            await wait_until(lambda: "FROZEN since" in static_text(app, "#banner"), what="the banner says FROZEN")
            assert "by alice@bastion-1: checkout errors" in static_text(app, "#banner")
            select(app, "prod/" + progressing(world)[0])
            await pilot.pause()
            assert app.rollouts.check_action("rollout", ("promote",)) is None
            assert app.rollouts.check_action("rollout", ("pause",)) is True
            assert app.rollouts.check_action("unfreeze", ()) is True


async def test_read_only_refuses_the_freeze_like_any_action(engine_for: Callable[..., Engine]) -> None:
    world = staged(2)
    with SimulatorServer(world, tick_interval=None) as sim:
        app = make_app(engine_for(http(sim.url), read_only=True))
        async with app.run_test(size=(80, 24)) as pilot:
            await rows_loaded(app, 8)
            assert app.rollouts.check_action("freeze", ()) is False
            await pilot.press("Z")
            await settle(pilot)
            assert not isinstance(app.screen, ConfirmFreezeScreen)
            assert any("read-only" in n for n in notifications(app))
        assert sim.state.mutating_requests() == [] and not world.freeze.frozen


async def test_under_no_color_the_banner_says_FROZEN_in_words_and_in_reverse(
        engine_for: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    world = staged(1)
    world.set_freeze("alice@bastion-1", "checkout errors")
    with SimulatorServer(world, tick_interval=None) as sim:
        app = make_app(engine_for(http(sim.url)))
        async with app.run_test(size=(80, 24)) as pilot:
            await rows_loaded(app, 8)
            await wait_until(lambda: "FROZEN since" in static_text(app, "#banner"), what="the banner says FROZEN")
            await pilot.pause()
            strips = app.screen._compositor.render_strips()
            for line_filter in app.get_line_filters():
                strips = [strip.apply_filter(line_filter, Color(0, 0, 0)) for strip in strips]
            assert "FROZEN since" in strips[0].text and "by alice@bastion-1: checkout errors" in strips[0].text
            frozen = next(segment for segment in strips[0] if "FROZEN" in segment.text)
            assert frozen.style is not None and frozen.style.reverse and frozen.style.bold
            assert frozen.style.color is None or frozen.style.color.is_default


async def test_a_listed_rollout_that_changes_while_the_dialog_is_open_is_named_and_refused_the_rest_paused(
        engine_for: Callable[..., Engine]) -> None:
    world = staged(3)
    listed = progressing(world)
    with SimulatorServer(world, tick_interval=None) as sim:
        app = make_app(engine_for(http(sim.url)))
        async with app.run_test(size=(80, 24)) as pilot:
            await rows_loaded(app, 8)
            await pilot.press("Z")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmFreezeScreen)
            changed = listed[0]
            world.deploy(changed, strategy=Strategy.CANARY)  # a new revision while the dialog is open
            await wait_until(lambda: "CHANGED SINCE LISTED" in static_text(app, "#target-changed"),
                             what="the dialog names the change")
            assert changed in static_text(app, "#target-changed")
            assert not app.screen.query_one("#confirm").disabled, "stopping the line is not blocked"
            await pilot.pause()
            shown = "\n".join(screen_lines(app))
            assert "CHANGED SINCE LISTED" in shown and "Freeze " in shown, shown
            await pilot.click("#confirm")
            await settle(pilot, 0.2)
            await wait_until(lambda: world.freeze.frozen and len(progressing(world)) == 1,
                             what=f"the rest paused ({progressing(world)}, {notifications(app)}, {app.screen})")
            assert progressing(world) == [changed], "the changed one was refused, not paused"
            paused = sorted(r.path.split("/")[3] for r in sim.state.mutating_requests() if r.path.endswith("/pause"))
            assert paused == listed[1:]
            # Z again lists it as it is now
            await pilot.press("Z")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmFreezeScreen)
            assert f"pause {changed} (prod)" in static_text(app, "#freeze-plan")
            assert "pauses 1 rollout(s)" in static_text(app, "#freeze-count")


async def test_the_palette_offers_freeze_production_and_then_unfreeze(engine_for: Callable[..., Engine]) -> None:
    from monotui.ui.palette import MonotuiCommands

    world = staged(2)
    with SimulatorServer(world, tick_interval=None) as sim:
        app = make_app(engine_for(http(sim.url)))
        async with app.run_test(size=(80, 24)) as pilot:
            await rows_loaded(app, 8)
            texts = [text for text, _ in MonotuiCommands(app.rollouts)._commands()]
            assert "Freeze production" in texts and "Unfreeze" not in texts, texts
            await pilot.press("ctrl+p")
            await settle(pilot)
            await pilot.press(*"Freeze production")
            await settle(pilot, 0.3)
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, ConfirmFreezeScreen), what="the palette opens the dialog")
            await pilot.pause()
            await pilot.click("#confirm")
            await settle(pilot, 0.2)
            await wait_until(lambda: "FROZEN since" in static_text(app, "#banner"), what="frozen")
            texts = [text for text, _ in MonotuiCommands(app.rollouts)._commands()]
            assert "Unfreeze" in texts and "Freeze production" not in texts, "frozen, and nothing left moving"


async def test_the_freeze_key_is_a_binding_id_the_keymap_remaps(engine_for: Callable[..., Engine]) -> None:
    world = staged(1)
    with SimulatorServer(world, tick_interval=None) as sim:
        app = make_app(engine_for(http(sim.url), keymap={"freeze": "f9"}))
        async with app.run_test(size=(80, 24)) as pilot:
            await rows_loaded(app, 8)
            await pilot.press("f9")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmFreezeScreen)
