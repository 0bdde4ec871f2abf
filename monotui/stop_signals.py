"""SIGTERM and SIGHUP (`kill`, a closed tmux pane or SSH session) end monotui the way `q` does, so every `with`
block unwinds: the demo's Prometheus and Alertmanager do not watch their parent (the simulator does: its stdin
closes) and, killed by the default action, the demo left them running with their temporary folders.

An orderly stop can itself be stuck: when the terminal's reader has gone (`monotui demo | head -3`, a dead SSH
session), Textual's output thread dies on the broken pipe and the app's next write blocks its event loop for good,
so the quit the signal asked for never runs. A stop signal therefore also arms a watchdog: if no `StopSignals`
block has been left `GIVE_UP_AFTER_S` after the signal (the app's block is left as soon as the app has quit; the
children's stops that follow are bounded), the watchdog runs the blocks' `emergency` callbacks (stop the children)
in its own thread and ends the process (exit status 128 + the signal).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Self

SIGNALS = (signal.SIGTERM, signal.SIGHUP)
GIVE_UP_AFTER_S = 5.0  # an orderly stop takes well under a second plus the children's own stop

_lock = threading.Lock()
_depth = 0  # StopSignals blocks entered and not left
_emergency: list[Callable[[], object]] = []  # the blocks' callbacks, innermost last
_watchdog: threading.Timer | None = None


def _give_up(signum: int) -> None:
    """The watchdog's end: the orderly stop did not finish in time. Stop the children, innermost first, then go."""
    with _lock:
        callbacks = list(reversed(_emergency))
    for callback in callbacks:
        with contextlib.suppress(BaseException):  # one that fails must not keep the others (or the exit) from running
            callback()
    os._exit(128 + signum)


def _arm(signum: int) -> None:
    global _watchdog
    with _lock:
        if _watchdog is None and _depth > 0:
            _watchdog = threading.Timer(GIVE_UP_AFTER_S, _give_up, (signum,))
            _watchdog.daemon = True
            _watchdog.start()


class StopSignals:
    """`with StopSignals() as stop: ...; stop.quit = app.exit; app.run()`: while `quit` is set and its event loop
    runs, a signal asks it to quit; otherwise the signal raises SystemExit where the program is (exit status
    128 + the signal's number, as the shell says it). `emergency`: what the watchdog runs (from its own thread)
    when the stop is stuck — stop the child processes this block started."""

    def __init__(self, emergency: Callable[[], object] | None = None) -> None:
        self.quit: Callable[[], Any] | None = None
        self.emergency = emergency
        self._before: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        _arm(signum)
        if self.quit is not None:
            with contextlib.suppress(RuntimeError):  # RuntimeError: no event loop runs (yet, or any more)
                asyncio.get_running_loop().call_soon_threadsafe(self.quit)
                return
        raise SystemExit(128 + signum)

    def __enter__(self) -> Self:
        global _depth
        with _lock:
            _depth += 1
            if self.emergency is not None:
                _emergency.append(self.emergency)
        for sig in SIGNALS:
            self._before[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        global _depth, _watchdog
        for sig, before in self._before.items():
            signal.signal(sig, before)
        with _lock:
            _depth -= 1
            if self.emergency is not None:
                _emergency.remove(self.emergency)
            if _watchdog is not None:  # the stop moves on (the app's block is left): what follows is bounded
                _watchdog.cancel()
                _watchdog = None
