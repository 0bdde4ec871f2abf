"""Loopback servers and fixtures for the kill-switch tests: the simulator's Unleash Admin API with one flag of the
test's own, proxies in front of it that mistreat a toggle (`ActsThenVanishes`: the toggle arrives, then every later
read fails; `Swallow`: the toggle is answered without reaching Unleash), and a server that answers garbage."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from monotui.simulator.loopback import BackgroundServer
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World
from tests.conftest import ACTOR, make_world
from tests.hostile_proxy import HostileProxy, mutates
from tests.unleash_admin import UnleashAdmin

TOKEN = "sim-admin-token-kill-switch"
TOKEN_ENV = "FLAGS_ADMIN_TOKEN"
FLAG = "cart-api.fast-path"


@pytest.fixture(name="world")
def fixture_world() -> World:
    return make_world(services=2, flag_share=0)


@pytest.fixture(name="sim")
def fixture_sim(world: World) -> Iterator[SimulatorServer]:
    with SimulatorServer(world, tick_interval=None, token=TOKEN) as server:
        yield server


@pytest.fixture(name="admin")
def fixture_admin(sim: SimulatorServer) -> Iterator[UnleashAdmin]:
    client = UnleashAdmin(sim.url, TOKEN)
    yield client
    client.close()


@pytest.fixture(name="flag_on")
def fixture_flag_on(admin: UnleashAdmin) -> UnleashAdmin:
    """FLAG on in production, rolled out to 50%."""
    admin.create_flag(FLAG, service="cart-api", rollout=50, enabled=True)
    return admin


@pytest.fixture(name="token_env", autouse=True)
def fixture_token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)


def audit(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def flags_source(url: str, **extra: Any) -> dict[str, Any]:
    return {"name": "flags", "kind": "unleash", "url": url, "token_env": TOKEN_ENV, "timeout": 5, **extra}


def write_config(path: Path, url: str, audit_path: Path | str, *, top: str = "", source: str = "") -> Path:
    path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n{top}'
                    f'[[sources]]\nname = "flags"\nkind = "unleash"\nurl = "{url}"\n'
                    f'token_env = "{TOKEN_ENV}"\ntimeout = 5\n{source}')
    return path


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
        if not mutates(method, target):
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
        if not mutates(method, target):
            return await super()._answer(method, target, headers, body, writer)
        self.mutations.append((method, target))
        writer.write(f"HTTP/1.1 {self.status} X\r\ncontent-type: application/json\r\n"
                     f"content-length: {len(self.body)}\r\n\r\n".encode() + self.body)
        await writer.drain()
        return True


class Garbage(BackgroundServer):
    """Answers every request 200 with `body`."""

    name = "garbage unleash"

    def __init__(self, body: bytes) -> None:
        async def anything(request: Request) -> Response:
            return Response(body, media_type="application/json")

        self._serve(Starlette(routes=[Route("/{path:path}", anything, methods=["GET", "POST"])]))

