"""What the events panel and the timeline screen (T) share: the service filter and the pause. Set on the timeline
screen, they hold for the events panel too, whose title says so ("What changed · cart · ‖ paused")."""

from __future__ import annotations

from collections.abc import Iterator, Reversible
from dataclasses import dataclass

from monotui.engine.state import SourceEvent
from monotui.text import clean


@dataclass
class EventFilter:
    service: str = ""  # a part of the service's name, any case ("" every service)
    paused: bool = False  # the lines hold still; new ones wait until resumed
    newest_first: bool = True

    def shows(self, service: str) -> bool:
        """A service's line passes the filter (a line of no service — production-wide — always does)."""
        return not self.service or not service or self.service.casefold() in service.casefold()

    def recent(self, events: Reversible[SourceEvent], limit: int) -> Iterator[SourceEvent]:
        """`events` (oldest first) newest first, those the filter shows, `limit` at most."""
        count = 0
        for item in reversed(events):
            if count >= limit:
                return
            if self.shows(item.event.service):
                count += 1
                yield item

    def title(self, base: str) -> str:
        parts = [base]
        if self.service:
            parts.append(clean(self.service, 30))
        if self.paused:
            parts.append("‖ paused")
        return " · ".join(parts)
