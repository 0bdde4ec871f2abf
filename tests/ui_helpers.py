"""Helpers for driving the real app with Pilot against the simulator."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

from monotui.engine.core import Engine
from monotui.simulator.world import World
from monotui.ui.app import MonotuiApp
from monotui.ui.widgets.panels import RenderablePanel

from .conftest import wait_until


def text_of(renderable: Any) -> str:
    """What a rich renderable shows, as plain text."""
    if hasattr(renderable, "plain"):
        return str(renderable.plain)
    console = Console(width=300, record=True, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def static_text(app: MonotuiApp, selector: str) -> str:
    return text_of(app.screen.query_one(selector, Static).content)


def panel_text(app: MonotuiApp, panel_id: str) -> str:
    """The lines a panel (detail, events) holds, one per line it was given."""
    return "\n".join(app.query_one(f"#{panel_id}", RenderablePanel).lines)


def row_text(app: MonotuiApp, key: str) -> list[str]:
    return [cell.plain for cell in app.rollouts.table.get_row(key)]


def cell(app: MonotuiApp, key: str, column: str) -> str:
    """The text of one cell as the table shows it, by row key and column key (a hidden column raises)."""
    return str(app.rollouts.table.get_cell(key, column).plain)


def cell_or_blank(app: MonotuiApp, key: str, column: str) -> str:
    """A cell's text, or "" when its column is not shown (an empty column, like Alerts with none firing, takes no
    width)."""
    return cell(app, key, column) if column in app.rollouts.table.shown_columns else ""


def notifications(app: MonotuiApp) -> list[str]:
    return [n.message for n in app._notifications]


async def rows_loaded(app: MonotuiApp, count: int | None = None) -> None:
    # generous: a first poll and paint took over 10 s once with both cores busy (the full suite under load)
    await wait_until(lambda: app.rollouts.table.row_count > 0
                     and (count is None or app.rollouts.table.row_count == count),
                     timeout=30, what="rows loaded")


def select(app: MonotuiApp, key: str) -> None:
    app.rollouts.table.move_cursor(row=app.rollouts.table._order.index(key), animate=False)


async def settle(pilot: Pilot[None], seconds: float = 0.05) -> None:
    await pilot.pause(seconds)
    actions = [w for w in pilot.app.workers if w.group == "actions"]
    if actions:  # an empty list would mean "every worker", the endless poll loops included
        await pilot.app.workers.wait_for_complete(actions)
    await pilot.pause()


def make_app(engine: Engine, **kwargs: Any) -> MonotuiApp:
    return MonotuiApp(engine, **kwargs)



def screen_lines(app: MonotuiApp) -> list[str]:
    """What the terminal shows, line by line (the composited screen, as text)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def on_world_clock(engine: Engine, world: World) -> MonotuiApp:
    """An app (not polling by itself) that reads the time from the simulated world: a test moves time by stepping
    the world, and ages, windows and stamps follow it."""
    engine.state.clock = lambda: world.now
    return MonotuiApp(engine, poll=False, clock=lambda: world.now)


async def poll_now(app: MonotuiApp) -> None:
    """One real poll of every source (each must answer), shown now, not at the next frame: assertions read it."""
    updates = await app.engine.refresh_once()
    assert all(u.ok for u in updates), [u.error for u in updates]
    app.rollouts.refresh_views(force=True)


async def open_help(app: MonotuiApp, pilot: Pilot[None]) -> None:
    """`?` once the rows are in: the help dialog is on top."""
    from monotui.ui.screens.help import HelpScreen

    await rows_loaded(app)
    await pilot.press("question_mark")
    await settle(pilot)
    assert isinstance(app.screen, HelpScreen)
