"""What an action flow may ask of the screen that starts it, and nothing more: the engine, the clock, a dialog, a
notice, a worker, an outcome shown. The rollouts screen is the host; a test may be another."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, Protocol, TypeVar

from textual.notifications import SeverityLevel
from textual.screen import Screen

from monotui.engine.core import ActionOutcome, Engine

T = TypeVar("T")


class FlowHost(Protocol):
    @property
    def engine(self) -> Engine: ...

    def now(self) -> datetime:
        """The screen's clock (a frozen one in tests)."""
        ...

    def say(self, text: str, severity: SeverityLevel = "information", timeout: float | None = None) -> None:
        """A notice, as plain text (never markup: service and flag names are untrusted)."""
        ...

    def ask(self, dialog: Screen[T], answered: Callable[[T | None], None],
            recheck: Callable[[], None] | None = None) -> None:
        """Open `dialog`; `answered` gets what it was dismissed with. `recheck`, for a dialog pinned to a target,
        is called at every refresh while the dialog is on top (it tells the dialog when its target changed)."""
        ...

    def run(self, work: Coroutine[Any, Any, None]) -> None:
        """Run a mutating request in the background (the "actions" worker group; an error never exits the app)."""
        ...

    def show_outcome(self, outcome: ActionOutcome) -> None:
        """Say what an action did (or that its outcome is unknown) and show the rows as they are now."""
        ...

    def refresh_views(self, force: bool = False) -> None: ...
