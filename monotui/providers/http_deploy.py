"""Client of the monotui deploy API (provider kind `http`, docs/deploy-api.md)."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import logging
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import msgspec

from monotui.action_kinds import DEPLOY_API_ACTIONS, ActionKind
from monotui.config import HttpSourceConfig
from monotui.models import (
    ActionRequest,
    ActionResponse,
    Event,
    EventPage,
    Freeze,
    FreezeRequest,
    HealthChanges,
    LogLine,
    Rollout,
    RolloutChanges,
    ServiceHealth,
)
from monotui.models import replace as copy_with
from monotui.providers import deploy_logs
from monotui.providers.base import Pin, PollResult, ProviderError
from monotui.providers.http_edge import Answer, HttpEdge
from monotui.providers.items import decode_items, decode_known, envelope, unreadable_rollout
from monotui.providers.log_stream import LogRequest
from monotui.providers.paging import RELISTS, Pages, Relist
from monotui.providers.revisions import read_revisions
from monotui.revisions import RevisionList

log = logging.getLogger(__name__)

MAX_CURSOR = 4096  # characters of a change-feed cursor kept to send back (a longer one: list everything again)

# The envelopes of the answers, their item lists kept as raw JSON: each item is decoded on its own, so one that
# cannot be read never hides the others (providers/items.py).


_CONTINUE = msgspec.field(default=None, name="continue")


class _RolloutList(msgspec.Struct):
    rollouts: list[msgspec.Raw]
    continue_: str | None = _CONTINUE


class _RolloutChanges(msgspec.Struct):
    cursor: str
    full: bool
    rollouts: list[msgspec.Raw]
    removed: list[Any] | None = None  # lenient: ids that are not strings are ignored
    continue_: str | None = _CONTINUE


class _HealthList(msgspec.Struct):
    services: list[msgspec.Raw]
    continue_: str | None = _CONTINUE


class _HealthChanges(msgspec.Struct):
    cursor: str
    full: bool
    services: list[msgspec.Raw]
    continue_: str | None = _CONTINUE


class _EventPage(msgspec.Struct):
    events: list[msgspec.Raw]
    cursor: int


_ROLLOUT_LIST = msgspec.json.Decoder(_RolloutList)
_ROLLOUT_CHANGES = msgspec.json.Decoder(_RolloutChanges)
_HEALTH_LIST = msgspec.json.Decoder(_HealthList)
_HEALTH_CHANGES = msgspec.json.Decoder(_HealthChanges)
_EVENT_PAGE = msgspec.json.Decoder(_EventPage)
_ROLLOUT = msgspec.json.Decoder(Rollout)
_HEALTH = msgspec.json.Decoder(ServiceHealth)
_EVENT = msgspec.json.Decoder(Event)
_ACTION_RESPONSE = msgspec.json.Decoder(ActionResponse)
_FREEZE = msgspec.json.Decoder(Freeze)


def _items(page: Any) -> int:
    """The items of one change-feed page (its rollouts, or its services' health)."""
    return len(getattr(page, "rollouts", None) or getattr(page, "services", None) or [])


class HttpDeployProvider:
    """Polls rollouts, health and events in three requests, and the server's freeze in a fourth (until the server
    answers 404: it has no freeze); sends actions with an Idempotency-Key; sets and lifts the server's freeze.

    Rollouts and health come from the change feed (only what changed since the last poll's cursor; everything on
    the first poll or when the server says the cursor is too old). A server without the feed (404) is polled in
    bulk instead: the whole rollout list (with ETag) and every service's health.

    Every list is read item by item: a rollout that cannot be read is one row saying what is wrong, a health or
    event item that cannot be read is left out; the rest of the source stays.

    A bulk answer byte for byte the same as the last one applied (a server without ETags re-sending an unchanged
    list) is treated like a 304: not decoded, nothing to apply. Its digest is taken in the worker thread that
    would have decoded it (hashlib lets go of the GIL on big buffers), and kept only once the poll succeeded."""

    capabilities = frozenset(DEPLOY_API_ACTIONS)
    idempotent = True  # the API replays the first answer to a repeated Idempotency-Key: a resend cannot act twice

    def __init__(self, config: HttpSourceConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.name = config.name
        self._etag: str | None = None
        self._event_cursor = 0
        self.use_feed: bool | None = None  # None: not known yet; False: poll in bulk
        self._rollout_cursor: str | None = None
        self._health_cursor: str | None = None
        self._edge = HttpEdge(config, transport=transport)
        self._unreadable: dict[str, datetime] = {}  # rollout id → when it was first seen unreadable
        self._bulk_digests: dict[str, bytes] = {}  # bulk path → digest of the last body applied
        self._known: dict[bytes, Rollout] = {}  # the last bulk list's items: JSON → model (items.decode_known)
        self._aliases: dict[str, list[str]] = {}  # an id listed more than once → the row ids shown for it
        self._dropped: list[str] = []  # set by `_apart`
        self._cursor_errors: dict[str, int] = {}  # change-feed path → failures in a row on a cursor
        self._paged: dict[str, bool | None] = {}  # list path → whether the server pages it (None: not known)
        self._ids: set[str] = set()  # the row ids the last results left shown (a paged listing drops the rest)
        # the server's freeze: None not known yet, False the server has none (GET /v1/freeze answered 404)
        self.server_freeze: bool | None = None

    def _local_rollout(self, rollout: Rollout, shift: timedelta) -> Rollout:
        """`rollout` with its times moved onto our clock (a row for an unreadable one has our times already)."""
        if rollout.id in self._unreadable:
            return rollout
        return copy_with(rollout, started_at=rollout.started_at - shift,
                         updated_at=None if rollout.updated_at is None else rollout.updated_at - shift,
                         rolled_back_at=None if rollout.rolled_back_at is None else rollout.rolled_back_at - shift)

    def _on_our_clock(self, result: PollResult) -> PollResult:
        """A poll's times moved onto our clock when the API's runs SKEW_SHOWN or more ahead or behind (its Date
        headers): a canary stamped 45 s "in the future" must still fall in the window before a breach seen here."""
        skew = self._edge.skew
        if skew is None:
            return result
        shift = timedelta(seconds=skew)
        return dataclasses.replace(
            result, clock_skew_s=skew,
            rollouts=None if result.rollouts is None else [self._local_rollout(r, shift) for r in result.rollouts],
            events=[copy_with(e, time=e.time - shift) for e in result.events])

    def _shifted(self, rollout: Rollout) -> Rollout:
        skew = self._edge.skew
        return rollout if skew is None else self._local_rollout(rollout, timedelta(seconds=skew))

    async def _request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: object
    ) -> Answer:
        return await self._edge.send(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]

    def _rollout_items(self, items: list[msgspec.Raw], *, replace: bool, bulk: bool = False) -> list[Rollout]:
        """The rollouts of an answer, item by item: an unreadable one becomes a row saying which field is wrong
        (kept with the time it was first seen, so its age means something). A bulk list, read whole at every
        poll, decodes only the items that are not byte for byte as they were in the last one."""
        seen_now: dict[str, datetime] = {}

        def stand_in(index: int, raw: object, problem: str) -> Rollout:
            row = unreadable_rollout(raw, index, problem)
            row = copy_with(row, started_at=self._unreadable.get(row.id, row.started_at))
            seen_now[row.id] = row.started_at
            return row

        if bulk:
            rollouts, self._known = decode_known(items, _ROLLOUT, self._known, stand_in)
        else:
            rollouts = decode_items(items, _ROLLOUT, stand_in)
        rollouts = self._apart(rollouts, seen_now, replace=replace)
        if replace:
            self._unreadable = seen_now
        else:  # a partial answer: only the rollouts it carries are re-judged
            for rollout in rollouts:
                self._unreadable.pop(rollout.id, None)
            self._unreadable.update(seen_now)
        return rollouts

    def _apart(self, rollouts: list[Rollout], seen_now: dict[str, datetime], *, replace: bool) -> list[Rollout]:
        """Items of one answer that share an id are all shown, each under its own row id ("cart-api (2 of 2)"),
        marked as a conflict (actions on them are refused: the id alone cannot say which the API would act on);
        one of them must never hide the other. The ids of rows to drop from the state (the plain row when a
        conflict begins in a partial answer, the conflict rows when it ends) are left in `self._dropped`."""
        self._dropped = []
        ids = [r.id for r in rollouts]
        if len(set(ids)) == len(ids) and not self._aliases:
            return rollouts
        counts = Counter(ids)
        shown: dict[str, list[str]] = {}
        out = []
        for rollout in rollouts:
            total = counts[rollout.id]
            if total == 1:
                out.append(rollout)
                if not replace and rollout.id in self._aliases:  # listed once again: the conflict is over
                    self._dropped += self._aliases.pop(rollout.id)
                continue
            aliases = shown.setdefault(rollout.id, [])
            alias = f"{rollout.id} ({len(aliases) + 1} of {total})"
            aliases.append(alias)
            services = ", ".join(sorted({r.service for r in rollouts if r.id == rollout.id}))[:200]
            problem = (f"conflict: the API lists id {rollout.id} {total} times (service {services}); actions "
                       "are refused until it lists it once")
            out.append(copy_with(rollout, id=alias, message=problem, errors=[*rollout.errors, problem]))
            seen_now[alias] = self._unreadable.get(alias, rollout.started_at)
        if replace:
            self._aliases = shown
        else:
            for original, aliases in shown.items():
                self._dropped += [original, *(a for a in self._aliases.get(original, []) if a not in aliases)]
                self._aliases[original] = aliases
        return out

    def _read_rollout_changes(self, body: bytes, *, page: bool = False) -> tuple[RolloutChanges, str | None]:
        """A change-feed answer and its continue token. With `page` (one page of a listing), its rollouts are
        judged as a partial answer: the listing as a whole replaces what is shown (`_feed_pages`)."""
        data = envelope(_ROLLOUT_CHANGES, body, "GET /v1/changes/rollouts")
        token = data.continue_ if data.full else None
        removed = [r for r in data.removed or [] if isinstance(r, str)]
        for gone in removed:
            self._unreadable.pop(gone, None)
            removed += self._aliases.pop(gone, [])
        rollouts = self._rollout_items(data.rollouts, replace=data.full and not page and not token)
        changes = RolloutChanges(cursor=data.cursor, full=data.full, removed=removed + self._dropped,
                                 rollouts=rollouts)
        return changes, token

    @staticmethod
    def _read_health_changes(body: bytes, *, page: bool = False) -> tuple[HealthChanges, str | None]:
        data = envelope(_HEALTH_CHANGES, body, "GET /v1/changes/health")
        return (HealthChanges(cursor=data.cursor, full=data.full, services=decode_items(data.services, _HEALTH)),
                data.continue_ if data.full else None)

    def _unless_same(self, path: str, parse: Any) -> Any:
        """`parse`, preceded by a digest of the body: (digest, None) when the body is the one last applied for
        `path`, else (digest, what `parse` reads)."""

        def read(body: bytes) -> tuple[bytes, Any]:
            digest = hashlib.blake2b(body, digest_size=32).digest()
            return digest, None if digest == self._bulk_digests.get(path) else parse(body)

        return read

    async def _rollouts(self) -> tuple[list[Rollout] | None, dict[str, Any], int]:
        """The rollout list (None: the same as last time), what to remember once the poll succeeded, and the
        requests it took. A paged list is read page after page, then decoded whole (item by item, each item byte
        for byte as in the last list not decoded again); a list in one page unchanged byte for byte is not
        decoded at all."""
        path = "/v1/rollouts"
        headers = {"If-None-Match": self._etag} if self._etag else {}
        envelope_of = self._unless_same(path, lambda body: envelope(_ROLLOUT_LIST, body, f"GET {path}"))
        first: list[Answer] = []

        async def fetch(params: dict[str, str | int]) -> tuple[Any, str | None]:
            answer, read = await self._edge.get(path, envelope_of, headers=None if first else headers,
                                                params=params or None)
            first.append(answer)
            if answer.status == 304:
                return None, None
            digest, data = read
            return (digest, data), None if data is None else data.continue_

        pages = Pages(f"GET {path}", fetch, paged=self._paged.get(path),
                      count=lambda read: 0 if read is None or read[1] is None else len(read[1].rollouts))
        raws: list[msgspec.Raw] = []
        digests: list[bytes] = []
        async for read, _ in pages:
            if read is None:  # 304
                self._paged[path] = pages.paged
                return None, {}, pages.requests
            digest, data = read
            digests.append(digest)
            if data is not None:
                raws += data.rollouts
        self._paged[path] = pages.paged
        remember: dict[str, Any] = {"etag": first[0].headers.get("etag")}
        remember[path] = digests[0] if len(digests) == 1 else b""  # a paged list: no digest to compare
        if len(digests) == 1 and not raws and data is None:  # the same body as the one last applied
            return None, remember, pages.requests
        rollouts = await self._off_loop(len(raws), lambda: self._rollout_items(raws, replace=True, bulk=True))
        return rollouts, remember, pages.requests

    @staticmethod
    async def _off_loop(items: int, work: Any) -> Any:
        return await asyncio.to_thread(work) if items > 2_000 else work()

    async def _health(self) -> tuple[list[ServiceHealth], dict[str, Any], int]:
        """Every service's health ([]: the same as last time), what to remember once the poll succeeded, and the
        requests it took (a paged list: one a page)."""
        path = "/v1/health"

        def read(body: bytes) -> tuple[list[ServiceHealth], str | None]:
            data = envelope(_HEALTH_LIST, body, f"GET {path}")
            return decode_items(data.services, _HEALTH), data.continue_

        reader = self._unless_same(path, read)

        async def fetch(params: dict[str, str | int]) -> tuple[Any, str | None]:
            _, (digest, got) = await self._edge.get(path, reader, params=params or None)
            return (digest, got), None if got is None else got[1]

        pages = Pages(f"GET {path}", fetch, paged=self._paged.get(path),
                      count=lambda read: 0 if read[1] is None else len(read[1][0]))
        health: list[ServiceHealth] = []
        digests = []
        async for (digest, got), _ in pages:
            digests.append(digest)
            if got is not None:
                health += got[0]
        self._paged[path] = pages.paged
        return health, {path: digests[0] if len(digests) == 1 else b""}, pages.requests

    @staticmethod
    def _read_events(body: bytes) -> EventPage:
        data = envelope(_EVENT_PAGE, body, "GET /v1/events")
        return EventPage(events=decode_items(data.events, _EVENT), cursor=data.cursor)

    async def _events(self) -> EventPage:
        """The events since our cursor. An error on it the second time in a row is answered like the change
        feeds' (listed again, without the cursor), keeping only the events past it: none comes twice."""
        try:
            _, page = await self._edge.get("/v1/events", self._read_events, params={"since": self._event_cursor})
            self._cursor_errors.pop("/v1/events", None)
        except ProviderError:
            failures = self._cursor_errors.get("/v1/events", 0) + 1
            self._cursor_errors["/v1/events"] = failures
            if failures < 2 or self._event_cursor == 0:
                raise
            _, page = await self._edge.get("/v1/events", self._read_events)
            self._cursor_errors.pop("/v1/events", None)
            return EventPage(events=[e for e in page.events if e.id > self._event_cursor],
                             cursor=max(page.cursor, self._event_cursor))
        if page.cursor < 0:  # a negative cursor is refused: only the events past ours are new
            return EventPage(events=[e for e in page.events if e.id > self._event_cursor], cursor=page.cursor)
        return page

    async def _delta(self, path: str, parse: Any, cursor: str) -> tuple[Any, int]:
        """What changed since `cursor` on a change feed (None: list everything again) and the requests it took:
        a cursor the server no longer honours (410) is answered by listing everything again, and so is any other
        error on the same cursor the second time in a row (the first is the engine's to back off from: it may
        have been passing)."""
        try:
            _, (page, _) = await self._edge.get(path, parse, params={"since": cursor})
            self._cursor_errors.pop(path, None)
            return page, 1
        except ProviderError as e:
            if e.status != 410:
                failures = self._cursor_errors.get(path, 0) + 1
                self._cursor_errors[path] = failures
                if failures < 2:
                    raise
        return None, 1

    async def _listing(self, path: str, parse: Any) -> AsyncIterator[tuple[Any, bool, int]]:
        """Every page of a change feed's full list: (page, more pages follow, requests so far). A listing whose
        continue token expired (410) starts again from its first page, RELISTS times at most."""
        requests = 0
        for _ in range(RELISTS):
            async def fetch(params: dict[str, str | int]) -> tuple[Any, str | None]:
                # a page after the first is part of a listing (a list in one page replaces what is shown)
                later = bool(params.get("continue"))
                _, got = await self._edge.get(path, functools.partial(parse, page=later), params=params or None)
                page, token = got
                return page, token

            pages = Pages(f"GET {path}", fetch, paged=self._paged.get(path), count=_items)
            try:
                async for page, more in pages:
                    yield page, more, requests + pages.requests
            except Relist:
                requests += pages.requests
                yield None, True, requests  # the pages so far are dropped: the listing starts again
                continue
            finally:
                self._paged[path] = pages.paged
            self._cursor_errors.pop(path, None)
            return
        raise ProviderError("invalid", f"GET {path}: the server expired the listing's continue token {RELISTS} "
                            "times in a row (410): its list changes faster than it can be read in pages")

    @staticmethod
    def _next_cursor(cursor: str) -> str | None:
        """The cursor to send next time, or None (list everything) for one that no request should carry: longer
        than MAX_CURSOR (a 64 KB cursor makes every request fail), or with characters other than printable
        ASCII."""
        if len(cursor) > MAX_CURSOR or not cursor.isascii() or not cursor.isprintable():
            return None
        return cursor

    @staticmethod
    def _read_freeze(body: bytes) -> Freeze:
        return envelope(_FREEZE, body, "GET /v1/freeze")

    async def _freeze(self) -> tuple[Freeze | None, int]:
        """The server's freeze and the requests it took: (None, 0) once the server said it has none (404)."""
        if self.server_freeze is False:
            return None, 0
        try:
            _, freeze = await self._edge.get("/v1/freeze", self._read_freeze)
        except ProviderError as e:
            if e.status in (404, 405, 501):
                self.server_freeze = False  # a server without a freeze: not asked again
                return None, 1
            if self.server_freeze or e.status in (401, 403):
                raise  # a server that has a freeze cannot say it now: the poll is not complete
            # a server that never answered it (an older contract, a catch-all answer): its rollouts still count
            log.debug("GET /v1/freeze: %s; taken as no freeze", e)
            return None, 1
        self.server_freeze = True
        return freeze, 1

    async def read_freeze(self) -> Freeze | None:
        """The server's freeze now (None: the server has no freeze)."""
        return (await self._freeze())[0]

    async def set_freeze(self, actor: str, reason: str | None, services: list[str] | None) -> Freeze:
        """Stop the line on the server (PUT /v1/freeze): every service, or only `services`."""
        body = FreezeRequest(actor=actor, reason=reason or None, services=services or None)
        answer = await self._request("PUT", "/v1/freeze", headers={"Content-Type": "application/json"},
                                     content=msgspec.json.encode(body))
        return self._freeze_answer(answer, "PUT")

    async def lift_freeze(self) -> Freeze:
        """Lift the server's freeze (DELETE /v1/freeze); paused rollouts stay paused."""
        return self._freeze_answer(await self._request("DELETE", "/v1/freeze"), "DELETE")

    def _freeze_answer(self, answer: Answer, method: str) -> Freeze:
        if answer.status != 200:  # another 2xx is not the documented answer: it may have acted
            raise ProviderError("invalid", f"{method} /v1/freeze: HTTP {answer.status} is not the documented answer")
        self.server_freeze = True
        return envelope(_FREEZE, answer.content, f"{method} /v1/freeze")

    async def _health_feed(self) -> tuple[HealthChanges, int]:
        """Health that moved since our cursor, or every service's (a listing, read page after page, applied as a
        whole), and the requests it took."""
        path = "/v1/changes/health"
        requests = 0
        if self._health_cursor is not None:
            delta, requests = await self._delta(path, self._read_health_changes, self._health_cursor)
            if delta is not None:
                return delta, requests
        services: list[ServiceHealth] = []
        pages: list[HealthChanges] = []
        listed = 0
        async for page, _, count in self._listing(path, self._read_health_changes):
            listed = count
            if page is None:  # the listing starts again
                services, pages = [], []
                continue
            services += page.services
            pages.append(page)
        if len(pages) == 1:
            return pages[0], requests + listed
        return HealthChanges(cursor=pages[-1].cursor, full=True, services=services), requests + listed

    async def _feed_pages(self) -> AsyncIterator[PollResult]:
        """One poll on the change feed. A full list of rollouts in pages is given page after page as it comes
        (results with `more`), the last page with what the poll needs besides: health, events, the freeze, and
        the rows that the listing no longer has."""
        path = "/v1/changes/rollouts"
        others = asyncio.ensure_future(asyncio.gather(self._health_feed(), self._events(), self._freeze()))
        try:
            requests = 0
            final: RolloutChanges | None = None
            if self._rollout_cursor is not None:
                final, requests = await self._delta(path, self._read_rollout_changes, self._rollout_cursor)
            if final is None:
                seen: set[str] = set()
                pages = listed = 0
                async for page, more, count in self._listing(path, self._read_rollout_changes):
                    listed = count
                    if page is None:  # the listing starts again: what it lists from now on is what counts
                        seen, pages = set(), 0
                        continue
                    pages += 1
                    seen.update(r.id for r in page.rollouts)
                    if more:
                        yield PollResult(rollouts=page.rollouts, partial=True, removed=page.removed, more=True)
                    else:
                        final = page
                requests += listed
                assert final is not None
                if pages > 1:  # a listing in pages: the rows it did not list are gone
                    gone = sorted(self._ids - seen)
                    self._unreadable = {k: v for k, v in self._unreadable.items() if k in seen}
                    final = RolloutChanges(cursor=final.cursor, full=False, rollouts=final.rollouts,
                                           removed=[*final.removed, *gone])
            (health, h_requests), events, (freeze, f_requests) = await others
        finally:
            # the others' outcome is retrieved whatever it is: after the rollouts' own error it is not news
            others.add_done_callback(lambda done: None if done.cancelled() else done.exception())
            others.cancel()
        # cursors move only once the whole poll succeeded, so a failed poll loses no change
        self._rollout_cursor, self._health_cursor = self._next_cursor(final.cursor), self._next_cursor(health.cursor)
        self._advance_events(events)
        yield PollResult(
            rollouts=final.rollouts, partial=not final.full, removed=final.removed,
            health=health.services, health_partial=not health.full, events=events.events,
            requests=requests + h_requests + 1 + f_requests, freeze=freeze,
        )

    def _shown(self, result: PollResult) -> PollResult:
        """`result`, with the ids of the rows it leaves shown noted (a listing in pages removes the others)."""
        if result.rollouts is not None and not result.partial:
            self._ids = {r.id for r in result.rollouts}
        else:
            self._ids.difference_update(result.removed)
            self._ids.update(r.id for r in result.rollouts or ())
        return result

    async def poll_pages(self) -> AsyncIterator[PollResult]:
        """One poll, its pages given as they come (providers/base.py PagedSource)."""
        if self.use_feed is not False:
            started = False
            try:
                async for result in self._feed_pages():
                    started = True
                    yield self._shown(self._on_our_clock(result))
            except ProviderError as e:
                if e.status != 404 or self.use_feed or started:
                    raise
                self.use_feed = False  # a server without the change feed: bulk polls from now on
            else:
                self.use_feed = True
                return
        yield self._shown(self._on_our_clock(await self._bulk()))

    async def poll(self) -> PollResult:
        """One poll as one result (the pages of a listing merged)."""
        pages = [result async for result in self.poll_pages()]
        if len(pages) == 1:
            return pages[0]
        last = pages[-1]
        return dataclasses.replace(last, rollouts=[r for p in pages for r in p.rollouts or ()],
                                   removed=[gone for p in pages for gone in p.removed], more=False)

    async def _bulk(self) -> PollResult:
        (rollouts, seen_r, r_requests), (health, seen_h, h_requests), events, (freeze, f_requests) = (
            await asyncio.gather(self._rollouts(), self._health(), self._events(), self._freeze()))
        # remembered only now: after a failed poll, the next identical body is applied (it never was)
        if "etag" in seen_r:  # a 200 answer (not a 304): its ETag, or none
            self._etag = seen_r.pop("etag")
        self._bulk_digests.update({**seen_r, **seen_h})
        self._advance_events(events)
        return PollResult(rollouts=rollouts, health=health, events=events.events,
                          requests=r_requests + h_requests + 1 + f_requests, freeze=freeze)

    def _advance_events(self, events: EventPage) -> None:
        if events.cursor < 0:  # refused: not a place in the event log (taking it would read everything again)
            return
        if events.cursor < self._event_cursor:  # the backend restarted: its ids started again
            self._event_cursor = 0
        else:
            self._event_cursor = events.cursor

    def forget_etag(self) -> None:
        """Forget the ETag, the bulk bodies' digests and the change-feed cursors: the next poll lists
        everything."""
        self._etag = None
        self._bulk_digests.clear()
        self._rollout_cursor = self._health_cursor = None

    async def read(self, rollout_id: str) -> Rollout:
        path = f"/v1/rollouts/{quote(rollout_id, safe='')}"

        def parse(body: bytes) -> Rollout:
            return envelope(_ROLLOUT, body, f"GET {path}")

        _, rollout = await self._edge.get(path, parse)
        return self._shifted(rollout)

    async def revisions(self, rollout_id: str) -> RevisionList:
        """GET /v1/rollouts/{id}/revisions (providers/revisions.py)."""
        return await read_revisions(self._edge, rollout_id)

    async def act(
        self, rollout: Rollout, action: ActionKind, *, actor: str, reason: str | None, revision: int | None,
        idempotency_key: str, pin: Pin,
    ) -> Rollout:
        path = f"/v1/rollouts/{quote(rollout.id, safe='')}/actions/{action.value}"
        if rollout.id in self._unreadable:
            raise ProviderError("conflict", f"POST {path}: not sent: {rollout.message}", 409)
        body = ActionRequest(actor=actor, reason=reason or None, revision=revision,
                             expected_revision=pin.revision, expected_step=pin.step)
        # Never retried here: a mutating request is sent once; the idempotency key makes a deliberate
        # retry by the user safe. A redirect is never followed (the edge raises: refused, nothing done here).
        response = await self._request(
            "POST", path, headers={"Idempotency-Key": idempotency_key, "Content-Type": "application/json"},
            content=msgspec.json.encode(body),
        )
        if response.status != 200:  # another 2xx is not the documented answer: it may have acted
            raise ProviderError("invalid", f"POST {path}: HTTP {response.status} is not the documented answer")
        # an answer that cannot be read: it may have acted, the engine calls this outcome unknown
        return self._shifted(envelope(_ACTION_RESPONSE, response.content, f"POST {path}").rollout)

    def logs(self, rollout: Rollout, request: LogRequest) -> AsyncIterator[LogLine]:
        """The instances' lines from the API's optional logs endpoint (providers/deploy_logs.py)."""
        return deploy_logs.stream(self._edge, rollout, request)

    async def aclose(self) -> None:
        await self._edge.aclose()
