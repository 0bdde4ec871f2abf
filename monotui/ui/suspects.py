"""The suspects a screen of rows shows: a rollout, or a flag of its service, that changed just before the service
breached its thresholds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from monotui.engine.flag_state import FlagSuspect
from monotui.engine.state import RolloutView


@dataclass(frozen=True)
class RowSuspect:
    """A row's rollout (flag None), or a flag of its service, that changed just before the service breached."""

    view: RolloutView
    changed_at: datetime
    flag: FlagSuspect | None = None


def suspects_of(views: Iterable[RolloutView]) -> list[RowSuspect]:
    """Every suspect the rows show; a flag once, though every rollout of its service names it."""
    out: list[RowSuspect] = []
    seen: set[tuple[str, str]] = set()
    for view in views:
        if view.evidence is not None:
            out.append(RowSuspect(view, view.evidence.changed_at))
        for case in view.flag_suspects:
            if (case.source, case.flag.name) not in seen:
                seen.add((case.source, case.flag.name))
                out.append(RowSuspect(view, case.evidence.changed_at, case))
    return out
