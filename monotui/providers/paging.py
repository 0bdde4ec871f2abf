"""Reading a paged list (`limit` + `continue`, as kube-apiserver pages its lists; docs/deploy-api.md, "Paged
lists"): page after page, each bounded by the source's `max_response_mb` on its own, with bounds on the listing
itself so that a server that loops its continue tokens or never stops paging is an error, not a hang."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

from monotui.providers.base import ProviderError

P = TypeVar("P")

FIRST_PAGE = 1_000  # items asked for in a listing's first page: the first screenful comes early
PAGE_SIZE = 5_000  # items asked for in every later page
MAX_PAGES = 2_000  # pages in one listing at most (10 million items): past that, the server is not paging honestly
MAX_ITEMS = 250_000  # items in one listing at most (2.5 times the 100,000 the benches read): past that, every
# page applied as it comes would grow memory without end (a server sending new items with a new token forever)
MAX_TOKEN = 4_096  # characters of a continue token sent back at most
RELISTS = 3  # listings started again after a continue token expired (410), within one poll, at most
TOO_LARGE = "answer too large"


class Relist(Exception):
    """The server no longer honours the listing's continue token (410): the listing starts again."""


class Pages(Generic[P]):
    """The pages of one listing, read one request at a time.

    `fetch(params)` reads one page (the params carry `limit`, and `continue` after the first page) and returns
    it with its continue token (None: the last page). `paged` remembers whether the server pages (None: not known
    yet; False: it answered a paged request with 400, so it is asked without `limit` from then on)."""

    def __init__(self, what: str, fetch: Callable[[dict[str, str | int]], Awaitable[tuple[P, str | None]]],
                 *, paged: bool | None = None, first: int | None = None, size: int | None = None,
                 max_pages: int | None = None, count: Callable[[P], int] | None = None) -> None:
        self.what, self._fetch = what, fetch
        self.paged = paged
        self.requests = 0
        self._first = FIRST_PAGE if first is None else first
        self._size = PAGE_SIZE if size is None else size
        self._max = MAX_PAGES if max_pages is None else max_pages
        self._count = count  # how many items a page holds (None: not counted)
        self.items = 0

    async def __aiter__(self) -> AsyncIterator[tuple[P, bool]]:
        """(page, more pages follow); Relist when the server expired the listing midway."""
        token: str | None = None
        seen: set[str] = set()
        pages = 0
        while True:
            params: dict[str, str | int] = {}
            if self.paged is not False:
                params["limit"] = self._first if token is None else self._size
                if token is not None:
                    params["continue"] = token
            try:
                self.requests += 1
                page, next_token = await self._fetch(params)
            except ProviderError as e:
                if e.status == 410 and token is not None:
                    raise Relist from None
                if e.status == 400 and token is None and self.paged is None:
                    self.paged = False  # a server from before paging refuses the parameter: ask for the whole list
                    continue
                if TOO_LARGE in e.message and self.paged is not True:
                    raise ProviderError(e.kind, f"{e.message}: the server sent the whole list although asked "
                                        f"for {self._first:,} items: it does not page its lists (limit and "
                                        "continue, docs/deploy-api.md \"Paged lists\"); page them there, or raise "
                                        "this source's max_response_mb", e.status) from None
                raise
            pages += 1
            self.items += self._count(page) if self._count is not None else 0
            if self.items > MAX_ITEMS:
                raise ProviderError("invalid", f"{self.what}: invalid response: more than {MAX_ITEMS:,} items in "
                                    f"one listing, after {pages} pages (a listing that would never end?)")
            if next_token is None or next_token == "":
                if pages > 1:
                    self.paged = True
                yield page, False
                return
            self.paged = True
            if next_token in seen or next_token == token:
                raise ProviderError("invalid", f"{self.what}: invalid response: the server sent a continue token "
                                    f"it had sent before, after {pages} pages (a listing that would never end)")
            if pages >= self._max:
                raise ProviderError("invalid", f"{self.what}: invalid response: more than {self._max:,} pages in "
                                    "one listing (a listing that would never end?)")
            if len(next_token) > MAX_TOKEN or not next_token.isascii() or not next_token.isprintable():
                raise ProviderError("invalid", f"{self.what}: invalid response: a continue token of "
                                    f"{len(next_token):,} characters, or not printable ASCII")
            seen.add(next_token)
            yield page, True
            token = next_token
