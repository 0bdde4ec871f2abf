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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol

from monotui.engine.suspects import GRACE, WINDOW, Evidence, case, rank_key
from monotui.models import Event, EventKind, Flag, FlagChange, FlagChangeKind, Rollout, ServiceHealth, replace
from monotui.providers.base import PollResult

if TYPE_CHECKING:
    from monotui.config import Settings

CHANGES_PER_SERVICE = 200  # the changes kept per service for "What changed?" (15 minutes' worth, and more)
NAMED_KEPT = 100_000  # flag changes whose operator was looked up, kept (then looked up again)
TIMELINE_POINTS = 256  # the readings of a flagged service's health kept, to know its figures just before a flip


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

    @property
    def flag_suspects(self) -> tuple[FlagSuspect, ...]: ...


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
    clock: Callable[[], datetime]

    def grace(self, service: str) -> timedelta:
        """How long after `service`'s breach a change is still listed (engine/suspects.py `grace_for`)."""
        return GRACE

    if TYPE_CHECKING:
        def views(self, now: datetime | None = None) -> Sequence[RolloutRow]: ...

    def _init_flags(self) -> None:
        self._flags: dict[str, dict[str, Flag]] = {}  # source → flag name → flag
        self._flags_by_service: dict[str, dict[str, list[Flag]]] = {}  # source → service → flags
        self._flag_changes: dict[str, deque[_SeenChange]] = {}  # service → its flags' changes, oldest first
        self._flag_services: set[str] = set()  # services some flag source maps a flag to
        # flagged service → its health readings (our clock, error ratio, p99), oldest first, when they moved: the
        # figures just before a flip, though the flip is read a poll or more after it (and after the health moved)
        self._timeline: dict[str, deque[tuple[datetime, datetime, float, float]]] = {}  # (first, last read, …)
        # who of this monotui made each change the flag server records under its token's user (the engine joins
        # the changes with the audit log): "alice via monotui (admin token)"; None: not one of monotui's own
        self.own_toggles: Callable[[str, Sequence[FlagChange]], list[str | None]] | None = None
        # a flag's last change → who made it, as joined once (a flag list is polled again and again)
        self._named: dict[tuple[str, int, str, str], str | None] = {}

    def _apply_flags(self, source: str, result: PollResult,
                     first_poll: bool) -> list[tuple[Event, FlagChange]]:
        """Take a poll's flags and changes; returns the events to record (the caller appends them). The first
        poll's changes are history (who changed each flag last): only those of the last 15 minutes are news."""
        if result.flags is not None:
            self._set_flags(source, self._name_operators(source, result.flags))
        events = []
        since = self.clock() - WINDOW if first_poll else None
        news = [c for c in result.flag_changes if since is None or c.time >= since]
        for change, via in zip(news, self._operators(source, news), strict=True):
            if via is not None:
                change = replace(change, actor=via)
            events.append((Event(id=change.id, time=change.time, kind=EventKind.FLAG, service=change.service or "",
                                 rollout_id=change.flag, actor=change.actor,
                                 message=f"{change.flag}: {change.summary}"), change))
            if change.service:
                health = None if first_poll else self.service_health(change.service)
                baseline = self.figures_before(change.service, change.time) or (
                    (health.error_ratio, health.p99_ms) if health else None)
                seen = _SeenChange(source, change, baseline)
                self._flag_changes.setdefault(change.service, deque(maxlen=CHANGES_PER_SERVICE)).append(seen)
        return events

    def _operators(self, source: str, changes: Sequence[FlagChange]) -> list[str | None]:
        """Who of this monotui made each change (None: not monotui), joined with the audit log once per change."""
        keys = [(source, c.id, c.flag, c.kind.value) for c in changes]
        unknown = [(k, c) for k, c in zip(keys, changes, strict=True) if k not in self._named]
        if unknown and self.own_toggles is not None:
            if len(self._named) > NAMED_KEPT:
                self._named.clear()
            for (key, _), via in zip(unknown, self.own_toggles(source, [c for _, c in unknown]), strict=True):
                self._named[key] = via
        return [self._named.get(k) for k in keys]

    def _name_operators(self, source: str, flags: list[Flag]) -> list[Flag]:
        """The flags, each last change made through monotui named with its operator (as the events panel does)."""
        changed = [f for f in flags if f.last_change is not None]
        vias = dict(zip((f.name for f in changed),
                        self._operators(source, [f.last_change for f in changed if f.last_change]), strict=True))
        return [f if (via := vias.get(f.name)) is None or f.last_change is None
                else replace(f, last_change=replace(f.last_change, actor=via)) for f in flags]

    def _set_flags(self, source: str, flags: list[Flag]) -> None:
        self._flags[source] = {f.name: f for f in flags}
        by_service: dict[str, list[Flag]] = {}
        for flag in flags:
            if flag.service:
                by_service.setdefault(flag.service, []).append(flag)
        self._flags_by_service[source] = by_service
        flagged = {s for flags in self._flags_by_service.values() for s in flags}
        for gone in self._timeline.keys() - flagged:
            del self._timeline[gone]
        new = flagged - self._flag_services
        self._flag_services = flagged
        # a reading holds until the next one (a change feed sends only figures that moved): start with today's
        self._record_health([h for s in new if (h := self.service_health(s)) is not None])

    def _record_health(self, health: Iterable[ServiceHealth]) -> None:
        """Readings of flagged services' health, as of now (a poll of their health source), for `figures_before`
        and `readings`: figures that did not move extend the last reading's time instead of adding one."""
        if not self._flag_services:
            return
        now = self.clock()
        for h in health:
            if h.service not in self._flag_services:
                continue
            points = self._timeline.setdefault(h.service, deque(maxlen=TIMELINE_POINTS))
            if points and points[-1][2:] == (h.error_ratio, h.p99_ms):
                points[-1] = (points[-1][0], now, h.error_ratio, h.p99_ms)
            else:
                points.append((now, now, h.error_ratio, h.p99_ms))

    def readings(self, service: str, start: datetime, end: datetime) -> list[tuple[float, float]]:
        """`service`'s (error ratio, p99) as read after `start` and up to `end` (flagged services only)."""
        return [(error, p99) for first, last, error, p99 in self._timeline.get(service, ())
                if last > start and first <= end]

    def figures_before(self, service: str, at: datetime) -> tuple[float, float] | None:
        """`service`'s (error ratio, p99) as last read up to `at`; None when no reading is that old."""
        found = None
        for first, _, error, p99 in self._timeline.get(service, ()):
            if first > at:  # a reading at the change's very moment cannot show it yet
                break
            found = (error, p99)
        return found

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
        now = now or self.clock()
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
        """The flags of `service` that changed in the 15 minutes before it breached (or after it, within the
        grace: listed below), closest to the breach first; a flag turned off since the breach is mitigated and no
        longer a suspect. Unranked: the state ranks them with the service's rollouts."""
        breach_at = self.breach_since.get(service)
        changes = self._flag_changes.get(service)
        if breach_at is None or not changes:
            return ()
        health = self.service_health(service)
        if health is None:
            return ()
        now = now or self.clock()
        limits = self.settings.thresholds.for_service(service)
        grace = self.grace(service)
        latest: dict[tuple[str, str], FlagChange] = {}
        suspect: dict[tuple[str, str], _SeenChange] = {}
        for seen in sorted(changes, key=lambda s: s.change.time):
            key = (seen.source, seen.change.flag)
            latest[key] = seen.change
            at = seen.change.time
            if breach_at - WINDOW <= at <= breach_at:
                suspect[key] = seen  # its last change before the breach
            elif breach_at < at <= breach_at + grace and key not in suspect:
                suspect[key] = seen  # after the breach only: its first change then, listed below
        out = []
        for key, seen in suspect.items():
            flag = self.flag(*key)
            last = latest[key]
            if flag is None or (last is not seen.change and last.kind is FlagChangeKind.DISABLED
                                and seen.change.kind is not FlagChangeKind.DISABLED and not flag.enabled):
                continue  # gone, or turned off after the change that is suspect: mitigated
            baseline = self.figures_before(service, seen.change.time) or seen.baseline
            evidence = case(health, limits, seen.change.time, breach_at, baseline, now, seen.change.time,
                            seen.change.actor, share=flag_share(flag, seen.change))
            out.append(FlagSuspect(flag, key[0], evidence))
        out.sort(key=lambda s: s.evidence.gap_s)
        return tuple(out)

    def suspects(self, now: datetime | None = None) -> list[Suspect]:
        """Every suspect of "What changed?", rollout or flag, best evidenced first (engine/suspects.py)."""
        now = now or self.clock()
        views = self.views(now)
        out = [Suspect("rollout", v.source, v.rollout.service, v.evidence, rollout=v.rollout)
               for v in views if v.evidence is not None]
        seen: set[tuple[str, str]] = set()
        shown: set[str] = set()
        for view in views:
            shown.add(view.rollout.service)
            for s in view.flag_suspects:  # ranked with the service's rollouts; once, though each row names it
                if (s.source, s.flag.name) not in seen:
                    seen.add((s.source, s.flag.name))
                    out.append(Suspect("flag", s.source, view.rollout.service, s.evidence, flag=s.flag))
        for service in self.breach_since.keys() - shown:  # a flagged service without rollouts
            out += [Suspect("flag", s.source, service, s.evidence, flag=s.flag)
                    for s in self.flag_suspects(service, now)]
        out.sort(key=lambda s: rank_key(s.evidence))
        return out


def flag_share(flag: Flag, change: FlagChange) -> float | None:
    """The part of traffic a flag's change touches: its rollout while on (off: none); None when not known (a
    flag turned off: what it served before is not known here)."""
    if change.kind is FlagChangeKind.DISABLED:
        return None
    if not flag.enabled:
        return 0.0
    return None if flag.rollout is None else flag.rollout / 100
