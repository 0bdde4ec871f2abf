"""Feature flags as the screen shows them: the table's indicator, the detail panel's flag lines, the events panel's
flag changes and the kill-switch confirmation's summary. Flag names, actors and summaries come from the flag server:
they go through `plain`, never markup."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from monotui.formats import clock_time, since
from monotui.models import Flag, FlagChange, FlagChangeKind
from monotui.render.text import join, plain
from monotui.text import clean

FLAG_MARK = "⚑"
# Readable without colour: the indicator's mark and the on/off words carry the meaning; bold/reverse repeat it.
RECENT_STYLE = "bold yellow"
ON_STYLE = "bold green"
OFF_STYLE = "dim"

CHANGE_ICONS: dict[FlagChangeKind, tuple[str, str, str]] = {
    FlagChangeKind.ENABLED: ("⚑+", "bold yellow", "enabled"),
    FlagChangeKind.DISABLED: ("⚑-", "cyan", "disabled"),
    FlagChangeKind.STRATEGY_CHANGED: ("⚑~", "yellow", "strategy changed"),
}


def state_words(flag: Flag) -> str:
    """'on 25%', 'on (everyone)', 'off' — what a flag does in production, in a few words. Strategy names come from
    the flag server: sanitised here, as every caller shows the words as they are (a Text, a table cell)."""
    if flag.unreadable:
        return "unknown (unreadable)"
    if not flag.enabled:
        return "off"
    if flag.rollout is not None:
        return f"on {flag.rollout}%"
    return f"on ({clean(', '.join(flag.strategies), limit=80)})" if flag.strategies else "on"


def state_text(flag: Flag) -> Text:
    if flag.unreadable:
        return join(Text("? unknown", style="bold"), plain(f"(unreadable: {flag.unreadable})", style="dim", limit=80))
    return Text(state_words(flag) if flag.enabled else "OFF", style=ON_STYLE if flag.enabled else OFF_STYLE)


def indicator(change: FlagChange | None, now: datetime) -> Text:
    """The table's Flags cell: `⚑ 2m` when a flag of the row's service changed recently (how long ago), else empty."""
    if change is None:
        return Text("")
    seconds = (now - change.time).total_seconds()
    ago = "<1m" if seconds < 60 else since(change.time, now)
    return Text(f"{FLAG_MARK} {ago}", style=RECENT_STYLE)


def stale_text(flag: Flag) -> Text:
    if flag.stale:
        return Text("stale", style="bold magenta")
    if flag.potentially_stale:
        return Text("potentially stale", style="magenta")
    return Text("")


def change_words(change: FlagChange) -> str:
    """'enabled', 'strategy changed: rollout 25% → 50%' — the summary (from the flag server) sanitised."""
    _, _, verb = CHANGE_ICONS[change.kind]
    if change.summary and change.kind is FlagChangeKind.STRATEGY_CHANGED:
        return f"{verb}: {clean(change.summary, limit=None)}"
    return verb


def who_when(change: FlagChange | None, now: datetime) -> Text:
    """'by alice 3m ago' — the last change of a flag; 'no change seen' when the history does not reach it."""
    if change is None:
        return Text("no change seen", style="dim")
    return join(plain(change_words(change), style="dim", limit=120), "by", plain(change.actor or "?", limit=100),
                Text(f"{since(change.time, now)} ago", style="dim"))


def flag_line(flag: Flag, now: datetime) -> Text:
    """One flag in the detail panel: name, on/off in production, rollout or strategies, last change, staleness."""
    parts: list[Text | str] = [Text(FLAG_MARK), plain(flag.name, style="bold", limit=60), state_text(flag)]
    if flag.enabled and flag.rollout is not None and flag.strategies != [f"rollout {flag.rollout}%"]:
        parts.append(plain(", ".join(flag.strategies), style="dim", limit=80))
    parts.append(who_when(flag.last_change, now))
    stale = stale_text(flag)
    if stale.plain:
        parts.append(stale)
    return join(*parts)


def flag_lines(flags: Sequence[Flag], now: datetime) -> list[Text]:
    """The detail panel's Flags part: the service's flags, the most recently changed first."""
    ordered = sorted(flags, key=lambda f: f.last_change.time.timestamp() if f.last_change else 0.0, reverse=True)
    return [flag_line(f, now) for f in ordered]


def change_line(change: FlagChange, with_service: bool = True) -> Text:
    """A flag change in the events panel: time, icon, service, flag, what changed and who."""
    icon, style, _ = CHANGE_ICONS[change.kind]
    parts: list[Text | str] = [Text(clock_time(change.time), style="dim"), Text(icon, style=style)]
    if with_service:
        parts.append(plain(change.service or change.project, style="bold", limit=40))
    name = plain(change.flag, style="bold", limit=60)
    name.append(":")
    parts += [Text("flag"), name, plain(change_words(change), style=style, limit=120)]
    parts += ["by", plain(change.actor or "?", limit=100)]  # "alice@bastion-2 via monotui (admin token)"
    return join(*parts)


def plan_rows(flag: Flag, enabled: bool, source: str) -> list[tuple[str, Text]]:
    """What the kill-switch confirmation names: flag, project, environment, state now → after, last change."""
    change = flag.last_change
    last = (join(plain(change_words(change), limit=120), "by", plain(change.actor or "?", style="bold", limit=100),
                 Text(f"at {clock_time(change.time)}"))
            if change else Text("no change seen", style="dim"))
    return [
        ("Flag", plain(flag.name, style="bold", limit=120)),
        ("Project", join(plain(flag.project, limit=60), Text("· source"), plain(source, limit=60))),
        ("Where", join(plain(flag.environment, style="bold", limit=60),
                       Text("" if flag.environment == "production" else "(the production environment)"))),
        ("State", join(plain(state_words(flag), limit=80), Text("→", style="bold"),
                       Text("ON" if enabled else "OFF", style="bold"))),
        ("Changed", last),
    ]
