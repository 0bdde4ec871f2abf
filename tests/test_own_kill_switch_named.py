"""monotui's own kill switch in the events panel names the operator: the flag server records the token's user, the
audit log says who of this monotui sent it — "disabled by <actor> via monotui (admin token)". A toggle made on the
flag server itself keeps the name the server gives."""

from __future__ import annotations

from datetime import UTC, datetime

from monotui.engine import Engine
from monotui.models import FlagChangeKind
from monotui.render.detail import event_line
from tests.flag_servers import Setup, engine_fixture, flag_sim, flag_world, setup_fixture  # noqa: F401  (fixtures)

from .conftest import ACTOR


def change_lines(engine: Engine, flag: str, kind: FlagChangeKind) -> list[str]:
    return [event_line(item, datetime.now(UTC)).plain for item in engine.state.recent_events("flags")
            if item.flag_change is not None and item.flag_change.flag == flag and item.flag_change.kind is kind]


async def test_monotuis_own_toggle_names_the_operator_and_the_token(setup: Setup, engine: Engine) -> None:
    setup.world.now = datetime.now(UTC)  # the simulated flag server's times: now, however long the session ran
    setup.admin.toggle(setup.flag, True)  # on the flag server itself, with its admin token
    await engine.refresh_once()
    [enabled] = change_lines(engine, setup.flag, FlagChangeKind.ENABLED)
    assert enabled.endswith("by admin"), "a change monotui did not make keeps the server's name"
    flag = engine.state.flag("flags", setup.flag)
    assert flag is not None
    outcome = await engine.execute_flag(engine.plan_flag("flags", flag, False), "errors up", confirmed_by="dialog")
    assert outcome.ok, outcome.message()
    await engine.refresh_once()
    [disabled] = change_lines(engine, setup.flag, FlagChangeKind.DISABLED)
    assert disabled.endswith(f"disabled by {ACTOR} via monotui (admin token)"), disabled
