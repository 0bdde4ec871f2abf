"""Loopback servers for the issue 12 attack tests: the simulator's Unleash Admin API behind a proxy that, once a
toggle has been forwarded (so the flag really changed), makes every later read fail — by going away (nothing
listens any more) or by answering 404."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.hostile_proxy import MUTATING, HostileProxy


class ActsThenVanishes(HostileProxy):
    """`after`: "gone" (the toggle is answered 200 with `connection: close`, then the proxy stops listening) or
    "404" (every later request is answered 404)."""

    def __init__(self, upstream: str, after: str) -> None:
        super().__init__(upstream)
        self.after = after
        self.acted = False
        self.reads_after: list[str] = []
        self._listener: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.acted and self.after == "gone":  # accepted before the listener closed: close it at once
            writer.close()
            return
        self._writers.add(writer)
        try:
            await super()._serve(reader, writer)
        finally:
            self._writers.discard(writer)

    async def _main(self) -> None:
        import httpx

        self._stop = asyncio.Event()
        self._client = httpx.AsyncClient(base_url=self.upstream, timeout=30)
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self._listener = server
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._client.aclose()

    async def _answer(self, method: str, target: str, headers: list[Any], body: bytes,
                      writer: asyncio.StreamWriter) -> bool:
        if self.acted:
            self.reads_after.append(f"{method} {target}")
            text = b'{"message": "no such feature"}'
            writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\nconnection: close\r\n"
                         + f"content-length: {len(text)}\r\n\r\n".encode() + text)
            await writer.drain()
            return False
        if method not in MUTATING:
            return await super()._answer(method, target, headers, body, writer)
        self.mutations.append((method, target))
        forward = {k.strip(): v.strip() for k, v in headers
                   if k.strip().lower() not in ("content-length", "connection", "accept-encoding")}
        response = await self._client.request(method, target, headers=forward, content=body)
        self.acted = True  # the upstream acted: the flag changed
        if self.after == "gone" and self._listener is not None:
            self._listener.close()  # nothing listens any more: the next connection is refused
            for other in list(self._writers - {writer}):  # and the idle keep-alive connections are closed
                other.close()
        writer.write(f"HTTP/1.1 {response.status_code} OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
                     .encode())
        await writer.drain()
        return False


class Swallow(HostileProxy):
    """Passes reads through to the upstream; answers every mutating request itself with `status` and `body`,
    without forwarding it (the upstream never acts)."""

    def __init__(self, upstream: str, status: int = 200, body: bytes = b"") -> None:
        super().__init__(upstream)
        self.status = status
        self.body = body

    async def _answer(self, method: str, target: str, headers: list[Any], body: bytes,
                      writer: asyncio.StreamWriter) -> bool:
        if method not in MUTATING:
            return await super()._answer(method, target, headers, body, writer)
        self.mutations.append((method, target))
        writer.write(f"HTTP/1.1 {self.status} X\r\ncontent-type: application/json\r\n"
                     f"content-length: {len(self.body)}\r\n\r\n".encode() + self.body)
        await writer.drain()
        return True
