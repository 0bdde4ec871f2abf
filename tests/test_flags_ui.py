"""Flags on screen and the kill switch, driven with Pilot against the simulator as a real HTTP server (deploys,
health, and the Unleash Admin API it serves as the demo does); flips are made through that Admin API, as a
colleague would. Asserts what the screen shows, what the flag server holds and what the audit log holds."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import SimConfig, World
from monotui.ui.app import MonotuiApp
from monotui.ui.screens.confirm_flag import ConfirmFlagScreen
from monotui.ui.screens.flag_picker import FlagPickerScreen
from monotui.ui.screens.help import HelpScreen

from .conftest import wait_until
from .ui_helpers import cell, notifications, panel_text, rows_loaded, screen_lines, select, settle, static_text, text_of
from .unleash_admin import UnleashAdmin

TOKEN = "sim-admin-token"
SIZE = (120, 35)


@pytest.fixture
def world() -> World:
    """Three services whose last deploys are half an hour old (no rollout is a suspect of a breach now), and no
    flags but the test's own."""
    world = World(SimConfig(services=3, seed=3, deploy_interval=0, flag_share=0),
                  start=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30))
    for _ in range(180):
        world.step(10.0)
    return world


@pytest.fixture
def sim(world: World) -> Iterator[SimulatorServer]:
    with SimulatorServer(world, tick_interval=None, token=TOKEN) as server:
        yield server


@dataclass
class Flags:
    admin: UnleashAdmin
    service: str
    flag: str  # on (rollout 25%), mapped to `service` by its tag


@pytest.fixture
def flags(sim: SimulatorServer, world: World) -> Iterator[Flags]:
    admin = UnleashAdmin(sim.url, TOKEN)
    service = sorted(world.services)[0]
    name = f"t{uuid.uuid4().hex[:6]}-checkout"
    admin.create_flag(name, service=service, rollout=25, enabled=True)
    yield Flags(admin, service, name)
    admin.close()


@pytest.fixture
def app_for(sim: SimulatorServer, make_settings: Callable[..., Any],
            monkeypatch: pytest.MonkeyPatch) -> Callable[..., MonotuiApp]:
    monkeypatch.setenv("MONOTUI_TEST_TOKEN", TOKEN)

    def build(flag_poll: float = 0.2, **overrides: Any) -> MonotuiApp:
        settings = make_settings(
            {"name": "prod", "kind": "http", "url": sim.url, "token_env": "MONOTUI_TEST_TOKEN",
             "poll_interval": 0.2, "timeout": 10.0},
            {"name": "flags", "kind": "unleash", "url": sim.url, "token_env": "MONOTUI_TEST_TOKEN",
             "poll_interval": flag_poll, "timeout": 10.0}, **overrides)
        return MonotuiApp(Engine(settings))

    return build


def row_of(app: MonotuiApp, service: str) -> str:
    return next(key for key, view in app.engine.state.by_key.items() if view.rollout.service == service)


async def shown(app: MonotuiApp, flags: Flags) -> str:
    """Wait until the flag source has listed the test's flag, and select its service's row."""
    await rows_loaded(app)
    await wait_until(lambda: any(f.name == flags.flag for _, f in app.engine.state.flags_of(flags.service)),
                     timeout=30, what="the flag listed")
    key = row_of(app, flags.service)
    select(app, key)
    return key


def breach(world: World, service: str) -> None:
    """The service starts failing (what a bad flag does)."""
    world.services[service].base_error = 0.5
    world.step(1.0)


def audit(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


async def test_a_flip_shows_in_the_table_the_detail_panel_and_the_events(
        flags: Flags, app_for: Callable[..., MonotuiApp]) -> None:
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        key = await shown(app, flags)
        flags.admin.set_rollout(flags.flag, 50)  # a colleague raises the rollout
        await wait_until(lambda: "flags" in app.rollouts.table.shown_columns
                         and cell(app, key, "flags").startswith("⚑"),
                         timeout=30, what="the Flags indicator")
        assert cell(app, key, "flags") in ("⚑ <1m", "⚑ 1m")
        others = [k for k in app.engine.state.by_key if k != key]
        assert all(cell(app, k, "flags") == "" for k in others)  # only the flipped service's row
        await wait_until(lambda: "rollout 25% → 50%" in panel_text(app, "events"), timeout=30,
                         what="the flip in the events panel")
        events = panel_text(app, "events")
        assert f"flag {flags.flag}: strategy changed: rollout 25% → 50% by admin" in events
        await pilot.pause()
        detail = panel_text(app, "detail")
        assert "Flags" in detail
        line = next(line for line in detail.splitlines() if flags.flag in line and "⚑" in line)
        assert "on 50%" in line and "by admin" in line


async def test_the_indicator_fits_80x24(flags: Flags, app_for: Callable[..., MonotuiApp]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)):
        key = await shown(app, flags)
        flags.admin.toggle(flags.flag, False)
        await wait_until(lambda: "flags" in app.rollouts.table.shown_columns
                         and cell(app, key, "flags").startswith("⚑"),
                         timeout=30, what="the Flags indicator at 80 columns")
        assert {"service", "status", "flags"} <= set(app.rollouts.table.shown_columns)


async def test_the_kill_switch_sends_exactly_the_confirmed_flag_and_audits_it(
        flags: Flags, app_for: Callable[..., MonotuiApp], audit_path: Path) -> None:
    other = f"{flags.flag}-other"
    flags.admin.create_flag(other, service=flags.service, rollout=10, enabled=True)
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await shown(app, flags)
        await wait_until(lambda: len(app.engine.state.flags_of(flags.service)) == 2, timeout=30, what="both flags")
        await pilot.press("x")  # two flags, neither a suspect: which one?
        await wait_until(lambda: isinstance(app.screen, FlagPickerScreen), what="the picker")
        names = [f.name for f in app.screen.flags]  # type: ignore[attr-defined]
        await pilot.press(*(["down"] * names.index(flags.flag)), "enter")
        await wait_until(lambda: isinstance(app.screen, ConfirmFlagScreen), what="the confirmation")
        plan = static_text(app, "#confirm-plan")
        assert flags.flag in plan and "default" in plan and "production" in plan
        assert "on 25% → OFF" in plan and "by admin" in plan
        assert app.screen.focused is not None and app.screen.focused.id == "cancel"
        await pilot.press("tab", "enter")
        await settle(pilot)
        await wait_until(lambda: not flags.admin.enabled(flags.flag, "production"), what="the flag off")
        assert flags.admin.enabled(other, "production")  # the other flag was not touched
        await wait_until(lambda: any("done" in n for n in notifications(app)), what="the outcome shown")
        records = audit(audit_path)
        assert [(r["action"], r["outcome"], r["flag"]["name"]) for r in records] == [
            ("flag-off", "intent", flags.flag), ("flag-off", "done", flags.flag)]
        assert records[0]["confirmed_by"] == "dialog"

        # the app has seen the flag off (the server said "done" before the next poll brought it)
        await wait_until(lambda: any(f.name == flags.flag and not f.enabled
                                     for _, f in app.engine.state.flags_of(flags.service)), what="the flag seen off")
        await pilot.press("X")  # and back on: the only flag that is off, straight to its confirmation
        await wait_until(lambda: isinstance(app.screen, ConfirmFlagScreen), what="the confirmation")
        assert "off → ON" in static_text(app, "#confirm-plan")
        await pilot.press("tab", "enter")
        await settle(pilot)
        await wait_until(lambda: flags.admin.enabled(flags.flag, "production"), what="the flag on again")


async def test_target_changed_while_the_dialog_is_open_sends_nothing(
        flags: Flags, app_for: Callable[..., MonotuiApp], audit_path: Path) -> None:
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await shown(app, flags)
        await pilot.press("x")
        await wait_until(lambda: isinstance(app.screen, ConfirmFlagScreen), what="the confirmation")
        events_before = flags.admin.event_ids(flags.flag)
        flags.admin.set_rollout(flags.flag, 60)  # a colleague moves it while the dialog is open
        await wait_until(lambda: "TARGET CHANGED" in static_text(app, "#target-changed"), timeout=30,
                         what="TARGET CHANGED")
        assert "rollout 60%" in static_text(app, "#target-changed")
        await pilot.press("tab", "enter")  # the confirm button is disabled: nothing happens
        await settle(pilot)
        assert isinstance(app.screen, ConfirmFlagScreen)
        assert flags.admin.enabled(flags.flag, "production")
        assert len(flags.admin.event_ids(flags.flag)) == len(events_before) + 1  # the colleague's change only
        assert audit(audit_path) == []


async def test_read_only_says_why_and_sends_nothing(
        flags: Flags, app_for: Callable[..., MonotuiApp], audit_path: Path) -> None:
    app = app_for(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await shown(app, flags)
        events_before = flags.admin.event_ids(flags.flag)
        await pilot.press("x")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmFlagScreen)
        assert "read-only: actions are off" in notifications(app)
        assert flags.admin.enabled(flags.flag, "production")
        assert flags.admin.event_ids(flags.flag) == events_before
        assert audit(audit_path) == []


async def test_a_service_without_flags_says_so(flags: Flags, app_for: Callable[..., MonotuiApp],
                                               world: World) -> None:
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await shown(app, flags)
        other = sorted(world.services)[1]
        select(app, row_of(app, other))
        await pilot.press("x")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmFlagScreen)
        assert f"no flags for {other}: no flag source maps a flag to it" in notifications(app)


async def test_the_drill_a_bad_flip_is_off_in_three_keys(
        flags: Flags, app_for: Callable[..., MonotuiApp], world: World, audit_path: Path) -> None:
    """From the moment the bad flip is flagged as the suspect: `s`, Tab, Enter."""
    flags.admin.toggle(flags.flag, False)
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        key = await shown(app, flags)
        select(app, next(k for k in app.engine.state.by_key if k != key))  # the operator is looking elsewhere
        flags.admin.toggle(flags.flag, True)  # the bad flip
        await wait_until(lambda: app.engine.state.recent_flag_change(flags.service) is not None, timeout=30,
                         what="the flip seen")
        breach(world, flags.service)
        # the flip to on as the suspect (the flag's earlier change to off, on a fast run, can be flagged first)
        await wait_until(lambda: any(c.flag.enabled for c in app.engine.state.by_key[key].flag_suspects), timeout=30,
                         what="the flag flagged as a suspect")
        select(app, key)
        await pilot.pause()
        evidence = next(line for line in panel_text(app, "detail").splitlines() if "SUSPECT FLAG" in line)
        # the figure as the poll read it: while it is one the flip's share of traffic explains, "before the flip →";
        # read later (a loaded machine), the rise is past what 25% of traffic can cause and monotui says so
        explained = "before the flip →" in evidence or (
            "now, not from it: it serves 25% of traffic" in evidence and "cannot explain" in evidence)
        assert flags.flag in evidence and explained and "by admin, breached" in evidence, evidence
        select(app, next(k for k in app.engine.state.by_key if k != key))  # back to where the operator was

        await pilot.press("s")
        await settle(pilot)
        dialog = "\n".join(screen_lines(app))
        assert isinstance(app.screen, ConfirmFlagScreen) and flags.flag in dialog, dialog
        await pilot.press("tab", "enter")
        await settle(pilot)
        try:
            await wait_until(lambda: len(audit(audit_path)) >= 2, timeout=60, what="the kill switch's outcome")
        except AssertionError as e:
            raise AssertionError("\n".join([str(e), *screen_lines(app)])) from None
        assert not flags.admin.enabled(flags.flag, "production"), (audit(audit_path), dialog)
        assert app.rollouts.table.selected_key == key  # `s` moved to the suspect's row
        assert [(r["action"], r["outcome"]) for r in audit(audit_path)] == [("flag-off", "intent"),
                                                                            ("flag-off", "done")]


async def test_help_and_footer_show_the_kill_switch_keys(flags: Flags, app_for: Callable[..., MonotuiApp]) -> None:
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await shown(app, flags)
        await wait_until(lambda: any("x Flag off" in line for line in screen_lines(app)), what="x in the footer")
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        shown_text = "\n".join(text_of(s.content) for s in app.screen.query("Static"))
        assert "Flag off" in shown_text and "Flag on" in shown_text and "flag.off" in shown_text


async def test_the_kill_switch_key_can_be_remapped(flags: Flags, app_for: Callable[..., MonotuiApp]) -> None:
    app = app_for(keymap={"flag.off": "ctrl+k"})
    async with app.run_test(size=SIZE) as pilot:
        await shown(app, flags)
        await pilot.press("x")  # no longer bound
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmFlagScreen)
        await pilot.press("ctrl+k")
        await wait_until(lambda: isinstance(app.screen, ConfirmFlagScreen), what="the confirmation")
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmFlagScreen)
        assert any("Nothing was sent" in n for n in notifications(app))
        assert flags.admin.enabled(flags.flag, "production")


async def test_a_change_the_screen_has_not_seen_yet_is_refused_by_the_pin_and_said_so(
        flags: Flags, app_for: Callable[..., MonotuiApp], audit_path: Path) -> None:
    """The flag moves after the dialog opened and before any poll shows it: confirming reads it again, sends
    nothing, and the outcome says refused and why."""
    app = app_for(flag_poll=3600)  # one poll at the start, none while the dialog is open
    async with app.run_test(size=SIZE) as pilot:
        await shown(app, flags)
        await pilot.press("x")
        await wait_until(lambda: isinstance(app.screen, ConfirmFlagScreen), what="the confirmation")
        flags.admin.set_rollout(flags.flag, 70)
        await pilot.press("tab", "enter")
        await settle(pilot)
        await wait_until(lambda: any("refused" in n for n in notifications(app)), what="the refusal shown")
        refusal = next(n for n in notifications(app) if "refused" in n)
        assert flags.flag in refusal and "rollout 70%" in refusal
        assert flags.admin.enabled(flags.flag, "production")  # nothing was sent
        assert [r["outcome"] for r in audit(audit_path)] == ["intent", "refused"]
