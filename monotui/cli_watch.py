"""`monotui status --watch`: the rollouts again every `--interval`, until no rollout is progressing (as `kubectl
argo rollouts status --watch` waits for a rollout to finish).

- On a terminal the table is redrawn in place (rich Live); piped, the last poll's table is printed once at the end.
- With `--json`, one JSON document per poll, one per line (JSON Lines), the same document as `status --json`:
  `jq` reads the stream as it comes, and the last line is the state that ended the watch.
- Exit: 0 once nothing is progressing (Paused waits for a human: it is not progressing); 1 when a source was
  unreachable at the last poll; 3 when `--timeout` passed first; 130 on Ctrl+C.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monotui.colour_env import no_color_asked
from monotui.models import Phase

if TYPE_CHECKING:
    from monotui.config import Settings
    from monotui.engine.core import Engine

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_TIMEOUT = 0, 1, 2, 3


def progressing(engine: Engine) -> list[str]:
    return [view.key for view in engine.state.views() if view.rollout.phase is Phase.PROGRESSING]


def _table(engine: Engine, now: datetime, width: int | None, footer: str) -> Any:
    """The status table as `monotui status` prints it, with one line under it, as a renderable."""
    from io import StringIO

    from rich.console import Console
    from rich.text import Text

    from monotui.cli_status import print_status

    buffer = StringIO()
    console = Console(file=buffer, highlight=False, force_terminal=True, width=width or 120,
                      no_color=no_color_asked() or None)
    print_status(engine, now, console)
    text = Text.from_ansi(buffer.getvalue())
    text.append(f"\n{footer}", style="dim")
    return text


async def run_watch(settings: Settings, json_output: bool, source: str | None, interval: float,
                    timeout: float | None) -> int:
    from rich.console import Console
    from rich.live import Live

    from monotui.cli_status import fail as _fail
    from monotui.cli_status import sources_problem, status_json
    from monotui.engine.core import Engine
    from monotui.render.inert import inert_json

    settings, problem = sources_problem(settings, source)
    if problem:
        return _fail(problem)
    console = Console(highlight=False, no_color=no_color_asked() or None)
    live = None if json_output or not console.is_terminal else Live(console=console, auto_refresh=False,
                                                                     transient=False)
    started = time.monotonic()
    engine = Engine(settings)
    try:
        if live is not None:
            live.start()
        while True:
            updates = await engine.refresh_once()
            now = datetime.now(UTC)
            moving = progressing(engine)
            ok = all(u.ok for u in updates)
            timed_out = timeout is not None and time.monotonic() - started >= timeout
            done = not moving and ok
            if json_output:
                print(inert_json(status_json(engine, now), indent=None), flush=True)
            elif live is not None:
                footer = (f"{len(moving)} progressing — again every {interval:g} s (Ctrl+C stops)" if moving
                          else "nothing progressing" if ok else "a source is unreachable — trying again")
                live.update(_table(engine, now, console.width, footer), refresh=True)
            if done or timed_out:
                break
            await asyncio.sleep(interval)
    finally:
        if live is not None:
            live.stop()
        await engine.aclose()
    if live is None and not json_output:
        print_final(engine, now)
    if moving:  # the timeout passed first
        print(f"monotui: still progressing after {timeout:g} s: {', '.join(moving)}", file=sys.stderr)
        return EXIT_TIMEOUT
    return EXIT_OK if ok else EXIT_FAILED


def print_final(engine: Engine, now: datetime) -> None:
    from monotui.cli_status import print_status

    print_status(engine, now)
