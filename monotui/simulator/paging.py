"""Paged lists for the simulator's deploy API, as kube-apiserver pages its lists (docs/deploy-api.md, "Paged
lists"): `limit` asks for at most that many items, the answer's `continue` token asks for the next page.

A listing is coherent: its first page takes a snapshot of the whole list (the rollouts, or every service's
health, as they are at one version), and every later page is read from that snapshot, so an item is listed
exactly once across the pages even when it changes meanwhile, and the change feed's cursor given with the pages
is the snapshot's (a change made during the listing comes with the next poll of the feed). Snapshots are kept a
while (SNAPSHOT_TTL_S, at most SNAPSHOTS at once): a token whose snapshot is gone, from another run of the
server, or that cannot be read gets 410 Gone: list again from the first page.
"""

from __future__ import annotations

import base64
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SNAPSHOTS = 4  # listings served at once (a fifth evicts the oldest: its next page gets 410)
SNAPSHOT_TTL_S = 120.0  # a listing not continued for this long is forgotten
MAX_PAGE = 10_000  # items in one page at most, whatever `limit` asks (the answer's `continue` says there is more)
PAGE_PARAMETERS = frozenset({"limit", "continue"})


@dataclass
class Snapshot:
    ident: int
    name: str
    key: Any  # what the list is a snapshot of (its version): a listing at the same version shares it
    items: list[Any]
    meta: dict[str, Any]  # what every page carries besides its items (the feed's cursor, generated_at)
    used: float


class PageError(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


@dataclass(frozen=True)
class Page:
    items: list[Any]
    meta: dict[str, Any]
    next_token: str | None
    first: bool  # the listing's first page (an ETag may answer it with 304)
    remaining: int  # items of the listing after this page


class Pager:
    """The snapshots behind the paged lists of one server."""

    def __init__(self, *, keep: int = SNAPSHOTS, ttl_s: float = SNAPSHOT_TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.epoch = secrets.token_hex(4)
        self._keep, self._ttl, self._clock = keep, ttl_s, clock
        self._snapshots: OrderedDict[int, Snapshot] = OrderedDict()
        self._next = 0

    def forget(self) -> None:
        """Every listing under way now gets 410 at its next page (tests: a continue token that expired)."""
        self._snapshots.clear()

    def _token(self, snapshot: Snapshot, offset: int) -> str:
        raw = f"{self.epoch}:{snapshot.ident}:{offset}:{snapshot.name}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _expire(self) -> None:
        now = self._clock()
        for ident in [i for i, s in self._snapshots.items() if now - s.used > self._ttl]:
            del self._snapshots[ident]

    def _snapshot(self, name: str, key: Any, build: Callable[[], tuple[list[Any], dict[str, Any]]]) -> Snapshot:
        for snapshot in self._snapshots.values():
            if snapshot.name == name and snapshot.key == key:
                snapshot.used = self._clock()
                return snapshot
        items, meta = build()
        self._next += 1
        snapshot = Snapshot(self._next, name, key, items, meta, self._clock())
        self._snapshots[snapshot.ident] = snapshot
        while len(self._snapshots) > self._keep:
            self._snapshots.popitem(last=False)
        return snapshot

    def _resume(self, name: str, token: str) -> tuple[Snapshot, int]:
        gone = PageError(410, "gone", "continue token expired or from another run of the server: list again "
                                      "(the same request without continue)")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
            epoch, ident, offset, listed = raw.split(":", 3)
            snapshot_id, at = int(ident), int(offset)
        except (ValueError, UnicodeDecodeError):
            raise gone from None
        snapshot = self._snapshots.get(snapshot_id)
        if epoch != self.epoch or listed != name or snapshot is None or snapshot.name != name or at < 0:
            raise gone
        snapshot.used = self._clock()
        return snapshot, at

    def page(self, name: str, query: dict[str, str], key: Any,
             build: Callable[[], tuple[list[Any], dict[str, Any]]]) -> Page | None:
        """The page `query` asks for (None: it asks for no page, the list is answered whole as before), or
        PageError (400 for a bad `limit`, 410 for a continue token that cannot be honoured)."""
        if "limit" not in query and "continue" not in query:
            return None
        self._expire()
        limit = MAX_PAGE
        if "limit" in query:
            raw = query["limit"]
            if not re.fullmatch(r"[0-9]{1,64}", raw, re.ASCII) or int(raw) < 1:
                raise PageError(400, "bad_request", "limit must be a whole number of items, 1 or more")
            limit = min(int(raw), MAX_PAGE)  # a bigger limit is served in pages of MAX_PAGE items
        token = query.get("continue")
        if token:
            snapshot, at = self._resume(name, token)
        else:
            snapshot, at = self._snapshot(name, key, build), 0
        items = snapshot.items[at:at + limit]
        end = at + len(items)
        return Page(items=items, meta=snapshot.meta, next_token=self._token(snapshot, end)
                    if end < len(snapshot.items) else None, first=not token, remaining=len(snapshot.items) - end)
