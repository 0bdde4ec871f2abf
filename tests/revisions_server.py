"""A loopback server in front of the simulator that passes every request through except a rollout's
`GET /v1/rollouts/{id}/revisions` (or another path ending in `suffix`, as `/logs`), which answers what the test
says (a body, or a handler)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response

from monotui.simulator.loopback import BackgroundServer


class RevisionsServer(BackgroundServer):
    name = "revisions server"

    def __init__(self, upstream: str, answer: Callable[[Request], Response], suffix: str = "/revisions") -> None:
        self.upstream = upstream.rstrip("/")
        self.answer = answer
        self.asked_revisions = 0

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            request = Request(scope, receive)
            if request.method == "GET" and request.url.path.endswith(suffix):
                self.asked_revisions += 1
                response = self.answer(request)
            else:
                async with httpx.AsyncClient(base_url=self.upstream, timeout=30) as client:
                    got = await client.request(request.method, request.url.path, params=request.url.query,
                                               content=await request.body(),
                                               headers={k: v for k, v in request.headers.items()
                                                        if k.lower() not in ("host", "content-length",
                                                                             "accept-encoding")})
                headers = {k: v for k, v in got.headers.items()
                           if k.lower() not in ("content-length", "transfer-encoding", "content-encoding",
                                                "connection")}
                response = Response(got.content, status_code=got.status_code, headers=headers)
            await response(scope, receive, send)

        self._serve(app, lifespan="off")


def json_body(body: bytes, status: int = 200) -> Callable[[Request], Response]:
    return lambda request: Response(body, status_code=status, media_type="application/json")
