"""The footer rebuilds once for changes that come together, and a dialog opened and closed before it was drawn does
not leave the footer stale."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.widgets._footer import FooterKey

from monotui.simulator.world import World
from monotui.ui.app import MonotuiApp
from monotui.ui.screens.help import HelpScreen

from .conftest import wait_until
from .test_flags_ui import Flags, app_for, flags, row_of, shown, sim, world  # noqa: F401  (their fixtures)
from .ui_helpers import select, settle


def flag_key_offered(app: MonotuiApp) -> bool:
    return any(k.action == "flag('off')" for k in app.screen_stack[0].query(FooterKey))


async def test_a_dialog_opened_and_closed_at_once_does_not_leave_the_footer_stale_for_good(
        flags: Flags, app_for: Callable[..., MonotuiApp], world: World) -> None:  # noqa: F811  (fixtures)
    """The cursor moves to a service without flags (the footer must drop `x Flag off`) and in the same burst of keys
    the help opens and closes before it was drawn: the footer's queued rebuild is not lost with the help screen, and
    later changes still rebuild it."""
    app = app_for()
    async with app.run_test(size=(120, 35)) as pilot:
        key = await shown(app, flags)
        await settle(pilot, 0.3)
        assert flag_key_offered(app)
        select(app, row_of(app, sorted(world.services)[1]))
        dialog = HelpScreen(False, lambda command: True, lambda command: "?")
        app.push_screen(dialog)  # `?`
        for _ in range(1000):  # until the footer's rebuild, queued by the move, waits on the help (if it does)
            if dialog._callbacks:
                break
            await asyncio.sleep(0)
        app.pop_screen()  # `escape`, before the help was drawn
        await wait_until(lambda: not flag_key_offered(app), timeout=10, what="x Flag off gone from the footer")
        select(app, key)
        await wait_until(lambda: flag_key_offered(app), timeout=10, what="x Flag off back in the footer")
