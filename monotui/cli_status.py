"""What `monotui status` prints, as a table or as JSON: shared by `status` and `status --watch` (cli_watch.py)."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

from monotui.colour_env import no_color_asked
from monotui.models import fields_of
from monotui.owners import owner_json

EXIT_USAGE = 2


def sources_problem(settings: Any, source: str | None) -> tuple[Any, str | None]:
    """The settings narrowed to --source (when given), or what is wrong with them: `status` and `status --watch`."""
    if source:
        try:
            settings = settings.model_copy(update={"sources": [settings.source(source)]})
        except KeyError:
            return settings, f"--source: no source named {source!r}"
    if not settings.sources:
        return settings, "no source configured (`monotui config init` writes an example, or try `monotui demo`)"
    return settings, None


def fail(message: str, code: int = EXIT_USAGE) -> int:
    """Say what is wrong on stderr ("monotui: …") and give the exit status."""
    print(f"monotui: {message}", file=sys.stderr)
    return code


def status_json(engine: Any, now: datetime) -> dict[str, Any]:
    state = engine.state
    sources = []
    for name, data in state.sources.items():
        s = data.status
        sources.append({"name": name, "state": s.state, "error": s.error, "read_only": s.read_only})
    rollouts = []
    for view in state.views(now):
        item = fields_of(view.rollout)  # inert_json encodes the models in C, as as_json's dicts would be
        item["source"] = view.source
        item["attention"] = view.attention.name.lower()
        item["health"] = fields_of(view.health, exclude={"series"}) if view.health else None
        item["owner"] = owner_json(view.owner)  # as merged (config first), every key present: null when unknown
        rollouts.append(item)
    # a server's text is sanitised as it is printed (render.inert.inert_json): `jq -r` prints it to a terminal
    return {"generated_at": now.isoformat(), "sources": sources, "freeze": engine.freezes.status(),
            "rollouts": rollouts}


def print_status(engine: Any, now: datetime, console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from monotui.render.rollouts import COLUMNS, row_cells
    from monotui.render.text import plain

    # piped output keeps whole lines (a terminal gets its own width)
    width = None if sys.stdout.isatty() else 200
    console = console or Console(highlight=False, no_color=no_color_asked() or None, width=width)
    holds = {hold.source: hold for hold in engine.holds()}
    for name, data in engine.state.sources.items():
        line = Text()
        line.append_text(plain(name, style="bold"))
        line.append(": ")
        if data.status.state == "ok":
            line.append("ok", style="green")
        else:
            line.append(f"{data.status.state}: ", style="bold red")
            line.append_text(plain(data.status.error or "", limit=300))
        if name in holds:  # the freeze, in words: it reads without colour
            line.append("  ")
            line.append_text(plain(holds[name].text().replace("frozen", "FROZEN", 1), style="bold reverse",
                                   limit=300))
        console.print(line)
    table = Table(box=None, header_style="bold", pad_edge=False)
    multi = len(engine.state.sources) > 1
    if multi:
        table.add_column("Source")
    for column in COLUMNS:
        table.add_column(column.label, no_wrap=True)
    for view in engine.state.views(now):
        # the Flags column as the TUI has it: a flag of the service changed lately
        cells = row_cells(view, now, engine.settings.thresholds,
                          lambda service: engine.state.recent_flag_change(service, now))
        table.add_row(*((plain(view.source),) if multi else ()), *cells)
    console.print(table)
