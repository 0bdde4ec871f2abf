"""Feature flags in the production state: the flags each flag source listed, their changes as events, and the
flags that changed just before their service's health breached ("What changed?", as rollouts are).

A flag change is recorded in the state's event history as a `SourceEvent` whose `Event` has kind
`EventKind.FLAG`: `service` is the flag's service ("" when no tag or prefix maps it to one), `rollout_id` is the
flag's name, `actor` who changed it (as the flag server records it), `message` "<flag>: <what changed>" (e.g.
"new-checkout: rollout 25% → 50%"), `id` and `time` the flag server's; `SourceEvent.flag_change` holds the
`FlagChange` itself.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, Protocol

from monotui.engine.suspects import GRACE, WINDOW, Evidence, case
from monotui.models import Event, EventKind, Flag, FlagChange, FlagChangeKind, Rollout, ServiceHealth, replace
from monotui.providers.base import PollResult

if TYPE_CHECKING:
    from monotui.config import Settings

CHANGES_PER_SERVICE = 200  # the changes kept per service for "What changed?" (15 minutes' worth, and more)


@dataclass(frozen=True)
class FlagSuspect:
    """A flag of a breached service that changed in the window before the breach."""

    flag: Flag
    source: str
    evidence: Evidence


@dataclass(frozen=True)
class Suspect:
    """One suspect of "What changed?": a rollout (`rollout` set) or a flag (`flag` set)."""

    kind: Literal["rollout", "flag"]
    source: str
    service: str
    evidence: Evidence
    rollout: Rollout | None = None
    flag: Flag | None = None


class HealthHolder(Protocol):
    """What the flag half reads of a source's data (engine/state.py `SourceData`): its services' health."""

    @property
    def health(self) -> dict[str, ServiceHealth]: ...


class RolloutRow(Protocol):
    """What the flag half reads of a row (engine/state.py `RolloutView`)."""

    @property
    def source(self) -> str: ...

    @property
    def rollout(self) -> Rollout: ...

    @property
    def evidence(self) -> Evidence | None: ...


@dataclass(frozen=True)
class _SeenChange:
    source: str
    change: FlagChange
    baseline: tuple[float, float] | None  # the service's (error ratio, p99) when monotui read the change


class FlagState:
    """The flag half of `ProductionState` (a mixin: it uses the state's settings, sources and breaches)."""

    settings: Settings
    sources: Mapping[str, HealthHolder]
    health_sources: list[str]
    breach_since: dict[str, datetime]

    if TYPE_CHECKING:
        def views(self, now: datetime | None = None) -> Sequence[RolloutRow]: ...

    def _init_flags(self) -> None:
        self._flags: dict[str, dict[str, Flag]] = {}  # source → flag name → flag
        self._flags_by_service: dict[str, dict[str, list[Flag]]] = {}  # source → service → flags
        self._flag_changes: dict[str, deque[_SeenChange]] = {}  # service → its flags' changes, oldest first
        # who of this monotui made a change the flag server records under its token's user (the engine joins the
        # change with the audit log): "alice via monotui (admin token)"; None: not one of monotui's own
        self.own_toggle: Callable[[str, FlagChange], str | None] | None = None

    def _apply_flags(self, source: str, result: PollResult,
                     first_poll: bool) -> list[tuple[Event, FlagChange]]:
        """Take a poll's flags and changes; returns the events to record (the caller appends them). The first
        poll's changes are history (who changed each flag last): only those of the last 15 minutes are news."""
        if result.flags is not None:
            self._set_flags(source, result.flags)
        events = []
        since = datetime.now(UTC) - WINDOW if first_poll else None
        for change in result.flag_changes:
            if since is not None and change.time < since:
                continue
            if self.own_toggle is not None and (via := self.own_toggle(source, change)) is not None:
                change = replace(change, actor=via)
            events.append((Event(id=change.id, time=change.time, kind=EventKind.FLAG, service=change.service or "",
                                 rollout_id=change.flag, actor=change.actor,
                                 message=f"{change.flag}: {change.summary}"), change))
            if change.service:
                health = None if first_poll else self.service_health(change.service)
                seen = _SeenChange(source, change, (health.error_ratio, health.p99_ms) if health else None)
                self._flag_changes.setdefault(change.service, deque(maxlen=CHANGES_PER_SERVICE)).append(seen)
        return events

    def _set_flags(self, source: str, flags: list[Flag]) -> None:
        self._flags[source] = {f.name: f for f in flags}
        by_service: dict[str, list[Flag]] = {}
        for flag in flags:
            if flag.service:
                by_service.setdefault(flag.service, []).append(flag)
        self._flags_by_service[source] = by_service

    def apply_flag(self, source: str, flag: Flag) -> None:
        """A kill switch's answer: show the flag's new state at once, before the next poll."""
        flags = dict(self._flags.get(source, {}))
        flags[flag.name] = flag
        self._set_flags(source, list(flags.values()))

    # ---- reading ----

    def flags_of(self, service: str) -> list[tuple[str, Flag]]:
        """The flags mapped to `service`, with their source's name."""
        return [(source, flag) for source, by_service in self._flags_by_service.items()
                for flag in by_service.get(service, ())]

    def all_flags(self) -> list[tuple[str, Flag]]:
        """Every flag of every flag source (those mapped to no service too), by source, then service and name."""
        return [(source, flag) for source, flags in self._flags.items() for flag in flags.values()]

    def flag(self, source: str, name: str) -> Flag | None:
        return self._flags.get(source, {}).get(name)

    def recent_flag_change(self, service: str, now: datetime | None = None) -> FlagChange | None:
        """The newest change of a flag of `service` within the suspect window (15 minutes) before `now`."""
        changes = self._flag_changes.get(service)
        if not changes:
            return None
        now = now or datetime.now(UTC)
        newest = max(changes, key=lambda seen: seen.change.time).change
        return newest if now - WINDOW <= newest.time <= now + GRACE else None

    def service_health(self, service: str) -> ServiceHealth | None:
        """A service's health from a health source, else from whichever source reports it."""
        for name in self.health_sources:
            found = self.sources[name].health.get(service)
            if found is not None:
                return found
        for data in self.sources.values():
            found = data.health.get(service)
            if found is not None:
                return found
        return None

    def flag_suspects(self, service: str, now: datetime | None = None) -> tuple[FlagSuspect, ...]:
        """The flags of `service` that changed in the 15 minutes before it breached (newest change first); a flag
        turned off since the breach is mitigated and no longer a suspect."""
        breach_at = self.breach_since.get(service)
        changes = self._flag_changes.get(service)
        if breach_at is None or not changes:
            return ()
        health = self.service_health(service)
        if health is None:
            return ()
        now = now or datetime.now(UTC)
        limits = self.settings.thresholds.for_service(service)
        latest: dict[tuple[str, str], FlagChange] = {}
        suspect: dict[tuple[str, str], _SeenChange] = {}
        for seen in sorted(changes, key=lambda s: s.change.time):
            key = (seen.source, seen.change.flag)
            latest[key] = seen.change
            if breach_at - WINDOW <= seen.change.time <= breach_at + GRACE:
                suspect[key] = seen
        out = []
        for key, seen in suspect.items():
            flag = self.flag(*key)
            last = latest[key]
            if flag is None or (last is not seen.change and last.kind is FlagChangeKind.DISABLED
                                and seen.change.kind is not FlagChangeKind.DISABLED and not flag.enabled):
                continue  # gone, or turned off after the change that is suspect: mitigated
            evidence = case(health, limits, seen.change.time, breach_at, seen.baseline, now, seen.change.time,
                            seen.change.actor)
            out.append(FlagSuspect(flag, key[0], evidence))
        out.sort(key=lambda s: s.evidence.changed_at, reverse=True)
        return tuple(out)

    def suspects(self, now: datetime | None = None) -> list[Suspect]:
        """Every suspect of "What changed?", rollout or flag, newest change first."""
        now = now or datetime.now(UTC)
        out = [Suspect("rollout", v.source, v.rollout.service, v.evidence, rollout=v.rollout)
               for v in self.views(now) if v.evidence is not None]
        for service in list(self.breach_since):
            out += [Suspect("flag", s.source, service, s.evidence, flag=s.flag)
                    for s in self.flag_suspects(service, now)]
        out.sort(key=lambda s: s.evidence.changed_at, reverse=True)
        return out
