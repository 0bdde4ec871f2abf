"""What the production state saw change from one poll to the next that no source keeps as an event — alerts firing
and resolving, a server's freeze set and lifted, a service's health breaching and recovering —, kept for a window of
time for the incident timeline (engine/timeline.py)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from monotui.models import Alert, Freeze
from monotui.text import clean

Kind = Literal["deploy", "step", "pause", "resume", "promote", "complete", "degraded", "abort", "rollback", "flag",
               "alert", "alert-resolved", "breach", "recovery", "freeze", "unfreeze", "action"]


@dataclass(frozen=True)
class Entry:
    """One line of the timeline: when, what kind, which service ("" for production-wide), what happened in words,
    who did it ("" when no one is named), and where monotui read it (a source's name, or "audit log")."""

    at: datetime
    kind: Kind
    service: str
    what: str
    who: str
    source: str

    def as_json(self) -> dict[str, str]:
        return {"time": self.at.isoformat(), "kind": self.kind, "service": self.service, "what": self.what,
                "who": self.who, "source": self.source}


class Happenings:
    """What the state saw change between polls, which no source keeps as an event: alerts firing and resolving,
    a server's freeze set and lifted, breaches and recoveries. Kept for a window of time (`window_s`)."""

    def __init__(self, window_s: float) -> None:
        self.window = timedelta(seconds=window_s)
        self.items: deque[Entry] = deque()
        self._firing: dict[str, dict[str, Alert]] = {}  # source → fingerprint → alert
        self._frozen: dict[str, Freeze] = {}

    def _add(self, item: Entry, now: datetime) -> None:
        self.items.append(item)
        cutoff = now - self.window
        while self.items and self.items[0].at < cutoff:
            self.items.popleft()

    def alerts(self, source: str, alerts: list[Alert], now: datetime) -> None:
        """A source's alerts as one poll listed them: those new fire (at their own start when the source says
        it), those gone resolved (now)."""
        before = self._firing.get(source, {})
        current = {a.fingerprint: a for a in alerts}
        for fingerprint, alert in current.items():
            if fingerprint not in before:
                summary = f": {clean(alert.summary, 200)}" if alert.summary else ""
                severity = f" ({clean(alert.severity, 20)})" if alert.severity else ""
                self._add(Entry(alert.starts_at or now, "alert", alert.service,
                                f"alert {clean(alert.name, 80)} firing{severity}{summary}", "", source), now)
        for fingerprint, alert in before.items():
            if fingerprint not in current:
                self._add(Entry(now, "alert-resolved", alert.service, f"alert {clean(alert.name, 80)} resolved",
                                "", source), now)
        self._firing[source] = current

    def freeze(self, source: str, freeze: Freeze, now: datetime) -> None:
        """A source's server freeze as a poll read it: set (at its own `since`, by its actor) or lifted (now)."""
        before = self._frozen.get(source)
        self._frozen[source] = freeze
        if freeze.frozen and (before is None or not before.frozen or before.since != freeze.since):
            scope = ", ".join(clean(s, 60) for s in freeze.services) if freeze.services else "every service"
            why = f": {clean(freeze.reason, 300)}" if freeze.reason else ""
            self._add(Entry(freeze.since or now, "freeze", "", f"frozen on the server ({scope}){why}",
                            clean(freeze.actor, 120), source), now)
        elif not freeze.frozen and before is not None and before.frozen:
            self._add(Entry(now, "unfreeze", "", "freeze lifted on the server", "", source), now)

    def breach(self, service: str, breached: bool, figures: str, now: datetime) -> None:
        kind: Kind = "breach" if breached else "recovery"
        words = "health breached its thresholds" if breached else "health recovered"
        self._add(Entry(now, kind, service, f"{words}: {figures}", "", "health"), now)
