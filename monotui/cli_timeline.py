"""`monotui timeline`: what happened in a window of time, in order — the same entries as the TUI's timeline (T),
from one poll of the configured sources (as `status`) and the audit log (engine/timeline.py).

`--format markdown` is a postmortem draft: the suspects with their evidence at the top, then a table (time, what,
who, source); every string from a server is cleaned (monotui.text.clean) and escaped so it cannot break the table.

Exit status: 0 every source answered; 1 a source is unreachable (the timeline is still printed, from what answered
and the audit log); 2 a usage problem (`--since banana`, `--to` before `--from`, an unknown source).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from monotui import __version__
from monotui.cli_actions import EXIT_FAILED, EXIT_OK, EXIT_USAGE, shown
from monotui.config import Settings
from monotui.engine.core import Engine
from monotui.engine.flag_state import Suspect
from monotui.engine.timeline import AUDIT_TAIL_BYTES, Entry, build
from monotui.formats import clock_time
from monotui.text import clean

DEFAULT_SINCE = timedelta(hours=1)
FORMATS = ("text", "markdown", "json")
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")


class UsageProblem(ValueError):
    """A bad option value: said on stderr, exit status 2."""


def parse_duration(text: str) -> timedelta:
    """"30m", "2h", "1h30m", "90s", "1d" → a duration; anything else is a usage problem."""
    value = text.strip().lower()
    found = _DURATION.fullmatch(value)
    if not value or found is None:
        raise UsageProblem(f"--since: {shown(text, 40)!r} is not a duration (examples: 30m, 2h, 1h30m, 90s, 1d)")
    days, hours, minutes, seconds = (int(g or 0) for g in found.groups())
    span = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if span <= timedelta(0):
        raise UsageProblem(f"--since: {shown(text, 40)!r} is no time at all")
    return span


def parse_time(text: str, option: str, today: date) -> datetime:
    """An ISO 8601 time ("2026-12-07T10:42", with or without a zone) or a clock time today ("10:42", "10:42:05");
    without a zone it is local time, as the screen shows times."""
    value = text.strip()
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        try:
            clock = time.fromisoformat(value)
        except ValueError:
            raise UsageProblem(f"{option}: {shown(text, 40)!r} is not a time (examples: 10:42, 2026-12-07T10:42, "
                               "2026-12-07T10:42:00+00:00)") from None
        when = datetime.combine(today, clock)
    return when if when.tzinfo is not None else when.astimezone()


@dataclass(frozen=True)
class TimelineRequest:
    since: str | None = None
    start: str | None = None  # --from
    end: str | None = None  # --to
    service: str | None = None
    format: str = "text"
    source: str | None = None


def window(request: TimelineRequest, now: datetime) -> tuple[datetime, datetime]:
    if request.since is not None and (request.start is not None or request.end is not None):
        raise UsageProblem("--since and --from/--to: give one or the other")
    if request.end is not None and request.start is None:
        raise UsageProblem("--to needs --from")
    today = now.astimezone().date()
    if request.start is not None:
        start = parse_time(request.start, "--from", today)
        end = parse_time(request.end, "--to", today) if request.end is not None else now
        if end <= start:
            raise UsageProblem(f"--to ({request.end or 'now'}) is not after --from ({request.start})")
        return start, end
    span = parse_duration(request.since) if request.since is not None else DEFAULT_SINCE
    return now - span, now


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"monotui: {message}", file=sys.stderr)
    return code


async def run_timeline(settings: Settings, request: TimelineRequest) -> int:
    if request.format not in FORMATS:
        return _fail(f"--format: one of {', '.join(FORMATS)}")
    now = datetime.now(UTC)
    try:
        start, end = window(request, now)
    except UsageProblem as e:
        return _fail(str(e))
    if request.source:
        try:
            settings = settings.model_copy(update={"sources": [settings.source(request.source)]})
        except KeyError:
            return _fail(f"--source: no source named {shown(request.source, 60)!r}")
    engine = Engine(settings)
    try:
        updates = await engine.refresh_once() if settings.sources else []
    finally:
        await engine.aclose()
    if request.end is None:  # up to now: the moment the poll answered (its times are on our clock by then)
        end = max(end, datetime.now(UTC))
    records = engine.audit.read(tail_bytes=AUDIT_TAIL_BYTES)
    entries = build(engine.state, records, start, end, request.service, exact=True)
    suspects = [s for s in engine.state.suspects(now)
                if not request.service or s.service.casefold() == request.service.casefold()]
    if request.format == "json":
        from monotui.render.inert import inert_json

        print(inert_json(as_json(engine, entries, suspects, start, end)))
    elif request.format == "markdown":
        print(markdown(engine, entries, suspects, start, end, request.service))
    else:
        for line in text_lines(entries):
            print(line)
    for update in updates:
        if not update.ok:
            print(f"monotui: source {shown(update.source, 60)} did not answer: {shown(update.error or '', 300)} "
                  "(its entries are missing)", file=sys.stderr)
    return EXIT_OK if all(u.ok for u in updates) else EXIT_FAILED


def text_lines(entries: list[Entry]) -> list[str]:
    if not entries:
        return ["Nothing happened in this window."]
    return [f"{clock_time(e.at)}  {shown(e.service or '(production)', 40):<20} {shown(e.what, 400)}"
            + (f"  — {shown(e.who, 120)}" if e.who else "") + f"  [{shown(e.source, 60)}]" for e in entries]


def md(value: object, limit: int = 400) -> str:
    """A string for a Markdown table cell: cleaned (one line, no controls), Markdown's own characters escaped (a
    `|` cannot end the cell, a `<` cannot open HTML, a `*` cannot start emphasis)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", clean(value, limit))


def suspect_line(suspect: Suspect) -> str:
    from monotui.render.detail import suspect_reasons

    ev = suspect.evidence
    if suspect.rollout is not None:
        r = suspect.rollout
        what = f"deploy r{r.revision} ({md(r.version, 60)})" + (f" by {md(r.author, 80)}" if r.author else "")
    else:
        assert suspect.flag is not None
        what = f"flag {md(suspect.flag.name, 80)} ({md(suspect.flag.state, 120)})"
        what += f", changed by {md(ev.actor, 120)}" if ev.actor else ""
    return (f"**{md(suspect.service, 80)}**: {what}, changed at {clock_time(ev.changed_at)}, breached at "
            f"{clock_time(ev.breach_at)} — {md(suspect_reasons(ev), 400)}")


def _zone(when: datetime) -> str:
    return when.astimezone().strftime("%Z") or "local time"


def markdown(engine: Engine, entries: list[Entry], suspects: list[Suspect], start: datetime, end: datetime,
             service: str | None) -> str:
    local = start.astimezone()
    scope = f" — {md(service, 80)}" if service else ""
    out = [f"# Incident timeline{scope}: {local:%Y-%m-%d %H:%M} – {end.astimezone():%H:%M} {_zone(start)} (draft)",
           "",
           f"Drafted by monotui {__version__} for {md(engine.settings.actor, 120)} from one poll of "
           + ", ".join(f"{md(name, 60)} ({'ok' if data.status.state == 'ok' else 'unreachable'})"
                       for name, data in engine.state.sources.items())
           + " and the audit log. Times are " + _zone(start) + ".",
           "",
           "## Suspects",
           ""]
    if suspects:
        out += [f"{i}. {suspect_line(s)}" for i, s in enumerate(suspects, 1)]
    else:
        out.append("No service is breaching its thresholds now: no suspect (the breaches, if any, are in the "
                   "timeline).")
    out += ["", "## Timeline", "", "| Time | What | Who | Source |", "|---|---|---|---|"]
    for e in entries:
        what = f"{md(e.service, 80)}: {md(e.what)}" if e.service else md(e.what)
        out.append(f"| {clock_time(e.at)} | {what} | {md(e.who, 120) or '—'} | {md(e.source, 60)} |")
    if not entries:
        out.append("| — | nothing happened in this window | — | — |")
    return "\n".join(out)


def as_json(engine: Engine, entries: list[Entry], suspects: list[Suspect], start: datetime,
            end: datetime) -> dict[str, object]:
    from monotui.render.detail import suspect_reasons

    listed = []
    for s in suspects:
        item: dict[str, object] = {"kind": s.kind, "source": s.source, "service": s.service,
                                   "changed_at": s.evidence.changed_at.isoformat(),
                                   "breach_at": s.evidence.breach_at.isoformat(),
                                   "evidence": suspect_reasons(s.evidence)}
        if s.rollout is not None:
            item.update(revision=s.rollout.revision, version=s.rollout.version, author=s.rollout.author)
        if s.flag is not None:
            item.update(flag=s.flag.name, actor=s.evidence.actor)
        listed.append(item)
    # a server's text is sanitised as it is printed (render.inert.inert_json): `jq -r` prints it to a terminal
    return {"from": start.isoformat(), "to": end.isoformat(), "suspects": listed,
            "entries": [e.as_json() for e in entries]}
