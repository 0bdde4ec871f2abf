"""The one HTTP edge of the HTTP-speaking sources (deploy API, Prometheus, Alertmanager, Unleash).

It builds the client (credentials on every request, TLS options, no redirects), reads each answer with a bound
on its size (counted while streaming, after decompression) and a wall-clock deadline over connect, body and
parse, parses large bodies off the event loop, and turns every failure into a ProviderError whose text carries
no secret. Providers only describe requests and decode answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import ssl
from collections.abc import Callable
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


async def read_bounded(response: httpx.Response, limit: int) -> bytes:
    """A streamed answer's whole body, decompressed, or TooLarge as soon as it passes `limit` bytes (the declared
    length is checked first, then what actually arrives: a gzip bomb is stopped after decompression)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(int(declared), partial=False)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise TooLarge(size, partial=True)
        chunks.append(chunk)
    return b"".join(chunks)


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


class HttpEdge:
    """One client for one source. `get`/`send` return the status, headers and whole (bounded) body, or raise
    ProviderError (kind "connection" only when nothing reached the server)."""

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
        self._client = httpx.AsyncClient(
            base_url=config.url.rstrip("/"), timeout=config.timeout, verify=verify, transport=transport,
            headers={"User-Agent": f"monotui/{__version__}", "Accept": accept}, follow_redirects=False,
        )

    @property
    def deadline(self) -> float:
        return self.config.timeout

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
        try:
            async with self._client.stream(method, path, headers=headers, params=params, content=content,
                                           json=json_body) as response:
                body = await read_bounded(response, limit)
        except TooLarge as e:
            raise self.error("invalid", too_large_message(what, e, self.config.max_response_mb)) from None
        except httpx.DecodingError:
            raise self.error("invalid", f"{what}: invalid response: the compressed body cannot be "
                                        "decompressed") from None
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

    async def aclose(self) -> None:
        await self._client.aclose()
