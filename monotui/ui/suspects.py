"""The suspects a screen of rows shows: a rollout, or a flag of its service, that changed around the time the
service breached its thresholds, best evidenced first (engine/suspects.py ranks them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from monotui.engine.flag_state import FlagSuspect
from monotui.engine.state import RolloutView
from monotui.engine.suspects import Evidence, rank_key


@dataclass(frozen=True)
class RowSuspect:
    """A row's rollout (flag None), or a flag of its service, that changed around the service's breach."""

    view: RolloutView
    changed_at: datetime
    flag: FlagSuspect | None = None

    @property
    def evidence(self) -> Evidence:
        ev = self.flag.evidence if self.flag is not None else self.view.evidence
        assert ev is not None
        return ev

    @property
    def identity(self) -> tuple[str, str, str]:
        """What stays the same across refreshes: the row, or the flag."""
        if self.flag is not None:
            return ("flag", self.flag.source, self.flag.flag.name)
        return ("rollout", self.view.key, "")


def suspects_of(views: Iterable[RolloutView]) -> list[RowSuspect]:
    """Every suspect the rows show, best evidenced first (before the breach, a share of traffic that explains the
    rise, closest to it; then by service for a steady order); a flag once, though every rollout of its service
    names it."""
    out: list[RowSuspect] = []
    seen: set[tuple[str, str]] = set()
    for view in views:
        if view.evidence is not None:
            out.append(RowSuspect(view, view.evidence.changed_at))
        for case in view.flag_suspects:
            if (case.source, case.flag.name) not in seen:
                seen.add((case.source, case.flag.name))
                out.append(RowSuspect(view, case.evidence.changed_at, case))
    out.sort(key=lambda s: (*rank_key(s.evidence), -s.changed_at.timestamp(), s.identity))
    return out
