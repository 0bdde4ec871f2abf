"""A flag change made through monotui names its operator wherever the change is shown — the events panel, the
detail panel's flag line, the kill switch's confirmation ("Changed … by"), `monotui flags` and its JSON — not the
flag server's token user ("admin"): the change is joined with the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from monotui.cli_flags import _when, flags_json
from monotui.engine import Engine
from monotui.render.detail import event_line
from monotui.render.flags import flag_line, plan_rows
from tests.flag_servers import Setup, engine_fixture, flag_sim, flag_world, setup_fixture  # noqa: F401  (fixtures)

from .conftest import ACTOR

VIA = f"{ACTOR} via monotui (admin token)"


async def test_the_operator_is_named_wherever_the_change_is_shown(setup: Setup, engine: Engine) -> None:
    setup.world.now = datetime.now(UTC)
    setup.admin.toggle(setup.flag, True)  # on the flag server itself: it keeps the server's name
    await engine.refresh_once()
    flag = engine.state.flag("flags", setup.flag)
    assert flag is not None and flag.last_change is not None and flag.last_change.actor == "admin"
    outcome = await engine.execute_flag(engine.plan_flag("flags", flag, False), "errors up", confirmed_by="dialog")
    assert outcome.ok, outcome.message()
    await engine.refresh_once()
    now = datetime.now(UTC)
    flag = engine.state.flag("flags", setup.flag)
    assert flag is not None and flag.last_change is not None
    assert flag.last_change.actor == VIA
    assert VIA in flag_line(flag, now).plain, "the detail panel's flag line"
    changed = dict(plan_rows(flag, True, "flags"))["Changed"].plain
    assert VIA in changed, "the kill switch's confirmation"
    assert VIA in _when(flag, now), "monotui flags"
    [item] = [f for f in flags_json(engine, now)["flags"] if f["name"] == setup.flag]
    assert item["last_change"]["actor"] == VIA, "monotui flags --json"
    lines = [event_line(e, now).plain for e in engine.state.recent_events("flags") if e.flag_change is not None]
    assert any(line.endswith(f"disabled by {VIA}") for line in lines), "the events panel"
    await engine.refresh_once()  # the next polls keep it
    again = engine.state.flag("flags", setup.flag)
    assert again is not None and again.last_change is not None and again.last_change.actor == VIA


async def test_a_fresh_engine_reading_the_same_audit_log_names_the_operator(
        setup: Setup, engine: Engine, make_settings: Callable[..., Any]) -> None:
    setup.world.now = datetime.now(UTC)
    flag = engine.state.flag("flags", setup.flag)
    assert flag is not None
    outcome = await engine.execute_flag(engine.plan_flag("flags", flag, not flag.enabled), None,
                                        confirmed_by="dialog")
    assert outcome.ok, outcome.message()
    async with Engine(engine.settings) as later:  # `monotui flags` later, on this machine
        await later.refresh_once()
        seen = later.state.flag("flags", setup.flag)
        assert seen is not None and seen.last_change is not None and seen.last_change.actor == VIA
