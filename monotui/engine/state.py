"""The production as monotui last saw it: per-source rollouts, health and status, and recent events."""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice, pairwise
from types import MappingProxyType
from typing import Literal

import msgspec

from monotui.config import Settings
from monotui.engine.attention import RECENT_ROLLBACK, Attention, attention, is_unhealthy, sort_key, still_breached
from monotui.engine.flag_state import FlagState, FlagSuspect
from monotui.engine.happenings import Happenings
from monotui.engine.owners import OwnerIndex
from monotui.engine.platform_moves import MOVES_PER_SERVICE, PlatformMove, platform_move
from monotui.engine.row_order import RowOrder, ordered
from monotui.engine.suspects import Evidence, evidence, figure_at, grace_for, ranked
from monotui.models import Alert, Event, EventKind, Flag, FlagChange, Freeze, Owner, Phase, Rollout, ServiceHealth
from monotui.providers.base import PollResult
from monotui.providers.tls import tls_unverified

ConnectionState = Literal["connecting", "ok", "error"]
_PHASE_EVENTS = {Phase.PAUSED: EventKind.PAUSED, Phase.DEGRADED: EventKind.DEGRADED, Phase.ABORTED: EventKind.ABORTED,
                 Phase.HEALTHY: EventKind.COMPLETED, Phase.PROGRESSING: EventKind.RESUMED}


COMPARE_STEP = 2000  # rollouts of a full list compared between two yields of `apply_poll_steps` (a few ms)


@dataclass
class _FullList:
    """A source's full list compared with what the state holds: every rollout (an unchanged one as the state's
    own object, so the screen's per-row caches know nothing changed), those that changed or are new, and those
    whose revision has no "before" figure yet."""

    rollouts: dict[str, Rollout] = field(default_factory=dict)
    changed: list[Rollout] = field(default_factory=list)
    new_revisions: list[Rollout] = field(default_factory=list)
    puts: int = 0  # the source's rollouts put one by one when the comparison started


@dataclass
class SourceStatus:
    name: str
    state: ConnectionState = "connecting"
    error: str | None = None
    last_ok: float | None = None  # time.time() of the last successful poll
    failures: int = 0
    retry_in: float | None = None
    read_only: bool = False
    tls_unverified: bool = False  # the operator turned TLS verification off for this source
    resyncing: int = 0  # a watching source listing again and again (410 storm), backing off
    clock_skew: float | None = None  # seconds its clock runs ahead of ours (behind: negative), when notable

    def age(self, now: float | None = None) -> float | None:
        return None if self.last_ok is None else max(0.0, (time.time() if now is None else now) - self.last_ok)

    @property
    def stale(self) -> bool:
        return self.state == "error"


@dataclass
class SourceData:
    status: SourceStatus
    rollouts: dict[str, Rollout] = field(default_factory=dict)
    health: dict[str, ServiceHealth] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)


class RolloutView(msgspec.Struct, frozen=True, gc=False):
    """One row's worth: a rollout with its source, health and place in the attention order.

    Not tracked by the garbage collector (like the models: acyclic data), so a full collection never walks one
    view per rollout — with 100,000 rollouts that walk was a stall of a few hundred ms that keys waited behind."""

    source: str
    rollout: Rollout
    health: ServiceHealth | None
    attention: Attention
    stale: bool
    read_only: bool
    evidence: Evidence | None = None
    alerts: int = 0  # firing, not silenced
    flag_suspects: tuple[FlagSuspect, ...] = ()  # flags of the service that changed just before it breached
    platform_move: PlatformMove | None = None  # the platform's last automatic move on the service, while recent
    owner: Owner | None = None  # who owns the service (engine/owners.py), text already cleaned

    @property
    def key(self) -> str:
        return f"{self.source}/{self.rollout.id}"


class ViewChanges:
    """One consumer's share of the view changes (the screen, the guards): keys whose view changed or went away
    since the consumer last drained it. Each refresh adds only what changed, so draining costs O(changes)."""

    def __init__(self) -> None:
        self.changed: set[str] = set()
        self.removed: set[str] = set()

    def drain(self) -> tuple[set[str], set[str]]:
        out = self.changed, self.removed
        self.changed, self.removed = set(), set()
        return out


@dataclass(frozen=True)
class SourceEvent:
    source: str
    event: Event
    flag_change: FlagChange | None = None  # an event of kind "flag": the change itself (engine/flag_state.py)


EVENTS_PER_SERVICE = 200  # a service's newest events kept in the index (a row's detail reads 8, a confirmation 50)
LAG_READINGS = 5  # the last gaps between a source's health readings: its measured lag is the longest


def _figures(health: ServiceHealth) -> str:
    return f"errors {health.error_ratio * 100:.2f}%, p99 {health.p99_ms:.0f} ms"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ProductionState(FlagState):
    def __init__(self, settings: Settings, health_sources: list[str] | None = None) -> None:
        self.clock: Callable[[], datetime] = _utc_now  # monotui's clock (a test may run it on the simulator's)
        self._init_flags()
        self.settings = settings
        self.owners = OwnerIndex(settings, self.flags_of)
        self.sources: dict[str, SourceData] = {
            s.name: SourceData(SourceStatus(s.name, read_only=settings.is_read_only(s.name),
                                            tls_unverified=tls_unverified(s)))
            for s in settings.sources
        }
        # the events of the last `events_window` seconds (bounded by time; `events_limit` only guards the memory)
        self.events: deque[SourceEvent] = deque(maxlen=settings.events_limit)
        self.happenings = Happenings(settings.events_window)  # alerts, freezes, breaches seen change (the timeline)
        # service → its newest events (an index of `events`: a row's events without walking hours of them)
        self._events_of: dict[str, deque[SourceEvent]] = {}
        # health sources with history (Prometheus) speak for every deploy source's services (the engine says which)
        self.health_sources = list(health_sources or [])
        self.breach_since: dict[str, datetime] = {}  # service → when its health crossed a threshold
        # (source, rollout) → (revision, (error ratio, p99) when monotui first saw that revision): "before"
        self.baselines: dict[tuple[str, str], tuple[int, tuple[float, float] | None]] = {}
        self._unknown_baselines: set[tuple[str, str]] = set()  # first seen already live: filled from history
        self.version = 0  # bumped on every change the screen should show
        self.freezes: dict[str, Freeze] = {}  # source → its server's freeze, as last read (engine/freeze.py)
        self._derived_ids = 0
        # The views, kept up to date by change: each poll marks what it touched (a rollout, a service's health or
        # alerts, a source's staleness) and `refresh` recomputes only those, plus the rows whose attention moves
        # with the clock (a recent rollback turning old), found in a heap of deadlines.
        self._views: dict[str, RolloutView] = {}
        self._by_key = MappingProxyType(self._views)
        self._order = RowOrder()  # attention order
        self._dirty: set[tuple[str, str]] = set()
        # service → its rows; tuples of strings, which the garbage collector stops tracking (no set per rollout)
        self._by_service: dict[str, tuple[tuple[str, str], ...]] = {}
        self._firing: dict[str, int] = {}  # service → firing, unsilenced alerts
        self._deadlines: list[tuple[float, str, str]] = []  # (when, source, rollout id): recompute then
        self._deadline_of: dict[tuple[str, str], float] = {}
        self._feeds: list[ViewChanges] = []
        # source → rollouts put one by one (an action's answer, a change): a comparison in steps is then redone
        self._puts: dict[str, int] = {}
        self.suspect_keys: set[str] = set()  # keys of the views with a suspect (rollout or flag), read-only or not
        self._health_read: dict[str, deque[datetime]] = {}  # source → when its last health readings came
        self.platform_moves: dict[str, deque[PlatformMove]] = {}  # service → its automatic moves, oldest first
        self._cases: dict[str, tuple[dict[tuple[str, str], Evidence], tuple[FlagSuspect, ...]]] = {}  # per refresh
        self.last_refresh: datetime | None = None

    def status(self, source: str) -> SourceStatus:
        return self.sources[source].status

    def _record_baselines(self, source: str, rollouts: list[Rollout], first_poll: bool) -> None:
        data = self.sources[source]
        for rollout in rollouts:
            key = (source, rollout.id)
            seen = self.baselines.get(key)
            if seen is None or seen[0] != rollout.revision:
                health = None if first_poll else self.health_of(rollout.service, data)
                self.baselines[key] = (rollout.revision,
                                       (health.error_ratio, health.p99_ms) if health is not None else None)
                self._dirty.add(key)
                if health is None:
                    self._unknown_baselines.add(key)

    def _fill_baselines(self, now: datetime, keys: set[tuple[str, str]]) -> None:
        """A rollout already live at monotui's first poll has no "before" figure: take its health history's point
        at the rollout's start, while the history still reaches back that far (`now`: the health's time).

        Only `keys`, the rows whose rollout or health changed since the last refresh: a figure can only become
        known with new health, and walking every unknown row at every refresh (a source without health: all of
        them, forever) cost O(N) per poll and per clock tick."""
        for key in keys:
            source, rollout_id = key
            rollout = self.sources[source].rollouts.get(rollout_id)
            seen = self.baselines.get(key)
            if rollout is None or seen is None or seen[0] != rollout.revision or seen[1] is not None:
                self._unknown_baselines.discard(key)
                continue
            health = self.health_of(rollout.service, self.sources[source])
            if health is None:
                continue
            series = health.series
            error = figure_at(series.error_ratio, series.interval_s, now, rollout.started_at)
            p99 = figure_at(series.p99_ms, series.interval_s, now, rollout.started_at)
            if error is not None and p99 is not None:
                self.baselines[key] = (rollout.revision, (error, p99))
                self._dirty.add(key)
            if series.error_ratio:  # known now, or never: the history only moves forward
                self._unknown_baselines.discard(key)

    def _compare(self, source: str, rollouts: list[Rollout], into: _FullList) -> None:
        held = self.sources[source].rollouts
        for rollout in rollouts:
            before = held.get(rollout.id)
            if before is rollout or (before is not None and before == rollout):
                into.rollouts[rollout.id] = before
            else:
                into.rollouts[rollout.id] = rollout
                into.changed.append(rollout)
            seen = self.baselines.get((source, rollout.id))
            if seen is None or seen[0] != rollout.revision:
                into.new_revisions.append(rollout)

    def apply_poll_steps(self, source: str, result: PollResult) -> Iterator[None]:
        """`apply_poll` in steps, for a caller that lets other work run between them (keys): a full list is
        compared with what the state holds COMPARE_STEP rollouts at a time, then applied at the last step, all at
        once; until then the state is as it was."""
        rollouts = result.rollouts
        if result.partial or rollouts is None or len(rollouts) <= COMPARE_STEP:
            self.apply_poll(source, result)
            return
        full = _FullList(puts=self._puts.get(source, 0))
        for start in range(0, len(rollouts), COMPARE_STEP):
            self._compare(source, rollouts[start:start + COMPARE_STEP], full)
            yield
        self.apply_poll(source, result, full if full.puts == self._puts.get(source, 0) else None)

    def apply_poll(self, source: str, result: PollResult, compared: _FullList | None = None) -> None:
        """A poll's result into the state (`compared`: its full list already compared, by `apply_poll_steps`)."""
        data = self.sources[source]
        if not result.partial and result.rollouts is not None and compared is None:
            compared = _FullList()
            self._compare(source, result.rollouts, compared)
        if result.rollouts:
            # a revision seen for the first time after the first poll is a new deploy: note its health "before"
            self._record_baselines(source, compared.new_revisions if compared is not None else result.rollouts,
                                   first_poll=data.status.last_ok is None)
        if result.partial:
            for rollout in result.rollouts or []:
                before = data.rollouts.get(rollout.id)
                if before is not None and not result.events:
                    self._derive_event(source, before, rollout)
                self._put_rollout(source, data, rollout)
            for gone in result.removed:
                if data.rollouts.pop(gone, None) is not None:
                    self._dirty.add((source, gone))
        elif compared is not None:
            old = data.rollouts
            data.rollouts = compared.rollouts
            for rollout in compared.changed:
                self._dirty.add((source, rollout.id))
                self._index(source, rollout)
            self._dirty.update((source, gone) for gone in old.keys() - data.rollouts.keys())
        if result.health:
            self._health_read.setdefault(source, deque(maxlen=LAG_READINGS + 1)).append(self.clock())
        if result.health and result.health_partial:
            self._health_changed(source, data, result.health, replace_all=False)
        elif result.health:
            self._health_changed(source, data, result.health, replace_all=True)
        if result.alerts is not None:
            data.alerts = result.alerts
            self.happenings.alerts(source, result.alerts, self.clock())
            self._count_firing()
        if self._flag_services and (not self.health_sources or source in self.health_sources):
            # as of this poll, the flagged services' figures (a change feed sends only those that moved)
            self._record_health(data.health[s] for s in self._flag_services if s in data.health)
        if result.freeze is not None and result.freeze != self.freezes.get(source):
            self.freezes[source] = result.freeze
            self.happenings.freeze(source, result.freeze, self.clock())
            self.version += 1
        for event in result.events:
            self._keep_event(SourceEvent(source, event))
            self._note_move(source, event)
        for event, change in self._apply_flags(source, result, first_poll=data.status.last_ok is None):
            self._keep_event(SourceEvent(source, event, change))
        self._forget_old_events()
        # a flag that changed moves its service's rows (the Flags cell, the detail panel); otherwise flags make
        # suspects only of breached services, so only their rows can change with the flag listing
        for service in {c.service for c in result.flag_changes if c.service}:
            self._service_dirty(service)
        self._flags_dirty({f.service for f in result.flags or () if f.service})
        for service in self.owners.teams_changed({f.service for f in result.flags or () if f.service}):
            self._service_dirty(service)  # its flags' team tag changed: its rows' owner did
        if result.more:  # one page of a paged listing: the poll is not over (its status moves at the last page)
            self.version += 1
            return
        if data.status.stale:
            self._source_dirty(source)
        data.status.state = "ok"
        data.status.error = None
        data.status.resyncing = result.resyncing
        data.status.clock_skew = result.clock_skew_s
        data.status.last_ok = time.time()
        data.status.failures = 0
        data.status.retry_in = None
        self.version += 1

    def note(self, source: str, rollout: Rollout, kind: EventKind, message: str, actor: str = "") -> None:
        """An event of monotui's own (a guard's action) in the events panel."""
        self._derived_ids -= 1
        self._keep_event(SourceEvent(source, Event(
            id=self._derived_ids, time=self.clock(), kind=kind, service=rollout.service, rollout_id=rollout.id,
            revision=rollout.revision, actor=actor, message=message)))
        self._note_move(source, self.events[-1].event)
        self.version += 1

    def health_read_at(self, source: str) -> datetime | None:
        """When `source`'s health was last read (our clock): the time of its series' last point."""
        reads = self._health_read.get(source)
        return reads[-1] if reads else None

    def _forget_old_events(self) -> None:
        """Events older than `events_window` go (the oldest first: events arrive about in time order). Older than
        our clock or than the newest event, whichever is earlier: a production whose clock reads another day (a
        replayed or frozen world) keeps its events, and one event stamped a day ahead does not sweep the rest."""
        events = self.events
        if not events:
            return
        cutoff = min(self.clock(), events[-1].event.time) - timedelta(seconds=self.settings.events_window)
        while events and events[0].event.time < cutoff:
            gone = events.popleft()
            of_service = self._events_of.get(gone.event.service)
            if of_service and of_service[0] is gone:
                of_service.popleft()
                if not of_service:
                    del self._events_of[gone.event.service]

    def _keep_event(self, item: SourceEvent) -> None:
        self.events.append(item)
        of_service = self._events_of.get(item.event.service)
        if of_service is None:
            of_service = self._events_of[item.event.service] = deque(maxlen=EVENTS_PER_SERVICE)
        of_service.append(item)

    def recent_of_services(self, wanted: Callable[[str], bool], limit: int) -> list[SourceEvent]:
        """The newest events (by time) of the services `wanted` says yes to, `limit` at most, newest first."""
        chosen = [reversed(items) for service, items in self._events_of.items() if wanted(service)]
        return list(islice(heapq.merge(*chosen, key=lambda item: item.event.time, reverse=True), limit))

    def _note_move(self, source: str, event: Event) -> None:
        move = platform_move(source, event)
        if move is None or not move.service:
            return
        moves = self.platform_moves.setdefault(move.service, deque(maxlen=MOVES_PER_SERVICE))
        moves.append(move)
        self._service_dirty(move.service)

    def platform_move_of(self, service: str, now: datetime | None = None) -> PlatformMove | None:
        """The newest automatic move on `service` within `platform_moves_window` before `now`."""
        moves = self.platform_moves.get(service)
        if not moves:
            return None
        now = now or self.clock()
        newest = max(moves, key=lambda m: m.at)
        return newest if now - newest.at < timedelta(seconds=self.settings.platform_moves_window) else None

    def _track_breaches(self, source: str, changed: Iterable[ServiceHealth]) -> None:
        if self.health_sources and source not in self.health_sources:
            return  # a health source speaks for the services: the deploy source's own figures do not count
        now = self.clock()
        for health in changed:
            service = health.service
            thresholds = self.settings.thresholds.for_service(service)
            if service not in self.breach_since:
                if is_unhealthy(health, thresholds):
                    self.breach_since[service] = now
                    self._service_dirty(service)
                    self.happenings.breach(service, True, _figures(health), now)
            elif not still_breached(health, thresholds):
                del self.breach_since[service]
                self._service_dirty(service)
                self.happenings.breach(service, False, _figures(health), now)

    def _derive_event(self, source: str, before: Rollout, after: Rollout) -> None:
        """Sources that only report state (Kubernetes) still get a "what changed" line for each change a person
        would call out: a new revision, a phase change, a step."""
        if after.revision != before.revision:
            kind, message = EventKind.DEPLOY_STARTED, f"r{before.revision} → r{after.revision} ({after.version})"
        elif after.phase is not before.phase:
            kind = _PHASE_EVENTS.get(after.phase, EventKind.STEP_ADVANCED)
            message = f"{before.phase.value} → {after.phase.value}" + (f": {after.message}" if after.message else "")
        elif after.current_step != before.current_step and after.current_step is not None:
            kind, message = EventKind.STEP_ADVANCED, f"step {after.current_step}/{len(after.steps)}"
        else:
            return
        self._derived_ids -= 1  # negative ids never collide with a source's own
        self._keep_event(SourceEvent(source, Event(
            id=self._derived_ids, time=self.clock(), kind=kind, service=after.service, rollout_id=after.id,
            revision=after.revision, actor="", message=message)))

    def apply_error(self, source: str, error: str, retry_in: float) -> None:
        status = self.sources[source].status
        if not status.stale:
            self._source_dirty(source)
        status.state = "error"
        status.error = error
        status.failures += 1
        status.retry_in = retry_in
        self.version += 1

    def apply_rollout(self, source: str, rollout: Rollout) -> None:
        """An action's answer: show the rollout's new state at once, before the next poll."""
        self._put_rollout(source, self.sources[source], rollout)
        self.version += 1

    # ---- keeping the views up to date by change ----------------------------------------------------------

    def _index(self, source: str, rollout: Rollout) -> None:
        rows = self._by_service.get(rollout.service, ())
        if (source, rollout.id) not in rows:
            self._by_service[rollout.service] = (*rows, (source, rollout.id))

    def _put_rollout(self, source: str, data: SourceData, rollout: Rollout) -> None:
        self._puts[source] = self._puts.get(source, 0) + 1
        if data.rollouts.get(rollout.id) is not rollout:
            data.rollouts[rollout.id] = rollout
            self._dirty.add((source, rollout.id))
            self._index(source, rollout)

    def _flags_dirty(self, services: set[str]) -> None:
        for service in services & self.breach_since.keys():
            self._service_dirty(service)

    def apply_flag(self, source: str, flag: Flag) -> None:
        super().apply_flag(source, flag)
        if flag.service:  # a kill switch's flag as read back: its service's rows show it
            self._service_dirty(flag.service)

    def _service_dirty(self, service: str) -> None:
        self._dirty.update(self._by_service.get(service, ()))

    def _source_dirty(self, source: str) -> None:
        """Staleness shows on every row of the source: all of them change."""
        self._dirty.update((source, rollout_id) for rollout_id in self.sources[source].rollouts)

    def _health_changed(self, source: str, data: SourceData, health: list[ServiceHealth],
                        replace_all: bool) -> None:
        old = data.health
        moved = [h.service for h in health if old.get(h.service) != h]  # before a partial answer updates `old`
        if replace_all:
            data.health = {h.service: h for h in health}
            for service in old.keys() - data.health.keys():
                self._service_dirty(service)
        else:
            data.health.update((h.service, h) for h in health)
        for service in moved:
            self._service_dirty(service)
        self._track_breaches(source, data.health.values() if replace_all else health)

    def _count_firing(self) -> None:
        firing: dict[str, int] = {}
        for data in self.sources.values():
            for alert in data.alerts:
                if not alert.silenced:
                    firing[alert.service] = firing.get(alert.service, 0) + 1
        for service in firing.keys() | self._firing.keys():
            if firing.get(service) != self._firing.get(service):
                self._service_dirty(service)
        self._firing = firing

    def watch(self) -> ViewChanges:
        """A consumer's own record of view changes, filled by every `refresh` from now on (start: every view)."""
        feed = ViewChanges()
        feed.changed.update(self._views)
        self._feeds.append(feed)
        return feed

    def refresh(self, now: datetime | None = None) -> None:
        """Bring the views up to date: only the rows a poll touched and those whose clock deadline passed."""
        now = now or self.clock()
        self.last_refresh = now
        stamp = now.timestamp()
        while self._deadlines and self._deadlines[0][0] <= stamp:
            _, source, rollout_id = heapq.heappop(self._deadlines)
            self._deadline_of.pop((source, rollout_id), None)
            self._dirty.add((source, rollout_id))
        if self._unknown_baselines and self._dirty:
            self._fill_baselines(now, self._dirty & self._unknown_baselines)
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, set()
        self._cases = {}
        # a suspect's rank is among its service's suspects: a breached service's rows are ranked together
        for service in {r.service for source, rollout_id in dirty
                        if (r := self.sources[source].rollouts.get(rollout_id)) is not None} & self.breach_since.keys():
            dirty.update(self._by_service.get(service, ()))
        changed: list[str] = []
        removed: list[str] = []
        # many rows at once (a first list, a relist, an outage): one sort beats that many insertions
        bulk = len(dirty) > max(64, len(self._order) // 4)
        for source, rollout_id in dirty:
            data = self.sources[source]
            rollout = data.rollouts.get(rollout_id)
            key = f"{source}/{rollout_id}"
            if rollout is None:
                if self._views.pop(key, None) is not None:
                    if not bulk:
                        self._order.discard(key)
                    self.suspect_keys.discard(key)
                    removed.append(key)
                continue
            view = self._view(source, data, rollout, now)
            if self._views.get(key) == view:
                continue
            self._views[key] = view
            if not bulk:
                self._order.put(key, (*sort_key(view.attention, rollout), key))
            if view.evidence is not None or view.flag_suspects:
                self.suspect_keys.add(key)
            else:
                self.suspect_keys.discard(key)
            changed.append(key)
        if bulk:
            self._order = ordered([((*sort_key(v.attention, v.rollout), key), key) for key, v in self._views.items()])
        for feed in self._feeds:
            feed.changed.update(changed)
            feed.removed.difference_update(changed)
            feed.removed.update(removed)
            feed.changed.difference_update(removed)

    def _view(self, source: str, data: SourceData, rollout: Rollout, now: datetime) -> RolloutView:
        health = self.health_of(rollout.service, data)
        limits = self.settings.thresholds.for_service(rollout.service)
        if rollout.service in self.breach_since:
            cases, flags = self._service_cases(rollout.service, now)
            case = cases.get((source, rollout.id))
        else:
            case, flags = None, ()
        rank = Attention.SUSPECT if case or flags else attention(rollout, health, limits, now)
        # "just rolled back" and a platform move's marker end with the clock: look at this row again at the
        # first of them (once per deadline)
        ends = []
        if rollout.rolled_back_at is not None and now - rollout.rolled_back_at < RECENT_ROLLBACK:
            ends.append(rollout.rolled_back_at + RECENT_ROLLBACK)
        move = self.platform_move_of(rollout.service, now) if rollout.service in self.platform_moves else None
        if move is not None:
            ends.append(move.at + timedelta(seconds=self.settings.platform_moves_window))
        if ends:
            self._deadline(source, rollout.id, min(ends))
        return RolloutView(source, rollout, health, rank, data.status.stale, data.status.read_only, case,
                           self._firing.get(rollout.service, 0), flags, move, self.owners.of_rollout(rollout))

    def _deadline(self, source: str, rollout_id: str, at: datetime) -> None:
        when = at.timestamp()
        if self._deadline_of.get((source, rollout_id)) != when:
            self._deadline_of[(source, rollout_id)] = when
            heapq.heappush(self._deadlines, (when, source, rollout_id))

    def _service_cases(self, service: str, now: datetime) -> tuple[dict[tuple[str, str], Evidence],
                                                                   tuple[FlagSuspect, ...]]:
        """The suspects of a breached service, its rollouts' and its flags', ranked together (once per refresh)."""
        found = self._cases.get(service)
        if found is not None:
            return found
        breach_at = self.breach_since.get(service)
        grace = self.grace(service)
        cases: list[tuple[Evidence, tuple[str, str] | FlagSuspect]] = []
        for source, rollout_id in self._by_service.get(service, ()):
            data = self.sources[source]
            rollout = data.rollouts.get(rollout_id)
            if rollout is None:
                continue
            seen = self.baselines.get((source, rollout_id))
            baseline = seen[1] if seen and seen[0] == rollout.revision else None
            ev = evidence(rollout, self.health_of(service, data), self.settings.thresholds.for_service(service),
                          breach_at, baseline, now, grace)
            if ev is not None:
                cases.append((ev, (source, rollout_id)))
        cases += [(s.evidence, s) for s in self.flag_suspects(service, now)]
        rollouts: dict[tuple[str, str], Evidence] = {}
        flags: list[FlagSuspect] = []
        for ev, item in ranked(cases, lambda start, end: self.readings(service, start, end)):
            if isinstance(item, FlagSuspect):
                flags.append(FlagSuspect(item.flag, item.source, ev))
            else:
                rollouts[item] = ev
        found = self._cases[service] = (rollouts, tuple(flags))
        return found

    def health_lag(self, service: str) -> float | None:
        """Seconds between two readings of `service`'s health, as measured from its health source (the longest of
        its last few gaps, at least its series' interval); None before two readings."""
        names = [n for n in self.health_sources if service in self.sources[n].health] or [
            n for n, d in self.sources.items() if service in d.health]
        if not names:
            return None
        gaps = [(b - a).total_seconds() for a, b in pairwise(self._health_read.get(names[0], ()))]
        interval = self.sources[names[0]].health[service].series.interval_s
        return max([*gaps, interval]) if gaps else None

    def grace(self, service: str) -> timedelta:
        return grace_for(self.health_lag(service))

    def view(self, key: str) -> RolloutView | None:
        return self._views.get(key)

    @property
    def by_key(self) -> Mapping[str, RolloutView]:
        """Every row's view by key, as of the last `refresh` (read-only, live: no copy per call). The UI reads
        rows here; `order` gives their order."""
        return self._by_key

    @property
    def order(self) -> RowOrder:
        """Every view's key, exceptions first (as of the last `refresh`)."""
        return self._order

    def all_alerts(self) -> list[Alert]:
        """Every alert from every alert source, newest first."""
        alerts = [a for data in self.sources.values() for a in data.alerts]
        return sorted(alerts, key=lambda a: a.starts_at.timestamp() if a.starts_at else 0.0, reverse=True)

    def health_of(self, service: str, own: SourceData) -> ServiceHealth | None:
        """A service's health: from a health source when one knows the service, else from its own source."""
        for name in self.health_sources:
            found = self.sources[name].health.get(service)
            if found is not None:
                return found
        return own.health.get(service)

    def rollout(self, source: str, rollout_id: str) -> Rollout | None:
        return self.sources[source].rollouts.get(rollout_id)

    def rollouts_of(self, service: str) -> list[Rollout]:
        """The live rollouts of `service`, in every source (by the service index: no walk of every rollout)."""
        return [r for source, rollout_id in self._by_service.get(service, ())
                if (r := self.sources[source].rollouts.get(rollout_id)) is not None]

    def iter_rollouts(self) -> Iterator[tuple[str, Rollout]]:
        for name, data in self.sources.items():
            for rollout in data.rollouts.values():
                yield name, rollout

    def views(self, now: datetime | None = None) -> list[RolloutView]:
        """Every rollout, exceptions first."""
        self.refresh(now)
        return [self._views[key] for key in self._order]

    def recent_events(self, source: str | None = None, service: str | None = None,
                      limit: int = 50) -> list[SourceEvent]:
        """Newest first; flag changes are events of kind "flag" (engine/flag_state.py), a service's included. A
        service's: from its newest EVENTS_PER_SERVICE (the index), not a walk through hours of every service's."""
        out: list[SourceEvent] = []
        items = self.events if service is None else self._events_of.get(service, ())
        for item in reversed(items):
            if (source is None or item.source == source) and (service is None or item.event.service == service):
                out.append(item)
                if len(out) >= limit:
                    break
        return out

    def freshest_age_at(self, now: float | None = None) -> float | None:
        ages = [a for d in self.sources.values() if (a := d.status.age(now)) is not None]
        return min(ages) if ages else None
