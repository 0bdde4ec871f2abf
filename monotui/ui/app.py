"""The monotui Textual app: it wires the engine's sources to the rollouts screen, applies the user's keymap, and keeps
the theme and the screen stack. What the screen shows, and what its keys do, is the screen's (screens/rollouts.py),
the command table's (commands.py) and the flows' (flows/)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from textual import work
from textual.binding import Binding
from textual.screen import Screen

from monotui import startup_gc
from monotui.compat.textual import QuietCrashApp, keymap_of
from monotui.engine.core import Engine
from monotui.text import clean
from monotui.ui import commands
from monotui.ui.messages import SourceUpdated
from monotui.ui.no_color import choose_colours, follow_theme, sixteen_colours
from monotui.ui.palette import MonotuiCommands
from monotui.ui.screens.rollouts import RolloutsScreen
from monotui.ui.scrollbars import whole_cell_scrollbars

# The dialogs (monotui.ui.screens) are imported when a key opens one: not on the way to the first rows.

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)


class MonotuiApp(QuietCrashApp[None]):
    CSS_PATH = "app.tcss"
    TITLE = "monotui"
    COMMANDS = QuietCrashApp.COMMANDS | {MonotuiCommands}

    rollouts: RolloutsScreen  # the main screen (the default screen: the bottom of the stack)

    def __init__(self, engine: Engine, *, clock: Clock | None = None, poll: bool = True,
                 follow: Path | None = None) -> None:
        super().__init__()
        self._follow = follow  # an observer of `monotui serve --follow`: the operator's view socket
        self.engine = engine
        self.settings = engine.settings
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self._poll = poll
        self.crash: str | None = None  # set when an unexpected exception stopped the app
        self._unknown_keys: list[str] = []
        try:
            self.theme = self.settings.theme
        except Exception:  # an unknown theme name is not worth refusing to start during an incident
            self.theme = "textual-dark"
        choose_colours(self)
        whole_cell_scrollbars()

    def watch_theme(self) -> None:
        follow_theme(self)

    def get_default_screen(self) -> Screen[None]:
        self.rollouts = RolloutsScreen(self.engine, self.clock, self.key_of, self._first_rows_drawn, self._follow)
        return self.rollouts

    def on_load(self) -> None:
        # before the rollouts screen mounts: its first banner and detail name the keys as the keymap has them
        self._unknown_keys = self._apply_keymap()

    def on_mount(self) -> None:
        sixteen_colours(self)
        if self._unknown_keys:
            self.notify(f"keymap: unknown binding id(s) {', '.join(clean(u, 40) for u in self._unknown_keys)}; "
                        "see ? for ids", severity="warning", markup=False, timeout=10)
        if self._poll:
            self.engine.rows_first = True  # the flag sources start once the first rows are drawn
            for source in self.engine.providers:
                self._poll_source(source)
        if startup_gc.paused():  # the command paused the cycle collector for start-up: back after the first rows
            self.set_timer(startup_gc.RESUME_AT_MOST_S, startup_gc.resume)
        for warning in self.engine.warnings:
            self.notify(warning, severity="warning", timeout=30, markup=False)

    def _apply_keymap(self) -> list[str]:
        """The config's [keymap]: binding id → keys. An unknown id is named (returned), not fatal."""
        wanted = dict(self.settings.keymap)
        unknown = sorted(set(wanted) - {c.id for c in commands.COMMANDS})
        for binding_id in unknown:
            del wanted[binding_id]
        if wanted:
            self.set_keymap(wanted)
        return unknown

    # ---- sources ----------------------------------------------------------------------------------------

    @work(group="poll", exit_on_error=False)
    async def _poll_source(self, source: str) -> None:
        async for update in self.engine.updates(source):
            self.rollouts.post_message(SourceUpdated(update))

    def _first_rows_drawn(self) -> None:
        self.engine.rows_shown()
        if startup_gc.paused():
            # not at once: Textual's writer thread still has the frame to write, and a full collection holds the GIL
            self.set_timer(startup_gc.AFTER_FIRST_ROWS_S, startup_gc.resume)

    def key_of(self, binding_id: str) -> str:
        """The key bound to a command now, as shown to the user (the user's keymap may have moved it)."""
        command = commands.command(binding_id)
        keys = keymap_of(self).get(binding_id)
        key = keys.split(",")[0].strip() if keys else command.key
        return command.key_display if key == command.key and command.key_display else self.get_key_display(
            Binding(key, command.action))

    # ---- the end ----------------------------------------------------------------------------------------

    def crashed(self, error: BaseException | None) -> None:
        """An unexpected exception: its traceback goes to the log file (Textual would print it, locals and all,
        on the terminal); the app exits with status 1 and `crash` says what happened in one line."""
        self.crash = type(error).__name__ if error is not None else "unknown error"
        log.error("the app stopped on an unexpected error", exc_info=error)

    async def on_unmount(self) -> None:
        await self.engine.aclose()
