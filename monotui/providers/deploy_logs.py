"""The deploy API's optional logs endpoint (`GET /v1/rollouts/{id}/logs`, docs/deploy-api.md): newline-delimited
LogLine objects, read one line at a time as the server writes them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import msgspec

from monotui.models import LogLine, Rollout
from monotui.providers.base import ProviderError
from monotui.providers.http_edge import HttpEdge
from monotui.providers.log_stream import LogRequest

_LINE = msgspec.json.Decoder(LogLine)


def params_for(request: LogRequest) -> dict[str, Any]:
    params: dict[str, Any] = {"revision": request.which}
    if request.follow:
        params["follow"] = "true"
    if request.since_s is not None:
        params["since_s"] = f"{request.since_s:g}"
    if request.tail is not None:
        params["tail"] = str(max(0, request.tail))
    return params


async def stream(edge: HttpEdge, rollout: Rollout, request: LogRequest) -> AsyncIterator[LogLine]:
    what = f"logs of {rollout.id}"
    try:
        # not following, the answer ends by itself: a server that stalls midway is an error, not a wait forever
        async for raw in edge.lines(f"/v1/rollouts/{quote(rollout.id, safe='')}/logs", params=params_for(request),
                                    what=what, quiet_s=None if request.follow else edge.deadline):
            if not raw.strip():
                continue
            try:
                line = _LINE.decode(raw)
            except msgspec.DecodeError:  # one unreadable line is shown as it is, the stream goes on
                line = LogLine(message=raw.decode("utf-8", "replace"))
            if request.container is None or not line.container or line.container == request.container:
                yield line
    except ProviderError as e:
        if e.status == 404 and "no rollout" not in e.message:
            raise ProviderError("not_found", f"{what}: this deploy API serves no logs (HTTP 404)", 404) from None
        raise
