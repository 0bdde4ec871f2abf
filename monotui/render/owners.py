"""Who owns a service, as rich Text for the detail panel and every confirmation. Links are plain text (no `link`
style: nothing on screen opens them); every value went through monotui.text.clean (monotui/owners.py) and again
through `plain` here."""

from __future__ import annotations

from rich.text import Text

from monotui.models import Owner
from monotui.owners import owner_line
from monotui.render.text import join, plain


def owner_text(owner: Owner | None) -> Text:
    """The line every confirmation shows: "owner: payments-team, on call: payments-primary"."""
    return plain(owner_line(owner), style="bold" if owner is not None else "dim", limit=200)


def owner_head(owner: Owner | None) -> Text:
    """The detail panel's Owner line: the team and who is on call."""
    if owner is None:
        return Text("unknown (no team configured)", style="dim")
    head = [plain(owner.team or "unknown", style="bold", limit=80)]
    if owner.on_call:
        head += [Text("· on call"), plain(owner.on_call, style="bold", limit=80)]
    return join(*head)


def owner_links(owner: Owner | None) -> list[tuple[str, Text]]:
    """The detail panel's Runbook and Dashboard lines (label, value), as text."""
    rows: list[tuple[str, Text]] = []
    if owner is None:
        return rows
    if owner.runbook:
        rows.append(("Runbook", plain(owner.runbook, limit=300)))
    if owner.dashboard:
        rows.append(("Dashboard", plain(owner.dashboard, limit=300)))
    return rows
