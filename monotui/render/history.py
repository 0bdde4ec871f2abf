"""A rollout's revisions and a diff between two of them as rich Text lines (server text through render/text.py,
never markup). The +, - and ~ signs carry the meaning; colour only adds to them (NO_COLOR keeps every sign)."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from monotui.formats import age
from monotui.render.text import join, plain
from monotui.revisions import ENDING_WORDS, Diff, Ending, Revision

ENDING_STYLES = {
    Ending.LIVE: "bold green", Ending.PROMOTED: "green", Ending.ABORTED: "red", Ending.ROLLED_BACK: "magenta",
    Ending.AUTO_ROLLED_BACK: "bold magenta", Ending.SUPERSEDED: "dim", Ending.UNKNOWN: "dim",
}
MAX_IMAGES = 20  # images shown in full under a revision; the rest are counted
SIGN_STYLES = {"-": "red", "+": "green", "~": "yellow", " ": "dim"}


def live_for(revision: Revision, now: datetime) -> str:
    if revision.live_from is None:
        return "?"
    end = now if revision.ended is Ending.LIVE else revision.live_until
    return age((end - revision.live_from).total_seconds()) if end is not None else "?"


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%m-%d %H:%M") if value is not None else "?"


def revision_line(revision: Revision, now: datetime, marked: bool = False) -> Text:
    """One revision in one line of at most ~76 cells: mark, number, version, how it ended, when, for how long,
    commit, author."""
    flags = ("S" if revision.stable else " ") + ("C" if revision.current else " ")
    ending = ENDING_WORDS[revision.ended]
    line = Text("● " if marked else "  ", style="bold yellow")
    line.append(f"r{revision.revision:<5}", style="bold")
    line.append(flags + " ", style="bold cyan")
    line.append_text(plain(f"{revision.version:<14.14}", limit=14))
    line.append(f" {ending:<16.16}", style=ENDING_STYLES[revision.ended])  # "auto-rolled back" whole
    line.append(f" {_when(revision.live_from)} {live_for(revision, now):>4} ", style="dim")
    line.append_text(plain(revision.commit[:7], style="cyan", limit=7))
    line.append(" ")
    line.append_text(plain(revision.author, limit=11))
    return line


def revision_header() -> Text:
    """The column names over revision_line's columns, at the same widths."""
    return Text(f"  {'Rev':<6}   {'Version':<14} {'Ended':<16} {'Live from':<11} {'For':>4} {'Commit':<7} Author",
                style="bold")


def revision_detail(revision: Revision, now: datetime) -> list[Text]:
    """The selected revision in full: its role, images, commit, how and why it ended."""
    roles = ", ".join(r for r, on in (("stable", revision.stable), ("current", revision.current)) if on)
    lines = [join(Text(f"r{revision.revision}", style="bold"), plain(revision.version, limit=60),
                  Text(f"({roles})" if roles else "", style="bold cyan"))]
    for image in revision.images[:MAX_IMAGES]:
        lines.append(join(Text("image", style="bold"), plain(image, limit=160)))
    if len(revision.images) > MAX_IMAGES:  # a server's list is not the panel's length
        lines.append(Text(f"… and {len(revision.images) - MAX_IMAGES} more images", style="dim"))
    if revision.commit or revision.commit_message:
        lines.append(join(Text("commit", style="bold"), plain(revision.commit, style="cyan", limit=12),
                          plain(revision.commit_message, style="italic", limit=200),
                          Text("by") if revision.author else "", plain(revision.author, limit=60)))
    until = "now" if revision.ended is Ending.LIVE else _when(revision.live_until)
    lines.append(join(Text("live", style="bold"), Text(f"{_when(revision.live_from)} → {until}"),
                      Text(f"({live_for(revision, now)})", style="dim")))
    ended = join(Text("ended" if revision.ended is not Ending.LIVE else "state", style="bold"),
                 Text(ENDING_WORDS[revision.ended], style=ENDING_STYLES[revision.ended]))
    if revision.end_reason:
        ended.append(": ")
        ended.append_text(plain(revision.end_reason, limit=300))
    if revision.ended_by:
        ended.append(" by ")
        ended.append_text(plain(revision.ended_by, limit=60))
    lines.append(ended)
    if revision.changes is not None:
        if revision.changes.commit_range:
            lines.append(join(Text("commits", style="bold"), plain(revision.changes.commit_range, limit=80)))
        if revision.changes.config_keys:
            lines.append(join(Text("config", style="bold"),
                              plain(", ".join(revision.changes.config_keys), limit=200), Text("changed", style="dim")))
    return lines


def diff_text(found: Diff) -> list[Text]:
    """The diff, unified style: headers, then one line per change with its sign first."""
    old, new = found.header
    lines = [plain(old, style="bold red", limit=120), plain(new, style="bold green", limit=120)]
    if not found.changed:
        lines.append(Text("  (no difference in what the source gives)", style="dim"))
    for line in found.lines:
        lines.append(plain(line.text(), style=SIGN_STYLES.get(line.sign, ""), limit=400))
    return lines
