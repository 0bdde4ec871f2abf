"""A hostile backend of our own on 127.0.0.1: each test says what it answers, and it logs what it was asked."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from monotui.simulator.loopback import BackgroundServer

Handler = Callable[[Request], Awaitable[Response] | Response]


@dataclass(frozen=True)
class Asked:
    method: str
    path: str
    query: str
    headers: dict[str, str]


class HostileServer(BackgroundServer):
    """`with HostileServer({"/v1/rollouts": handler, ...}) as server:`; an unknown path gets 404. `routes` may be
    changed while it runs."""

    name = "hostile backend"

    def __init__(self, routes: dict[str, Handler]) -> None:
        self.routes = routes
        self.asked: list[Asked] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            request = Request(scope, receive)
            self.asked.append(Asked(request.method, request.url.path, request.url.query,
                                    {k.lower(): v for k, v in request.headers.items()}))
            handler = self.routes.get(request.url.path)
            response = Response(status_code=404) if handler is None else handler(request)
            if not isinstance(response, Response):
                response = await response
            await response(scope, receive, send)

        self._serve(app, lifespan="off")


def json_answer(body: bytes, status: int = 200, **headers: str) -> Handler:
    return lambda request: Response(body, status_code=status, media_type="application/json", headers=headers)


def streamed(chunks: Callable[[], AsyncIterator[bytes]], **headers: str) -> Handler:
    return lambda request: StreamingResponse(chunks(), media_type="application/json", headers=headers)
