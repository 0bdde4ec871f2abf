"""What the events panel and the timeline screen (T) share: the service filter and the pause. Set on the timeline
screen, they hold for the events panel too, whose title says so ("What changed · cart · ‖ paused · esc clears");
Esc on the main screen clears them (after the row filter, when one is set)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

from monotui.engine.state import ProductionState, SourceEvent
from monotui.text import clean


@dataclass
class EventFilter:
    service: str = ""  # a part of the service's name, any case ("" every service)
    paused: bool = False  # the lines hold still; new ones wait until resumed
    newest_first: bool = True

    def shows(self, service: str) -> bool:
        """A service's line passes the filter (a line of no service — production-wide — always does)."""
        return not self.service or not service or self.service.casefold() in service.casefold()

    def recent(self, state: ProductionState, limit: int) -> list[SourceEvent]:
        """The newest events the filter shows, `limit` at most, newest first (a filter reads the per-service
        index: a rare service's events are found without walking hours of every service's)."""
        if not self.service:
            return list(islice(reversed(state.events), limit))
        return state.recent_of_services(self.shows, limit)

    def title(self, base: str) -> str:
        parts = [base]
        if self.service:
            parts.append(clean(self.service, 30))
        if self.paused:
            parts.append("‖ paused")
        if len(parts) > 1:
            parts.append("esc clears")
        return " · ".join(parts)
