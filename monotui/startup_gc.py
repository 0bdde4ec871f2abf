"""Start-up without the cycle collector.

Before its first rows, the TUI's process creates over a hundred thousand objects the cycle collector tracks
(modules, classes, configuration models, Textual's styles and widgets), and the collector walks them again and
again while they are being created, on the path to the first rows (docs/performance.md). The TUI commands
`pause` it at their start; the app `resume`s it 0.2 s after its first rows are drawn (or after
`RESUME_AT_MOST_S`): one full collection then, off the path to the first rows (start-up leaves many of those
objects in cycles), and a freeze of what survives, so that later full collections no longer walk what start-up
built.

Kept apart from the UI and the engine: it is process state, like the signal handlers."""

from __future__ import annotations

import gc

RESUME_AT_MOST_S = 5.0  # no rows yet (no source answered): the collector comes back anyway
AFTER_FIRST_ROWS_S = 0.2  # from drawing the first rows to the collection: the frame is on the terminal by then

_paused = False


def pause() -> None:
    """Turn the cycle collector off until `resume` (a no-op if it is off already: someone else owns that)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Collect what start-up left in cycles, freeze what survives, turn the collector back on. Idempotent: only
    the first call after a `pause` does anything, so the app and the command's `finally` may both call it."""
    global _paused
    if not _paused:
        return
    _paused = False
    gc.collect()
    gc.freeze()
    gc.enable()


def paused() -> bool:
    return _paused
