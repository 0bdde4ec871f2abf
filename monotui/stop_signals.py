"""SIGTERM and SIGHUP (`kill`, a closed tmux pane or SSH session) end monotui the way `q` does, so every `with`
block unwinds: the demo's Prometheus and Alertmanager do not watch their parent (the simulator does: its stdin
closes) and, killed by the default action, the demo left them running with their temporary folders."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from types import FrameType
from typing import Any, Self

SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class StopSignals:
    """`with StopSignals() as stop: ...; stop.quit = app.exit; app.run()`: while `quit` is set and its event loop
    runs, a signal asks it to quit; otherwise the signal raises SystemExit where the program is (exit status
    128 + the signal's number, as the shell says it)."""

    def __init__(self) -> None:
        self.quit: Callable[[], Any] | None = None
        self._before: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.quit is not None:
            with contextlib.suppress(RuntimeError):  # RuntimeError: no event loop runs (yet, or any more)
                asyncio.get_running_loop().call_soon_threadsafe(self.quit)
                return
        raise SystemExit(128 + signum)

    def __enter__(self) -> Self:
        for sig in SIGNALS:
            self._before[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, before in self._before.items():
            signal.signal(sig, before)
