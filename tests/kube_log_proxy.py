"""A loopback proxy in front of the Kubernetes API stand-in: every request passes through (streamed, so watches and
follows work), except a pod's log (`GET …/pods/NAME/log`), which `answer` serves: a misbehaving log stream."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from monotui.simulator.loopback import BackgroundServer


class KubeLogProxy(BackgroundServer):
    name = "kube log proxy"

    def __init__(self, upstream: str, answer: Callable[[Request], Response]) -> None:
        self.upstream = upstream.rstrip("/")
        self.answer = answer
        self.logs_asked = 0

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            request = Request(scope, receive)
            if request.method == "GET" and request.url.path.endswith("/log"):
                self.logs_asked += 1
                await self.answer(request)(scope, receive, send)
                return
            client = httpx.AsyncClient(base_url=self.upstream, timeout=httpx.Timeout(30, read=None))
            upstream = await client.send(client.build_request(
                request.method, request.url.path, params=request.url.query, content=await request.body(),
                headers={k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}),
                stream=True)

            async def close() -> None:
                await upstream.aclose()
                await client.aclose()

            headers = {k: v for k, v in upstream.headers.items()
                       if k.lower() not in ("content-length", "transfer-encoding", "connection")}
            await StreamingResponse(upstream.aiter_raw(), status_code=upstream.status_code, headers=headers,
                                    background=BackgroundTask(close))(scope, receive, send)

        self._serve(app, lifespan="off")

    def kubeconfig(self, path: Path, context: str = "standin") -> Path:
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": context, "cluster": {"server": self.url}}],
            "users": [{"name": context, "user": {}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": context, "namespace": "default"}}],
        }
        path.write_text(yaml.safe_dump(config))
        return path
