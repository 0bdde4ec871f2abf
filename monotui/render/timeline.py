"""The timeline's lines as rich Text (engine/timeline.py entries): the time, an icon that reads without colour, the
service, what happened, who did it and where monotui read it. Every string is the entry's, already cleaned, shown
through `plain` (never markup)."""

from __future__ import annotations

from rich.text import Text

from monotui.engine.timeline import Entry
from monotui.formats import clock_time
from monotui.render.text import join, plain

ICONS: dict[str, tuple[str, str]] = {
    "deploy": ("+", "cyan"), "step": ("›", ""), "pause": ("‖", "yellow"), "resume": ("▸", "cyan"),
    "promote": ("»", "cyan"), "complete": ("✔", "green"), "degraded": ("✖", "bold red"), "abort": ("■", "red"),
    "rollback": ("↩", "magenta"), "flag": ("⚑", "yellow"), "alert": ("!", "bold red"),
    "alert-resolved": ("✓", "green"), "breach": ("▲", "bold red"), "recovery": ("▼", "green"),
    "freeze": ("❄", "bold"), "unfreeze": ("☀", "bold"), "action": ("⌘", "bold"),
}


def entry_line(entry: Entry) -> Text:
    """13:10:45 ↩ cart-api rolled back automatically r12: … — auto-rollback [prod]"""
    icon, style = ICONS.get(entry.kind, ("·", ""))
    parts: list[Text | str] = [Text(clock_time(entry.at), style="dim"), Text(icon, style=style)]
    parts.append(plain(entry.service or "production", style="bold", limit=40))
    line = join(*parts, plain(entry.what, style=style, limit=400))
    if entry.who:
        line.append(" — ")
        line.append_text(plain(entry.who, style="italic", limit=120))
    line.append(" ")
    line.append_text(plain(f"[{entry.source}]", style="dim", limit=62))
    line.no_wrap = False
    line.overflow = "fold"
    return line
