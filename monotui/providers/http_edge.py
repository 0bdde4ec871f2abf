"""The one HTTP edge of the HTTP-speaking sources (deploy API, Prometheus, Alertmanager, Unleash).

It builds the client (credentials on every request, TLS options, no redirects), reads each answer with a bound
on its size (counted while streaming, after decompression) and a wall-clock deadline over connect, body and
parse, parses large bodies off the event loop, and turns every failure into a ProviderError whose text carries
no secret. Providers only describe requests and decode answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import os
import ssl
import threading
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from monotui import __version__
from monotui.config import ConfigError, HttpSourceBase
from monotui.providers.base import ErrorKind, ProviderError, server_message, status_kind, transport_error

T = TypeVar("T")

LARGE_BODY = 512 * 1024  # answers above this are parsed in a worker thread
MASK = "***"


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every secret (and every line of a multi-line one) replaced by ***."""
    for secret in secrets:
        for part in {secret, *secret.splitlines()}:
            if len(part) >= 4:
                text = text.replace(part, MASK)
    return text


def _raw_secrets(config: HttpSourceBase) -> list[str]:
    """The credentials as they are on disk or in the environment, malformed or not, to scrub from any text."""
    out = []
    if config.token_env:
        value = os.environ.get(config.token_env)
        if value:
            out.append(value)
    if config.token_file:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            out.append(config.token_file.expanduser().read_text())
    return [s.strip() for s in out if s.strip()]


class TooLarge(Exception):
    def __init__(self, size: int, partial: bool) -> None:
        self.size, self.partial = size, partial


ACCEPT_ENCODING = "gzip, deflate"  # the codings monotui asks for, and the only ones it undoes
MAX_CODINGS = 2  # layers of content coding undone at most (`gzip, gzip` is odd but legal; a third is refused)
_SLICE = 1024 * 1024  # decompressed at most per step: the size bound and the deadline are checked between steps
_IN_LOOP = 64 * 1024  # a compressed body up to this size is decompressed on the event loop (at most _SLICE out)


class _Layer:
    """One content coding undone incrementally (zlib: gzip, deflate with or without its zlib header)."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self.raw_deflate = False
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 16 if coding in ("gzip", "x-gzip") else zlib.MAX_WBITS)
        self._first = True

    def steps(self, data: bytes) -> Iterator[bytes]:
        """What `data` decompresses to, in pieces of at most _SLICE bytes."""
        if self._first and self.coding == "deflate" and data:
            self._first = False
            try:  # "deflate" is meant with its zlib header; some servers send the bare stream
                probe = zlib.decompressobj(zlib.MAX_WBITS)
                probe.decompress(data[:2], 0)
            except zlib.error:
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
        pending = data
        while True:
            try:
                out = self._z.decompress(pending, _SLICE)
            except zlib.error as e:
                raise httpx.DecodingError(f"{self.coding}: {e}") from None
            pending = self._z.unconsumed_tail
            if out:
                yield out
            if not pending and (len(out) < _SLICE or self._z.eof):
                return


def content_codings(headers: httpx.Headers) -> list[str]:
    """The answer's content codings, outermost last as the header lists them, `identity` left out; an unknown
    coding, or more than MAX_CODINGS layers, raises httpx.DecodingError (the body cannot be read)."""
    codings = [c.strip().lower() for value in headers.get_list("content-encoding") for c in value.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    unknown = [c for c in codings if c not in ("gzip", "x-gzip", "deflate")]
    if unknown:
        raise httpx.DecodingError(f"content coding {unknown[0][:40]!r} was not asked for (Accept-Encoding: "
                                  f"{ACCEPT_ENCODING})")
    if len(codings) > MAX_CODINGS:
        raise httpx.DecodingError(f"{len(codings)} layers of content coding (at most {MAX_CODINGS} are undone)")
    return codings


def decode_bounded(body: bytes, codings: list[str], limit: int, deadline: float | None = None,
                   cancelled: threading.Event | None = None) -> bytes:
    """`body` with its content codings undone, outermost first, every layer's output bounded by `limit` bytes
    (TooLarge as soon as one passes it: `gzip, gzip` of 1.8 KB would otherwise be 2 GB) and the work bounded by
    the `deadline` (time.monotonic(); TimeoutError) or `cancelled`, checked at every step of at most 1 MB."""
    layers = [_Layer(c) for c in reversed(codings)]
    sizes = [0] * len(layers)
    out: list[bytes] = []

    def push(index: int, data: bytes) -> None:
        for piece in layers[index].steps(data):
            sizes[index] += len(piece)
            if sizes[index] > limit:
                raise TooLarge(sizes[index], partial=True)
            if (deadline is not None and time.monotonic() > deadline) or (cancelled and cancelled.is_set()):
                raise TimeoutError
            if index + 1 < len(layers):
                push(index + 1, piece)
            else:
                out.append(piece)

    if layers:
        push(0, body)
    return b"".join(out) if layers else body


async def read_bounded(response: httpx.Response, limit: int, deadline: float | None = None) -> bytes:
    """A streamed answer's whole body, decompressed, or TooLarge as soon as it passes `limit` bytes: the declared
    length is checked first, then what actually arrives, then every layer of its decompression (a gzip bomb,
    stacked or not, is stopped at the bound). A body of more than 64 KB compressed is decompressed in a worker
    thread, which stops at `deadline` (time.monotonic()) or when the caller is cancelled."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(int(declared), partial=False)
    codings = content_codings(response.headers)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > limit:
                raise TooLarge(size, partial=True)
            chunks.append(chunk)
    except httpx.StreamConsumed:  # an answer given whole (a mock transport): httpx has decoded it already
        if len(response.content) > limit:
            raise TooLarge(len(response.content), partial=True) from None
        return response.content
    body = b"".join(chunks)
    if not codings:
        return body
    if size <= _IN_LOOP and len(codings) == 1:
        # small: at most 64 KB in, on the loop only while it stays small (else it goes on in a thread)
        try:
            return decode_bounded(body, codings, min(limit, LARGE_BODY))
        except TooLarge:
            if limit <= LARGE_BODY:
                raise
    cancelled = threading.Event()
    try:
        return await asyncio.to_thread(decode_bounded, body, codings, limit, deadline, cancelled)
    finally:
        cancelled.set()  # a deadline or cancellation here stops the thread at its next step


async def bounded_lines(response: httpx.Response, limit: int,
                        too_long: Callable[[int], Exception]) -> AsyncIterator[bytes]:
    """A streamed answer's lines (without their newline), each at most `limit` bytes: one endless line must not
    fill memory (`too_long(size)` is raised)."""
    pending = bytearray()  # a line not ended yet (grows in place: one endless line arriving a byte at a time)
    async for chunk in response.aiter_bytes():
        if b"\n" in chunk:
            data = bytes(pending) + chunk if pending else chunk
            pending.clear()
            *complete, rest = data.split(b"\n")  # in C: thousands of lines a second cost little
            for line in complete:
                if len(line) > limit:
                    raise too_long(len(line))
                yield line
            pending += rest
        else:
            pending += chunk
        if len(pending) > limit:
            raise too_long(len(pending))
    if pending:
        yield bytes(pending)


def too_large_message(what: str, error: TooLarge, max_mb: float) -> str:
    got = f"more than {max_mb:g} MB" if error.partial else f"{error.size / 1024 / 1024:.1f} MB"
    return f"{what}: answer too large ({got}; max_response_mb = {max_mb:g})"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: httpx.Headers
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


CLOCK_SAMPLES = 5  # Date headers the clock offset is the median of
SKEW_SHOWN = 3.0  # seconds of clock offset from which a source's times are corrected and its status says so


def date_offset(date: str | None, sent: float, received: float) -> float | None:
    """How far the server's clock is ahead of ours (seconds; negative: behind) by its `Date` header, against the
    midpoint of the exchange (`sent`, `received`: time.time()). Date has whole seconds: half a second is added."""
    if not date:
        return None
    try:
        at = email.utils.parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if at.tzinfo is None:
        return None
    try:
        return at.timestamp() + 0.5 - (sent + received) / 2
    except (OverflowError, OSError, ValueError):
        return None


class HttpEdge:
    """One client for one source. `get`/`send` return the status, headers and whole (bounded) body, or raise
    ProviderError (kind "connection" only when nothing reached the server).

    `clock_offset` is how far the server's clock runs ahead of ours (seconds, from its `Date` headers; None until
    one came): a source's times are compared with local ones through it."""

    def __init__(self, config: HttpSourceBase, *, transport: httpx.AsyncBaseTransport | None = None,
                 accept: str = "application/json", bearer: bool = True) -> None:
        self.config = config
        self._bearer = bearer  # False: the token alone in Authorization, as Unleash's admin API expects it
        verify: bool | ssl.SSLContext = config.verify_tls
        if urlsplit(config.url).scheme == "http":
            # plain HTTP does no TLS: a context that trusts no one and costs nothing to build, instead of the
            # default one, whose CA bundle is loaded for each client (on the way to the first rows)
            verify = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        elif config.ca_bundle and config.verify_tls:
            verify = ssl.create_default_context(cafile=str(config.ca_bundle.expanduser()))
        self._offsets: deque[float] = deque(maxlen=CLOCK_SAMPLES)
        self._client = httpx.AsyncClient(
            base_url=config.url.rstrip("/"), timeout=config.timeout, verify=verify, transport=transport,
            headers={"User-Agent": f"monotui/{__version__}", "Accept": accept, "Accept-Encoding": ACCEPT_ENCODING},
            follow_redirects=False,
        )

    @property
    def deadline(self) -> float:
        return self.config.timeout

    @property
    def clock_offset(self) -> float | None:
        """The server's clock minus ours, in seconds (the median of its last few `Date` headers), or None."""
        ordered = sorted(self._offsets)
        return ordered[len(ordered) // 2] if ordered else None

    def error(self, kind: ErrorKind, message: str, status: int | None = None) -> ProviderError:
        """A ProviderError with every credential scrubbed from its text (servers and libraries may quote them)."""
        return ProviderError(kind, scrub(message, _raw_secrets(self.config)), status)

    def _auth(self, what: str) -> dict[str, str]:
        try:
            token = self.config.token()  # read at each request, so a rotated token file is picked up
        except ConfigError as e:
            # kind "connection": the request provably never left
            raise self.error("connection", f"{what}: not sent: {e.problem}") from None
        if not token:
            return {}
        return {"Authorization": f"Bearer {token}" if self._bearer else token}

    @property
    def skew(self) -> float | None:
        """The clock offset in whole seconds when it is SKEW_SHOWN or more either way (else None: within what
        Date headers and the network can tell)."""
        offset = self.clock_offset
        return float(round(offset)) if offset is not None and abs(offset) >= SKEW_SHOWN else None

    async def send(self, method: str, path: str, *, what: str | None = None,
                   headers: dict[str, str] | None = None, params: dict[str, Any] | None = None,
                   content: bytes | None = None, json_body: Any = None) -> Answer:
        """One request, its answer read whole within the size bound and the deadline. HTTP errors (≥ 400) and
        redirects raise; 2xx and 304 return."""
        what = what or f"{method} {path}"
        answer, _ = await self._exchange(method, path, what, headers, params, content, json_body, None)
        return answer

    async def get(self, path: str, parse: Callable[[bytes], T], *, what: str | None = None,
                  headers: dict[str, str] | None = None, params: dict[str, Any] | None = None) -> tuple[Answer, T]:
        """GET and parse, all within one deadline; `parse` runs off the event loop for a large body and raises
        ProviderError (kind `invalid`) for a body it cannot read. A 304 answer to a conditional request is not
        parsed (returns None)."""
        return await self._exchange("GET", path, what or f"GET {path}", headers, params, None, None, parse)

    async def _exchange(self, method: str, path: str, what: str, headers: dict[str, str] | None,
                        params: dict[str, Any] | None, content: bytes | None, json_body: Any,
                        parse: Callable[[bytes], Any] | None) -> tuple[Answer, Any]:
        all_headers = {**self._auth(what), **(headers or {})}
        # Reads get the wall-clock deadline here; a mutating request's is the engine's action deadline, which
        # decides when its outcome becomes unknown (httpx's own timeouts still bound each step).
        deadline = self.deadline if method == "GET" else None
        try:
            async with asyncio.timeout(deadline):
                answer = await self._read(method, path, what, all_headers, params, content, json_body)
                if parse is None:
                    return answer, None
                if answer.status == 304:
                    if "If-None-Match" in all_headers:
                        return answer, None
                    raise ProviderError("invalid", f"{what}: HTTP 304 to a request that was not conditional")
                if len(answer.content) > LARGE_BODY:
                    # a big answer is parsed in a worker thread, so keys keep being handled meanwhile
                    return answer, await asyncio.to_thread(parse, answer.content)
                return answer, parse(answer.content)
        except TimeoutError:
            raise self.error("timeout", f"{what}: no complete answer within {self.deadline:g}s") from None
        except ProviderError as e:
            raise self.error(e.kind, e.message, e.status) from None

    async def _read(self, method: str, path: str, what: str, headers: dict[str, str],
                    params: dict[str, Any] | None, content: bytes | None, json_body: Any) -> Answer:
        limit = self.config.max_response_bytes
        deadline = time.monotonic() + self.deadline if method == "GET" else None  # as in _exchange
        sent = time.time()
        try:
            async with self._client.stream(method, path, headers=headers, params=params, content=content,
                                           json=json_body) as response:
                offset = date_offset(response.headers.get("date"), sent, time.time())
                if offset is not None:
                    self._offsets.append(offset)
                body = await read_bounded(response, limit, deadline)
        except TooLarge as e:
            raise self.error("invalid", too_large_message(what, e, self.config.max_response_mb)) from None
        except httpx.DecodingError as e:
            raise self.error("invalid", f"{what}: invalid response: the compressed body cannot be "
                                        f"decompressed ({str(e)[:200] or 'corrupt'})") from None
        except httpx.InvalidURL as e:  # a URL httpx will not send (a query too long): nothing was sent
            raise self.error("connection", f"{what}: the request could not be built ({str(e)[:100]})") from None
        except UnicodeEncodeError:  # a header (a rotated token?) that HTTP cannot carry: nothing was sent
            raise self.error("connection", f"{what}: the request could not be built (a header value that is "
                                           "not ASCII?)") from None
        except httpx.HTTPError as e:
            # "connection" only when the request provably never left (an action then certainly did not act)
            error = transport_error(e, what, self.deadline)
            raise self.error(error.kind, error.message, error.status) from None
        answer = Answer(response.status_code, response.headers, body)
        if answer.status == 304 or answer.status < 300:
            return answer
        if answer.status < 400:
            where = response.headers.get("location", "")
            raise self.error("http", f"{what}: HTTP {answer.status}: redirect to {where[:200] or '?'} not "
                                     "followed: set the source's url to the address that answers",
                             answer.status)
        message = server_message(httpx.Response(answer.status, content=body))  # body already decoded
        raise self.error(status_kind(answer.status), f"{what}: HTTP {answer.status}: {message}",
                         answer.status)

    async def lines(self, path: str, *, params: dict[str, Any] | None = None,
                    what: str | None = None, quiet_s: float | None = None) -> AsyncIterator[bytes]:
        """GET a streamed answer (newline-delimited), line by line as the server writes them, each line within the
        size bound, until the server ends it; no deadline on the whole (it is meant to stay open), and silence
        between bytes for at most `quiet_s` (None: as long as the server likes). Errors as `get`."""
        what = what or f"GET {path}"
        headers = self._auth(what)
        limit = self.config.max_response_bytes
        timeout = httpx.Timeout(self.config.timeout, read=quiet_s)
        try:
            async with self._client.stream("GET", path, headers=headers, params=params,
                                           timeout=timeout) as response:
                if response.status_code >= 300:
                    try:  # an error's body that never ends is no hang
                        async with asyncio.timeout(self.deadline):
                            body = await read_bounded(response, limit, time.monotonic() + self.deadline)
                    except TimeoutError:
                        body = b""
                    message = server_message(httpx.Response(response.status_code, content=body))
                    raise self.error(status_kind(response.status_code),
                                     f"{what}: HTTP {response.status_code}: {message}", response.status_code)
                async for line in bounded_lines(response, limit, lambda size: self.error(
                        "invalid", too_large_message(what, TooLarge(size, True), self.config.max_response_mb))):
                    yield line
        except TooLarge as e:
            raise self.error("invalid", too_large_message(what, e, self.config.max_response_mb)) from None
        except httpx.HTTPError as e:
            error = transport_error(e, what, self.deadline)
            raise self.error(error.kind, error.message, error.status) from None

    async def aclose(self) -> None:
        await self._client.aclose()
