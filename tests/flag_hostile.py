"""A small Unleash of our own on 127.0.0.1 that misbehaves as each test says: flags and events as given, a flag's
own read that fails or hangs, events stamped in the future, an answer nested too deep."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from monotui.config import UnleashSourceConfig
from monotui.simulator.loopback import BackgroundServer

ENV = "production"


def feature(name: str, *, enabled: bool = True, rollout: int | None = 25, project: str = "default",
            service: str | None = None) -> dict[str, Any]:
    strategies = [] if rollout is None else [
        {"name": "flexibleRollout", "parameters": {"rollout": str(rollout), "stickiness": "default",
                                                    "groupId": name}, "constraints": []}]
    return {"name": name, "project": project, "type": "release", "stale": False,
            "createdAt": "2026-11-01T09:00:00.000Z", "tags": [{"type": "service", "value": service}] if service else [],
            "environments": [{"name": ENV, "enabled": enabled, "strategies": strategies}]}


def rollout_event(event_id: int, flag: str, before: int, after: int, at: datetime,
                  project: str = "default") -> dict[str, Any]:
    def strategy(p: int) -> dict[str, Any]:
        return {"name": "flexibleRollout", "parameters": {"rollout": str(p)}, "constraints": []}

    return {"id": event_id, "type": "feature-strategy-update", "createdBy": "alice", "featureName": flag,
            "project": project, "environment": ENV, "createdAt": at.isoformat().replace("+00:00", "Z"),
            "data": strategy(after), "preData": strategy(before), "tags": []}


class FlagServer(BackgroundServer):
    """`features` (name → the flag's JSON, as its own read answers it), `events` (any order: listed newest first,
    paged), `own_answer[name]` to replace a flag's own answer (`"hang"`: it never comes), `listing_body` to
    replace the feature search's whole body."""

    name = "hostile unleash"

    def __init__(self) -> None:
        self.features: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.own_answer: dict[str, Callable[[], Response] | str] = {}
        self.listing_body: bytes | None = None
        self.toggles: list[str] = []
        self.reads: list[str] = []

        async def search(request: Request) -> Response:
            if self.listing_body is not None:
                return Response(self.listing_body, media_type="application/json")
            if request.query_params.get("state"):  # potentially stale: none
                return JSONResponse({"features": [], "total": 0})
            offset, limit = int(request.query_params.get("offset", 0)), int(request.query_params.get("limit", 50))
            listed = [{k: v for k, v in f.items()} for f in self.features.values()]
            return JSONResponse({"features": listed[offset:offset + limit], "total": len(listed)})

        async def events(request: Request) -> Response:
            offset, limit = int(request.query_params.get("offset", 0)), int(request.query_params.get("limit", 50))
            ordered = sorted(self.events, key=lambda e: (e["createdAt"], e["id"]), reverse=True)
            return JSONResponse({"events": ordered[offset:offset + limit], "total": len(ordered)})

        async def one_flag(request: Request) -> Response:
            name = request.path_params["name"]
            self.reads.append(name)
            special = self.own_answer.get(name)
            if special == "hang":
                await asyncio.sleep(60)
            elif callable(special):
                return special()
            found = self.features.get(name)
            return JSONResponse(found) if found else JSONResponse({"message": "no such flag"}, status_code=404)

        async def toggle(request: Request) -> Response:
            name, state = request.path_params["name"], request.path_params["state"]
            self.toggles.append(f"{name}/{state}")
            for environment in self.features[name]["environments"]:
                if environment["name"] == request.path_params["env"]:
                    environment["enabled"] = state == "on"
            return Response(status_code=200)

        self._serve(Starlette(routes=[
            Route("/api/admin/search/features", search), Route("/api/admin/search/events", events),
            Route("/api/admin/projects/{project}/features/{name}", one_flag),
            Route("/api/admin/projects/{project}/features/{name}/environments/{env}/{state}", toggle,
                  methods=["POST"])]))

    def set_rollout(self, name: str, rollout: int) -> None:
        for environment in self.features[name]["environments"]:
            for strategy in environment["strategies"]:
                strategy["parameters"]["rollout"] = str(rollout)

    def config(self, **extra: Any) -> UnleashSourceConfig:
        return UnleashSourceConfig(**{"name": "flags", "kind": "unleash", "url": self.url, "timeout": 2.0,
                                      **extra})


def now() -> datetime:
    return datetime.now(UTC)


def ago(seconds: float) -> datetime:
    return now() - timedelta(seconds=seconds)


def body(value: Any) -> bytes:
    return json.dumps(value).encode()
