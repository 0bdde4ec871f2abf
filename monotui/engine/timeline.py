"""The incident timeline: one ordered list of what happened in a window of time, merged from what the engine keeps
and the audit log — deploys started, advanced and finished, pauses, rollbacks (a person's, or the platform's with
why), flag flips (who, what), alerts firing and resolving, health breaches and recoveries, freezes, and every action
from the audit log with its actor and outcome.

Where each comes from:
- the sources' events (engine/state.py `events`, kept for `events_window` seconds, not by count): deploys, steps,
  pauses, resumes, promotions, completions, aborts, rollbacks and flag changes; an automatic move is named so
  (engine/platform_moves.py) with its reason;
- `Happenings` (engine/happenings.py), what the state saw change from one poll to the next: alerts firing and
  resolving, the servers' freezes set and lifted, and breaches and recoveries of services whose health has no series;
- the health series (one poll holds the last minutes of each service): a breach is where the series
  reaches a threshold, a recovery where every figure is back under RECOVERED of its threshold;
- the audit log (engine/audit.py): each attempt (one Idempotency-Key) is one entry at its outcome, with its actor.

Every string from a server or from the log passes `monotui.text.clean`. No textual, no rich: the TUI (ui/screens/
timeline.py) and the CLI (cli_timeline.py) show the same entries.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING

from monotui.engine.attention import RECOVERED
from monotui.engine.happenings import Entry as Entry  # the timeline's line: the happenings already are entries
from monotui.engine.happenings import Kind
from monotui.engine.platform_moves import platform_move
from monotui.engine.state import ProductionState, SourceEvent
from monotui.formats import percent
from monotui.models import EventKind
from monotui.text import clean

if TYPE_CHECKING:
    from monotui.engine.audit import AuditLog

AUDIT_TAIL_BYTES = 32 * 1024 * 1024  # the audit log's tail read for a timeline: weeks of a busy team's actions
AUDIT_SOURCE = "audit log"


_EVENTS: dict[EventKind, tuple[Kind, str]] = {
    EventKind.DEPLOY_STARTED: ("deploy", "deploy started"),
    EventKind.STEP_ADVANCED: ("step", "deploy advanced"),
    EventKind.PAUSED: ("pause", "paused"),
    EventKind.RESUMED: ("resume", "resumed"),
    EventKind.PROMOTED: ("promote", "promoted"),
    EventKind.PROMOTED_FULL: ("promote", "promoted fully"),
    EventKind.COMPLETED: ("complete", "deploy finished"),
    EventKind.DEGRADED: ("degraded", "degraded"),
    EventKind.ABORTED: ("abort", "aborted"),
    EventKind.ROLLED_BACK: ("rollback", "rolled back"),
    EventKind.FLAG: ("flag", "flag changed"),
}


def _event_entry(item: SourceEvent) -> Entry:
    e = item.event
    kind, verb = _EVENTS.get(e.kind, ("step", e.kind.value))
    revision = f" r{e.revision}" if e.revision is not None else ""
    if item.flag_change is not None:
        change = item.flag_change
        what = f"flag {clean(change.flag, 80)} {clean(change.summary or change.kind.value, 200)}"
    else:
        message = f": {clean(e.message, 300)}" if e.message else ""
        what = f"{verb}{revision}{message}"
        move = platform_move(item.source, e)
        if move is not None:
            why = f" ({clean(move.reason, 200)})" if move.reason and move.reason not in (e.message or "") else ""
            what = f"{verb} automatically{revision}{message}{why}"
    return Entry(e.time, kind, e.service, what, clean(e.actor, 120), item.source)


class EventEntries:
    """Each event's entry, made once while the event is kept (events never change, and the state only appends them
    and drops the oldest): a screen that builds the timeline at every poll pays for the new events only."""

    def __init__(self) -> None:
        self._items: deque[SourceEvent] = deque()  # the events made so far, in the state's order
        self._entries: deque[Entry] = deque()

    def of(self, events: deque[SourceEvent]) -> list[Entry]:
        items, entries = self._items, self._entries
        while items and events and items[0] is not events[0]:  # dropped from the state since
            items.popleft()
            entries.popleft()
        if len(items) > len(events) or (items and events[len(items) - 1] is not items[-1]):
            items.clear()  # not the same sequence any more: made again
            entries.clear()
        for item in islice(events, len(items), None):
            items.append(item)
            entries.append(_event_entry(item))
        return list(entries)


def _series_entries(state: ProductionState, seen: dict[str, list[Entry]]) -> Iterable[Entry]:
    """Breaches and recoveries where each service's health series crosses its thresholds, as the state holds them
    (a breach begins at a threshold and ends under RECOVERED of it; the series' last point is
    the source's last health reading); the services that have one are added to `seen`, with their crossings."""
    names = [*state.health_sources, *(n for n in state.sources if n not in state.health_sources)]
    for name in names:
        end = state.health_read_at(name)
        if end is None:
            continue
        for service, health in state.sources[name].health.items():
            series = health.series
            if service in seen or not series.error_ratio or series.interval_s <= 0:
                continue
            crossings = seen.setdefault(service, [])
            limits = state.settings.thresholds.for_service(service)
            errors, p99 = series.error_ratio, series.p99_ms
            n = len(errors)
            was: bool | None = None
            for i, error in enumerate(errors):
                latency = p99[i] if i < len(p99) else 0.0
                # as the state holds a breach: it begins at a threshold, and ends under RECOVERED of each
                share = RECOVERED if was else 1.0
                bad = error >= limits.error_ratio * share or latency >= limits.p99_ms * share
                if was is not None and bad != was:
                    at = end - timedelta(seconds=(n - 1 - i) * series.interval_s)
                    figures = f"errors {percent(error, 2)}, p99 {latency:.0f} ms"
                    if bad:
                        what = (f"health breached its thresholds ({percent(limits.error_ratio, 2)} errors, "
                                f"{limits.p99_ms:.0f} ms p99): {figures}")
                    else:
                        what = f"health recovered: {figures}"
                    entry = Entry(at, "breach" if bad else "recovery", service, what, "", name)
                    crossings.append(entry)
                    yield entry
                was = bad


SAME_CROSSING = timedelta(seconds=5)  # a poll's reading and the series' last point may differ by this much


def _happened(state: ProductionState, with_series: Mapping[str, list[Entry]]) -> Iterable[Entry]:
    """What the state saw change, in the order it saw it; a breach or recovery of a service with a series only when
    its series does not say it (a series says it with the time it happened, but holds the last minutes only: a
    breach that began before the series, or whose crossing has left it, is told by what the state saw)."""
    for item in state.happenings.items:
        if item.kind in ("breach", "recovery") and any(
                e.kind == item.kind and e.at <= item.at + SAME_CROSSING for e in with_series.get(item.service, ())):
            continue
        yield item


def _audit_entries(records: Iterable[Mapping[str, object]]) -> Iterable[Entry]:
    """One entry per attempt (its Idempotency-Key): at its last record's time, with its outcome; an intent with no
    outcome says so."""
    attempts: dict[object, list[Mapping[str, object]]] = {}
    for index, record in enumerate(records):
        key = record.get("idempotency_key") or ("record", index)
        attempts.setdefault(key, []).append(record)
    for chain in attempts.values():
        first, last = chain[0], chain[-1]
        try:
            at = datetime.fromisoformat(str(last.get("time")))
        except ValueError:
            continue
        if at.tzinfo is None:
            continue
        action = clean(last.get("action") or "?", 40)
        outcome = str(last.get("outcome") or "")
        said = {"intent": "sent, no outcome recorded (outcome unknown)", "unknown": "outcome unknown"}.get(
            outcome, clean(outcome, 20))
        flag = last.get("flag")
        service = clean(last.get("service") or "", 120)
        if isinstance(flag, Mapping) and flag.get("name"):
            target = f"flag {clean(flag.get('name'), 80)}"
        elif action in ("freeze", "unfreeze"):
            shown = last.get("shown")
            scope = shown.get("services") if isinstance(shown, Mapping) else None
            target = clean(scope, 200) if isinstance(scope, str) else (service or "every service")
            service = "" if not last.get("service") else service
        else:
            revision = last.get("from_revision")
            target = f"{service} r{revision}" if isinstance(revision, int) else service
        reason = first.get("reason") or last.get("reason")
        why = f" — reason: {clean(reason, 300)}" if reason else ""
        error = f" ({clean(last.get('error'), 300)})" if last.get("error") and outcome != "done" else ""
        source = clean(last.get("source") or "", 60)
        where = f" [{source}]" if source else ""
        actor = clean(last.get("actor") or first.get("actor") or "", 120)
        if last.get("automatic") or first.get("automatic"):
            actor = f"{actor} (automatic)" if actor else "automatic"
        kind: Kind = "freeze" if action == "freeze" else "unfreeze" if action == "unfreeze" else "action"
        yield Entry(at, kind, service, f"monotui {action} {target}{where}: {said}{why}{error}", actor, AUDIT_SOURCE)


class AuditTail:
    """The audit log's records for timelines, read again only when the file changed (the TUI asks at each poll)."""

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit
        self._stamp: tuple[int, int] | None = None
        self._records: list[dict[str, object]] = []

    def records(self) -> list[dict[str, object]]:
        try:
            st = os.stat(self.audit.path, follow_symlinks=False)
            stamp = (st.st_size, st.st_mtime_ns)
        except OSError:
            return []
        if stamp != self._stamp:
            self._records = self.audit.read(tail_bytes=AUDIT_TAIL_BYTES)
            self._stamp = stamp
        return self._records


def matches(entry: Entry, service: str | None, exact: bool = False) -> bool:
    """Whether `entry` belongs to `service` (a production-wide entry, as a freeze of every service, belongs to
    each); `exact`: the name itself (the CLI's --service), else a part of it, any case (the screen's filter)."""
    if not service:
        return True
    if not entry.service:
        return True
    wanted, name = service.casefold(), entry.service.casefold()
    return name == wanted if exact else wanted in name


def build(state: ProductionState, audit_records: Iterable[Mapping[str, object]], start: datetime | None = None,
          end: datetime | None = None, service: str | None = None, exact: bool = False,
          made: EventEntries | None = None) -> list[Entry]:
    """Every entry from `start` to `end` (either open), oldest first (ties: in the order they were recorded);
    `made`: the events' entries made by an earlier build, reused."""
    with_series: dict[str, list[Entry]] = {}
    events = (made or EventEntries()).of(state.events)
    entries = [*events, *_series_entries(state, with_series), *_happened(state, with_series),
               *_audit_entries(audit_records)]
    out = [e for e in entries if (start is None or e.at >= start) and (end is None or e.at <= end)
           and matches(e, service, exact)]
    out.sort(key=lambda e: e.at)
    return out
