"""A service's health that moved, sent alone by the change feed (a partial answer), shows on its row at the next
poll — the row's other figures and the other rows stay as they were."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from monotui.engine.core import Engine

from .conftest import wait_until
from .hostile import HostileServer, json_answer
from .ui_helpers import cell, cell_or_blank, make_app, rows_loaded

ROLLOUT = {"environment": "eu-west-1", "strategy": "canary", "phase": "Healthy", "revision": 3, "version": "v1.0.0",
           "started_at": "2026-11-26T09:00:00Z", "steps": [], "set_weight": 100, "actual_weight": 100}


def health(service: str, error_ratio: float) -> dict[str, Any]:
    return {"service": service, "error_ratio": error_ratio, "p99_ms": 120, "rps": 10}


def feed_server(moved: dict[str, Any]) -> HostileServer:
    """A deploy API with a change feed: three services in full at first, then only `moved["health"]` (if any)."""
    services = ["svc-a", "svc-b", "svc-c"]

    def rollouts(request: Request) -> Response:
        full = "since" not in request.query_params
        body = {"cursor": "c.1", "full": full,
                "rollouts": [{**ROLLOUT, "id": s, "service": s} for s in services] if full else []}
        return Response(json.dumps(body), media_type="application/json")

    def changes(request: Request) -> Response:
        full = "since" not in request.query_params
        items = [health(s, 0.001) for s in services] if full else moved.get("health", [])
        return Response(json.dumps({"cursor": "c.1", "full": full, "services": items}),
                        media_type="application/json")

    return HostileServer({"/v1/changes/rollouts": rollouts, "/v1/changes/health": changes,
                          "/v1/events": json_answer(b'{"events": [], "cursor": 0}')})


async def test_a_services_health_sent_alone_by_the_feed_shows_on_its_row(engine_for: Callable[..., Engine]) -> None:
    moved: dict[str, Any] = {}
    with feed_server(moved) as server:
        app = make_app(engine_for(server.url))
        async with app.run_test(size=(160, 30)):
            await rows_loaded(app, 3)
            # the table fits its columns to the rows it has drawn: the Err% column shows from the first frame on
            await wait_until(lambda: cell_or_blank(app, "prod/svc-b", "errors") == "0.1%", timeout=20,
                             what="svc-b's first error ratio on its row")
            moved["health"] = [health("svc-b", 0.009)]  # moved, still under the 5% threshold: no breach
            await wait_until(lambda: cell(app, "prod/svc-b", "errors") == "0.9%", timeout=20,
                             what="svc-b's new error ratio on its row")
            assert [cell(app, f"prod/{s}", "errors") for s in ("svc-a", "svc-c")] == ["0.1%", "0.1%"]
