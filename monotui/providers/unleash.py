"""Unleash as a feature-flag source (provider kind `unleash`, Admin API of Unleash 7).

Per poll, in bulk: the flags of the configured projects (each project's feature listing, one answer; the feature
search, 100 flags a page, for an Unleash without that listing or a project too large for one answer), which of
them are potentially stale (the search filtered by state), and the flag changes in the production environment
since the last poll (event search, 1,000 a page, newest first, read back to the cursor; see `_new_changes`). A
flag's strategies are not in the listing; they are read only when monotui sees the flag for the first time or the
events or the listing say it changed, in bulk from Unleash's feature export (`POST
/api/admin/features-batch/export`: the flags named, or a whole project's, with their strategies in the
environment), and from the flag's own answer only for the flags the export did not give (an Unleash without the
export, a token not allowed to use it, a flag it left out).

Turning a flag on or off is pinned: the flag is read again just before the request, and if its state is not the
one the caller confirmed, nothing is sent (`FlagChangedError`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from monotui.config import UnleashSourceConfig
from monotui.models import Flag, FlagChange, FlagChangeKind, flag_difference, replace
from monotui.providers.base import PollResult, ProviderError
from monotui.providers.http_edge import LARGE_BODY, HttpEdge
from monotui.providers.items import TOO_DEEP_PROBLEM, describe, holds_too_deep, item_list, json_object, read_items
from monotui.providers.paging import TOO_LARGE

PAGE = 100  # flags per feature-search request (Unleash 7.5 answers a larger limit with its default page, 50)
MAX_SEARCH_PAGES = 2_000  # feature-search pages in one listing at most (a `total` that never comes is not a hang)
EVENTS_PAGE = 1000  # events per event-search request (Unleash 7.5's largest: above it, its default page of 50)
MAX_CATCH_UP = 5000  # events read back in one poll at most, after a long pause
OVERLAP = timedelta(seconds=60)  # how far behind the newest event one that commits late may appear
# The cursor never moves past our own clock plus this (less than OVERLAP): one event stamped in the future (or a
# server clock running ahead) must not put the read-back horizon past every change still to come.
FUTURE_SKEW = timedelta(seconds=30)
MAX_SEEN = 10_000  # event ids remembered within the overlap (future-stamped ones stay until their time comes)
RECENT_CHANGES = 1000  # changes kept for `recent_changes`
FLAG_READS_AT_ONCE = 4  # concurrent reads of single flags (strategies)
EXPORT_NAMES = 500  # flags named in one export request at most; more than that: one export per project
EXPORT_PATH = "/api/admin/features-batch/export"
CHANGE_EVENTS = {
    "feature-environment-enabled": FlagChangeKind.ENABLED,
    "feature-environment-disabled": FlagChangeKind.DISABLED,
    "feature-strategy-add": FlagChangeKind.STRATEGY_CHANGED,
    "feature-strategy-update": FlagChangeKind.STRATEGY_CHANGED,
    "feature-strategy-remove": FlagChangeKind.STRATEGY_CHANGED,
}
_ROLLOUT_PARAMETER = {"flexibleRollout": "rollout", "gradualRolloutRandom": "percentage",
                      "gradualRolloutUserId": "percentage", "gradualRolloutSessionId": "percentage"}

T = TypeVar("T")


async def _done(value: T) -> T:
    return value


@dataclass(frozen=True)
class _Cursor:
    """Where the event reading is: the newest event time seen (None: no event yet), the ids seen within OVERLAP
    before it, and whether the first poll (which reads history) is done."""

    watermark: datetime | None = None
    seen: dict[int, datetime] = field(default_factory=dict)  # never changed: a new cursor replaces it
    polled: bool = False


class FlagChangedError(ProviderError):
    """The flag is no longer as the caller confirmed it: nothing was sent (kind "changed", a refusal)."""

    def __init__(self, confirmed: Flag, current: Flag) -> None:
        super().__init__("changed", f"{confirmed.name} changed since it was confirmed: "
                         f"{flag_difference(confirmed, current) or 'it differs'}; nothing was sent")
        self.confirmed = confirmed
        self.current = current


# ---- the subset of Unleash's answers monotui reads --------------------------------------------------------


class _Wire(BaseModel):
    # built on the first answer, not at import: the flags come after the first rows
    model_config = ConfigDict(extra="ignore", defer_build=True)


class _Tag(_Wire):
    type: str
    value: str


class _Strategy(_Wire):
    name: str
    parameters: dict[str, Any] = {}
    constraints: list[Any] = []
    segments: list[Any] = []
    variants: list[Any] = []
    disabled: bool | None = False
    sortOrder: int | None = None


class _Environment(_Wire):
    name: str
    enabled: bool = False
    strategies: list[_Strategy] = []


class _Feature(_Wire):
    name: str
    project: str = ""
    type: str | None = ""
    description: str | None = ""
    stale: bool | None = False
    createdAt: AwareDatetime | None = None  # a time without a zone is not a time: the flag is unreadable
    environments: list[_Environment] = []
    tags: list[_Tag] | None = []


@dataclass(frozen=True)
class _Unreadable:
    """A flag of the listing that cannot be read (a field of the wrong type, a time without a zone): still a row,
    with what is wrong, so one bad flag never hides the others."""

    name: str
    project: str
    problem: str


@dataclass(frozen=True)
class _Page:
    items: list[Any]  # _Feature | _Unreadable, or _Event
    count: int  # items in the answer, readable or not (the paging goes by it)
    total: int | None


def _text(raw: Any, key: str) -> str | None:
    value = raw.get(key) if isinstance(raw, dict) else None
    return value[:200] if isinstance(value, str) and value else None


def _feature_page(offset: int, what: str, project: str | None = None) -> Callable[[bytes], _Page]:
    """A page of flags; with `project`, a project's own listing, whose flags do not name their project (the
    path does, so it is theirs, whatever an item says)."""
    def parse(body: bytes) -> _Page:
        data = json_object(body, what)
        raw = item_list(data, "features", what)

        def unreadable(i: int, item: Any, problem: str) -> Any:  # a stand-in in the list of _Feature
            return _Unreadable(_text(item, "name") or f"#{offset + i}", project or _text(item, "project") or "",
                               f"features.{offset + i}.{problem}")

        items = read_items(raw, _Feature, unreadable)
        if project is not None:
            items = [f.model_copy(update={"project": project}) if isinstance(f, _Feature) else f for f in items]
        total = data.get("total")
        return _Page(items, len(raw), total if isinstance(total, int) else None)
    return parse


def _event_page(what: str) -> Callable[[bytes], _Page]:
    def parse(body: bytes) -> _Page:
        data = json_object(body, what)
        raw = item_list(data, "events", what)
        total = data.get("total")
        # an event that cannot be read (a time without a zone) is left out; the others still count
        return _Page(read_items(raw, _Event), len(raw), total if isinstance(total, int) else None)
    return parse


class _Event(_Wire):
    id: int
    type: str
    createdBy: str = ""
    createdAt: AwareDatetime
    featureName: str | None = None
    project: str | None = None
    environment: str | None = None
    tags: list[_Tag] | None = []
    data: dict[str, Any] | None = None
    preData: dict[str, Any] | None = None


# ---- strategies in words -----------------------------------------------------------------------------------


def _percentage(strategy: _Strategy) -> int | None:
    key = _ROLLOUT_PARAMETER.get(strategy.name)
    if key is None:
        return 100 if strategy.name == "default" else None
    try:
        return max(0, min(100, int(float(str(strategy.parameters.get(key, ""))))))
    except ValueError:
        return None


def strategy_summary(strategy: _Strategy) -> str:
    percentage = _percentage(strategy)
    if strategy.name == "default":
        text = "everyone"
    elif percentage is not None:
        text = f"rollout {percentage}%"
    else:
        text = strategy.name
    n = len(strategy.constraints)
    return f"{text} if {n} constraint{'s' if n > 1 else ''}" if n else text


class _Strategies(NamedTuple):
    summaries: list[str]
    rollout: int | None
    pin: str


def _decisive(strategy: _Strategy) -> str:
    """What of a strategy decides who gets the flag, as canonical JSON."""
    return json.dumps(strategy.model_dump(include={"name", "parameters", "constraints", "segments", "variants"}),
                      sort_keys=True, default=str)


def strategies_of(environment: _Environment | None) -> _Strategies:
    """The summaries of the active strategies, the % of traffic the flag is on for when that is known without
    evaluating constraints (the largest unconstrained percentage), and a digest of everything that decides who
    gets the flag (parameters, constraints, segments, variants): two summaries can read the same while the
    constraints behind them differ, and a kill switch is pinned to what was confirmed, not to its summary."""
    # one order whichever answer they came in (the export's and the flag's own differ): Unleash's sortOrder, then
    # the strategy itself (strategies are alternatives: their order changes nothing of who gets the flag)
    active = sorted((s for s in (environment.strategies if environment else []) if not s.disabled),
                    key=lambda s: (s.sortOrder if isinstance(s.sortOrder, int) else 0, _decisive(s)))
    rollouts = [p for s in active if not s.constraints and (p := _percentage(s)) is not None]
    # in either order, the export's or the flag's own answer's: the same strategies are the same pin
    decisive = sorted(_decisive(s) for s in active)
    pin = hashlib.sha256(json.dumps(decisive).encode()).hexdigest()[:16]
    return _Strategies([strategy_summary(s) for s in active], max(rollouts) if rollouts else None, pin)


def _change_summary(event: _Event, kind: FlagChangeKind) -> str:
    if kind is FlagChangeKind.ENABLED:
        return "enabled"
    if kind is FlagChangeKind.DISABLED:
        return "disabled"
    after = _Strategy.model_validate(event.data) if event.data and "name" in event.data else None
    before = _Strategy.model_validate(event.preData) if event.preData and "name" in event.preData else None
    if after and before:
        was, now = _percentage(before), _percentage(after)
        if was != now and was is not None and now is not None:
            return f"rollout {was}% → {now}%"
        return f"strategy changed: {strategy_summary(before)} → {strategy_summary(after)}"
    if after:
        return f"strategy added: {strategy_summary(after)}"
    if before:
        return f"strategy removed: {strategy_summary(before)}"
    return "strategy changed"


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def _future(event: _Event, server_now: datetime) -> str:
    """' (stamped 3 h in the future)' for an event stamped ahead of its server's clock, else ''."""
    ahead = (event.createdAt - server_now).total_seconds()
    return f" (stamped {_span(ahead)} in the future)" if ahead > FUTURE_SKEW.total_seconds() else ""


# ---- the provider ----------------------------------------------------------------------------------------


class UnleashProvider:
    """Flags of some Unleash projects in one environment; `poll()` refreshes `flags` and `recent_changes`."""

    def __init__(self, config: UnleashSourceConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.name = config.name
        self._cursor = _Cursor()  # moved on only when a whole refresh succeeded, so no change is lost
        self._flags: dict[tuple[str, str], Flag] = {}
        self._strategies: dict[tuple[str, str], _Strategies] = {}
        self._last_change: dict[tuple[str, str], FlagChange] = {}
        self.recent_changes: deque[FlagChange] = deque(maxlen=RECENT_CHANGES)
        self._requests = 0
        self._unreadable: dict[tuple[str, str], str] = {}  # flags whose own answer cannot be read: what is wrong
        self._export: bool | None = None  # the feature export: None not tried yet, False the server has none
        # each project's listing in one answer: None not tried yet, False this server has none (or a project too
        # large for one answer): the feature search, paged, from then on
        self._whole_listing: bool | None = None
        self._edge = HttpEdge(config, transport=transport, bearer=False)  # Unleash: the token alone

    @property
    def flags(self) -> list[Flag]:
        return sorted(self._flags.values(), key=lambda f: (f.service is None, f.service or f.project, f.name))

    # ---- HTTP (the edge: size bound, deadline, no redirects, credentials scrubbed from errors) ----

    async def _request(self, method: str, path: str) -> None:
        self._requests += 1
        await self._edge.send(method, path)

    async def _get(self, path: str, parse: Callable[[bytes], T], params: dict[str, Any] | None = None) -> T:
        self._requests += 1
        _, value = await self._edge.get(path, parse, params=params)
        return value

    def _projects(self) -> str:
        return "IS_ANY_OF:" + ",".join(self.config.projects)

    # ---- mapping ----

    def service_of(self, name: str, tags: Iterable[_Tag] | None) -> str | None:
        if self.config.service_from == "prefix":
            head, sep, _ = name.partition(self.config.service_prefix_separator)
            return head if sep and head else None
        for tag in tags or []:
            if tag.type == self.config.service_tag_type and tag.value:
                return tag.value
        return None

    def team_of(self, tags: Iterable[_Tag] | None) -> str:
        """The team a flag's tags name (the first of `owner_tag_types` that has a value), "" when none."""
        values = {tag.type: tag.value for tag in reversed(list(tags or ())) if tag.value}
        return next((values[t] for t in self.config.owner_tag_types if t in values), "")

    def _flag(self, feature: _Feature, project: str, *, service: str | None, potentially_stale: bool) -> Flag:
        key = (project, feature.name)
        environment = next((e for e in feature.environments if e.name == self.config.environment), None)
        strategies, rollout, pin = self._strategies.get(key, _Strategies([], None, ""))
        return Flag(name=feature.name, project=project, environment=self.config.environment,
                    enabled=bool(environment and environment.enabled), service=service, type=feature.type or "",
                    description=feature.description or "", strategies=strategies, rollout=rollout, strategy_pin=pin,
                    stale=bool(feature.stale), potentially_stale=potentially_stale, created_at=feature.createdAt,
                    last_change=self._last_change.get(key), unreadable=self._unreadable.get(key, ""),
                    team=self.team_of(feature.tags))

    def _unreadable_flag(self, item: _Unreadable, service: str | None) -> Flag:
        return Flag(name=item.name, project=item.project, environment=self.config.environment, enabled=False,
                    service=service, unreadable=item.problem, last_change=self._last_change.get((item.project,
                                                                                                   item.name)))

    # ---- reading ----

    async def _listing(self) -> list[_Feature | _Unreadable]:
        """Every flag of the configured projects: one request per project (`GET /api/admin/projects/{p}/features`,
        which Unleash 7.5 answers whole, where its feature search gives at most 100 flags a request), or the
        search, paged, on an Unleash without that listing (404, 405, 410) or with a project whose listing is
        larger than `max_response_mb`: that one answer is not bounded by paging, the search's pages are."""
        if self._whole_listing is not False:
            try:
                listed = await asyncio.gather(*(self._project_features(p) for p in self.config.projects))
            except ProviderError as e:
                if e.status not in (404, 405, 410) and TOO_LARGE not in e.message:
                    raise
                self._whole_listing = False
            else:
                self._whole_listing = True
                return [feature for features in listed for feature in features]
        return await self._search({})

    async def _project_features(self, project: str) -> list[_Feature | _Unreadable]:
        path = f"/api/admin/projects/{quote(project, safe='')}/features"
        page: _Page = await self._get(path, _feature_page(0, f"GET {path}", project=project))
        return page.items

    async def _search(self, extra: dict[str, Any]) -> list[_Feature | _Unreadable]:
        features: list[_Feature | _Unreadable] = []
        offset = 0
        for _ in range(MAX_SEARCH_PAGES):
            page = await self._get("/api/admin/search/features",
                                   _feature_page(offset, "GET /api/admin/search/features"),
                                   {"project": self._projects(), "limit": PAGE, "offset": offset, **extra})
            features.extend(page.items)
            offset += page.count
            # by the total when the answer gives one: a server may send fewer than asked (Unleash caps its pages)
            if page.count == 0 or (offset >= page.total if page.total is not None else page.count < PAGE):
                return features
        raise ProviderError("invalid", f"GET /api/admin/search/features: more than {MAX_SEARCH_PAGES:,} pages "
                            "(a total that is never reached?)")

    async def _new_changes(self) -> tuple[list[FlagChange], _Cursor]:
        """The flag changes not seen before (on the first poll: the last `history` ones), oldest first.

        Unleash lists events newest first by creation time, and an event's id and time are given before its
        transaction commits, so one that commits late can appear behind events already read: every poll reads
        back `OVERLAP` before the newest time seen, and the ids seen within that window are skipped."""
        cursor = self._cursor
        first = not cursor.polled
        now = datetime.now(UTC)
        cap = now + FUTURE_SKEW  # the watermark never goes past it
        horizon = None if cursor.watermark is None else cursor.watermark - OVERLAP
        events: dict[int, _Event] = {}
        offset = 0
        while True:
            page = await self._get("/api/admin/search/events", _event_page("GET /api/admin/search/events"), {
                "environment": f"IS:{self.config.environment}", "project": self._projects(),
                "type": "IS_ANY_OF:" + ",".join(CHANGE_EVENTS), "limit": EVENTS_PAGE, "offset": offset})
            read: list[_Event] = page.items
            # pages shift while events arrive: the same id may come twice; after the first poll, what is older
            # than the horizon was read before (a page reaching back past it must not report it again)
            events.update((e.id, e) for e in read
                          if e.id not in cursor.seen and (horizon is None or first or e.createdAt >= horizon))
            offset += page.count
            if read and first and horizon is None:  # back to OVERLAP before the newest event
                horizon = min(max(e.createdAt for e in read), cap) - OVERLAP
            # not by the answer's `total`: an event committed between Unleash's count and its page would be missed
            if (page.count < EVENTS_PAGE or offset >= MAX_CATCH_UP
                    or (horizon is not None and read and min(e.createdAt for e in read) < horizon
                        and (not first or offset >= self.config.history))):
                break
        seen = cursor.seen | {e.id: e.createdAt for e in events.values()}
        newest = max(seen.values(), default=None)
        watermark = None if newest is None else min(newest, cap)
        if watermark is not None:
            seen = {i: t for i, t in seen.items() if t >= watermark - OVERLAP}
            if len(seen) > MAX_SEEN:
                seen = dict(sorted(seen.items(), key=lambda item: item[1])[-MAX_SEEN:])
        next_cursor = _Cursor(watermark, seen, polled=True)
        # an event stamped ahead of the server's own clock (its Date header) by more than the skew is shown so
        server_now = now + timedelta(seconds=self._edge.clock_offset or 0.0)
        news = sorted(events.values(), key=lambda e: (e.createdAt, e.id))
        if first:
            news = news[len(news) - self.config.history:] if self.config.history else []
        changes = []
        for event in news:
            kind = CHANGE_EVENTS.get(event.type)
            if kind is None or not event.featureName or not event.project:
                continue
            changes.append(FlagChange(
                id=event.id, time=event.createdAt, kind=kind, flag=event.featureName, project=event.project,
                environment=event.environment or self.config.environment,
                service=self.service_of(event.featureName, event.tags),
                actor=event.createdBy, summary=_change_summary(event, kind) + _future(event, server_now)))
        return changes, next_cursor

    async def _read_feature(self, project: str, name: str) -> _Feature:
        path = f"/api/admin/projects/{quote(project, safe='')}/features/{quote(name, safe='')}"

        def parse(body: bytes) -> _Feature:
            data = json_object(body, f"GET {path}")
            if holds_too_deep(data):
                raise ProviderError("invalid", f"GET {path}: invalid response: {TOO_DEEP_PROBLEM}")
            try:
                return _Feature.model_validate(data)
            except ValidationError as e:
                raise ProviderError("invalid", f"GET {path}: invalid response: {describe(e)}") from None

        return await self._get(path, parse)

    async def _read_strategies(self, keys: Iterable[tuple[str, str]]) -> None:
        """Read the flags' own answers (their strategies), FLAG_READS_AT_ONCE at a time. Each read has its own
        deadline (half the source's timeout) and all of them together the source's timeout: a flag whose own read
        fails, in any way, or hangs is a row saying so (`unreadable`), and the other flags are read as usual."""
        gate = asyncio.Semaphore(FLAG_READS_AT_ONCE)
        own = self.config.timeout / 2

        async def one(key: tuple[str, str]) -> None:
            async with gate:
                try:
                    async with asyncio.timeout(own):
                        feature = await self._read_feature(*key)
                except TimeoutError:
                    self._unreadable[key] = (f"{key[1]}: its own answer did not come within {own:g}s: its "
                                             "strategies are not known")
                    return
                except ProviderError as e:
                    # a flag that answers garbage, an error or 404 (archived since it was listed, or a name
                    # Unleash cannot route back) is a row saying what is wrong: the other flags stay
                    self._unreadable[key] = e.message
                    return
            self._unreadable.pop(key, None)
            environment = next((e for e in feature.environments if e.name == self.config.environment), None)
            self._strategies[key] = strategies_of(environment)

        tasks = {asyncio.ensure_future(one(key)): key for key in keys}
        if not tasks:
            return
        try:
            done, late = await asyncio.wait(tasks, timeout=self.config.timeout)
        finally:  # also when the poll itself is cancelled: no read outlives it
            for task in tasks:
                task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        for task in done:
            task.result()  # anything but a ProviderError is a bug: not hidden
        for task in late:  # still waiting for its turn: read at the next poll
            self._unreadable[tasks[task]] = (f"{tasks[task][1]}: not read within {self.config.timeout:g}s (other "
                                             "flags' reads were slow): its strategies are not known")

    async def _export_strategies(self, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """The strategies of `keys` from Unleash's feature export, in a few requests (the flags named, EXPORT_NAMES
        at a time, or each project's when there are more); returns the keys it gave. An Unleash without the export
        (404, 405) is not asked again; any other failure leaves the flags to their own reads, this poll."""
        if not keys or self._export is False:
            return set()
        by_project: dict[str, list[str]] = {}
        for project, name in sorted(keys):
            by_project.setdefault(project, []).append(name)
        bodies: list[dict[str, Any]] = []
        if len(keys) > EXPORT_NAMES:
            bodies = [{"environment": self.config.environment, "project": p} for p in by_project]
        else:
            bodies = [{"environment": self.config.environment, "features": [n for _, n in sorted(keys)]}]
        given: set[tuple[str, str]] = set()
        for body in bodies:
            self._requests += 1
            try:
                answer = await self._edge.send("POST", EXPORT_PATH, json_body=body,
                                               headers={"Content-Type": "application/json"})
                read = await (asyncio.to_thread(self._read_export, answer.content, keys)
                              if len(answer.content) > LARGE_BODY else _done(self._read_export(answer.content, keys)))
            except ProviderError as e:
                if e.status in (404, 405):
                    self._export = False
                    return given
                continue  # refused (a token without the permission), garbage: those flags are read one by one
            self._export = True
            for key, strategies in read.items():
                self._strategies[key] = strategies
                self._unreadable.pop(key, None)
                given.add(key)
        return given

    def _read_export(self, body: bytes, keys: set[tuple[str, str]]) -> dict[tuple[str, str], _Strategies]:
        """The export's strategies for `keys`, in the environment asked for. A flag of the answer whose project
        is not the one listed, or with a strategy that cannot be read, is left out (it is read on its own)."""
        what = f"POST {EXPORT_PATH}"
        data = json_object(body, what)
        projects = {_text(f, "name"): _text(f, "project") for f in item_list(data, "features", what)}
        strategies: dict[str, list[_Strategy]] = {}
        broken: set[str] = set()
        for raw in item_list(data, "featureStrategies", what):
            name = _text(raw, "featureName")
            if name is None:
                continue
            env = raw.get("environment") if isinstance(raw, dict) else None
            if env is not None and env != self.config.environment:
                continue
            try:
                strategies.setdefault(name, []).append(_Strategy.model_validate(raw))
            except ValidationError:
                broken.add(name)
        out = {}
        for project, name in keys:
            if projects.get(name) == project and name not in broken:
                out[(project, name)] = strategies_of(_Environment(name=self.config.environment,
                                                                  strategies=strategies.get(name, [])))
        return out

    async def refresh(self) -> list[FlagChange]:
        """Read every flag and the changes since the last refresh; returns the new changes, oldest first."""
        features, potentially_stale, (changes, cursor) = await asyncio.gather(
            self._listing(), self._search({"state": "IS:potentially-stale"}), self._new_changes())
        listed = {(f.project, f.name): f for f in features}
        readable = {key: f for key, f in listed.items() if isinstance(f, _Feature)}
        services = {key: self.service_of(f.name, f.tags if isinstance(f, _Feature) else None)
                    for key, f in listed.items()}
        # an event's tags are those of its time: the flag's current mapping wins
        changes = [replace(c, service=services[key]) if (key := (c.project, c.flag)) in services
                   else c for c in changes]
        changed = {(c.project, c.flag) for c in changes}
        wanted = {
            key for key, feature in readable.items()
            if key not in self._strategies or key in self._unreadable or key in changed or key not in self._flags
            or self._flags[key].enabled != any(e.enabled for e in feature.environments
                                               if e.name == self.config.environment)}
        given = await self._export_strategies(wanted)
        await self._read_strategies(key for key in sorted(wanted) if key not in given)
        # everything was read: only now does the cursor move on
        self._cursor = cursor
        for change in changes:
            self._last_change[(change.project, change.flag)] = change
        self.recent_changes.extend(changes)
        stale_keys = {(f.project, f.name) for f in potentially_stale}
        self._flags = {key: self._flag(f, key[0], service=services[key], potentially_stale=key in stale_keys)
                       if isinstance(f, _Feature) else self._unreadable_flag(f, services[key])
                       for key, f in listed.items()}
        for gone in [key for key in self._strategies if key not in listed]:  # archived or deleted
            del self._strategies[gone]
            self._last_change.pop(gone, None)
        for gone in [key for key in self._unreadable if key not in readable]:
            del self._unreadable[gone]
        return changes

    async def read_flag(self, project: str, name: str) -> Flag:
        """One flag as it is now (its strategies included), read from Unleash rather than the last poll."""
        feature = await self._read_feature(project, name)
        key = (project, name)
        self._unreadable.pop(key, None)
        environment = next((e for e in feature.environments if e.name == self.config.environment), None)
        self._strategies[key] = strategies_of(environment)
        known = self._flags.get(key)
        service = known.service if known else self.service_of(name, feature.tags)
        flag = self._flag(feature, project, service=service,
                          potentially_stale=known.potentially_stale if known else False)
        self._flags[key] = flag
        return flag

    async def poll(self) -> PollResult:
        before = self._requests
        changes = await self.refresh()
        return PollResult(rollouts=None, requests=self._requests - before, flags=self.flags, flag_changes=changes,
                          clock_skew_s=self._edge.skew)

    # ---- acting ----

    async def set_flag(self, confirmed: Flag, enabled: bool) -> Flag:
        """Turn `confirmed` on or off in the production environment, if it is still as the caller confirmed it
        (on/off and strategies); else raise `FlagChangedError` and send nothing. Returns the flag as it is after."""
        try:
            current = await self.read_flag(confirmed.project, confirmed.name)
        except ProviderError as e:
            if e.refused:
                raise
            # only the read before the request failed: the request itself never left
            raise ProviderError("connection", f"{e.message} (reading the flag before sending it); nothing was "
                                "sent") from None
        if flag_difference(confirmed, current):
            raise FlagChangedError(confirmed, current)
        path = (f"/api/admin/projects/{quote(confirmed.project, safe='')}/features/"
                f"{quote(confirmed.name, safe='')}/environments/{quote(self.config.environment, safe='')}/"
                f"{'on' if enabled else 'off'}")
        await self._request("POST", path)  # sent once, never retried: the next read shows the real state
        wanted = "on" if enabled else "off"
        # done only when the flag is seen as asked: an OK from something in front of Unleash that did not act, or a
        # read-back that fails, leaves the outcome unknown (the request did arrive somewhere: never "failed")
        try:
            after = await self.read_flag(confirmed.project, confirmed.name)
        except ProviderError as e:
            raise ProviderError("lost", f"the toggle was answered OK, but reading the flag back failed "
                                f"({e.message}): whether it is {wanted} is not known") from None
        if after.enabled != enabled:
            raise ProviderError("lost", f"the toggle was answered OK, but the flag read back is {after.state}, "
                                f"not {wanted}")
        return after

    async def aclose(self) -> None:
        await self._edge.aclose()
