"""Client of the monotui deploy API (provider kind `http`, docs/deploy-api.md)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from monotui.config import HttpSourceConfig
from monotui.models import (
    DEPLOY_API_ACTIONS,
    ActionKind,
    ActionRequest,
    ActionResponse,
    Event,
    EventPage,
    Rollout,
    ServiceHealth,
)
from monotui.providers.base import Pin, PollResult, ProviderError
from monotui.providers.http_edge import Answer, HttpEdge
from monotui.providers.items import describe, item_list, json_object, read_items, unreadable_rollout


def _describe_validation(exc: ValidationError) -> str:
    return describe(exc)


class HttpDeployProvider:
    """Polls rollouts (with ETag), health and events in three requests; sends actions with an Idempotency-Key.

    Every list is read item by item: a rollout that cannot be read is one row saying what is wrong, a health or
    event item that cannot be read is left out; the rest of the source stays."""

    capabilities = frozenset(DEPLOY_API_ACTIONS)
    idempotent = True  # the API replays the first answer to a repeated Idempotency-Key: a resend cannot act twice

    def __init__(self, config: HttpSourceConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.name = config.name
        self._etag: str | None = None
        self._event_cursor = 0
        self._edge = HttpEdge(config, transport=transport)
        self._unreadable: dict[str, datetime] = {}  # rollout id → when it was first seen unreadable

    async def _request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: object
    ) -> Answer:
        return await self._edge.send(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]

    def _read_rollouts(self, body: bytes) -> list[Rollout]:
        what = "GET /v1/rollouts"
        seen_now: dict[str, datetime] = {}

        def stand_in(index: int, raw: object, problem: str) -> Rollout:
            row = unreadable_rollout(raw, index, problem)
            row = row.model_copy(update={"started_at": self._unreadable.get(row.id, row.started_at)})
            seen_now[row.id] = row.started_at
            return row

        rollouts = read_items(item_list(json_object(body, what), "rollouts", what), Rollout, stand_in)
        self._unreadable = seen_now
        return rollouts

    async def _rollouts(self) -> list[Rollout] | None:
        headers = {"If-None-Match": self._etag} if self._etag else {}
        answer, rollouts = await self._edge.get("/v1/rollouts", self._read_rollouts, headers=headers)
        if answer.status == 304:
            return None
        self._etag = answer.headers.get("etag")
        return rollouts  # type: ignore[no-any-return]

    async def _health(self) -> list[ServiceHealth]:
        what = "GET /v1/health"
        _, health = await self._edge.get(
            "/v1/health", lambda body: read_items(item_list(json_object(body, what), "services", what),
                                                  ServiceHealth))
        return health  # type: ignore[no-any-return]

    @staticmethod
    def _read_events(body: bytes) -> EventPage:
        what = "GET /v1/events"
        data = json_object(body, what)
        events = read_items(item_list(data, "events", what), Event)
        cursor = data.get("cursor")
        if not isinstance(cursor, int) or isinstance(cursor, bool):
            raise ProviderError("invalid", f"{what}: invalid response: cursor: Input should be a valid integer")
        return EventPage(events=events, cursor=cursor)

    async def _events(self) -> EventPage:
        _, page = await self._edge.get("/v1/events", self._read_events, params={"since": self._event_cursor})
        return page  # type: ignore[no-any-return]

    async def poll(self) -> PollResult:
        rollouts, health, events = await asyncio.gather(self._rollouts(), self._health(), self._events())
        if events.cursor < self._event_cursor:  # the backend restarted: its ids started again
            self._event_cursor = 0
        else:
            self._event_cursor = events.cursor
        return PollResult(rollouts=rollouts, health=health, events=events.events, requests=3)

    def forget_etag(self) -> None:
        self._etag = None

    async def read(self, rollout_id: str) -> Rollout:
        path = f"/v1/rollouts/{quote(rollout_id, safe='')}"

        def parse(body: bytes) -> Rollout:
            try:
                return Rollout.model_validate_json(body)
            except ValidationError as e:
                raise ProviderError("invalid", f"GET {path}: invalid response: {describe(e)}") from None

        _, rollout = await self._edge.get(path, parse)
        return rollout  # type: ignore[no-any-return]

    async def act(
        self, rollout: Rollout, action: ActionKind, *, actor: str, reason: str | None, revision: int | None,
        idempotency_key: str, pin: Pin,
    ) -> Rollout:
        path = f"/v1/rollouts/{quote(rollout.id, safe='')}/actions/{action.value}"
        if rollout.id in self._unreadable:
            raise ProviderError("conflict", f"POST {path}: not sent: {rollout.message}", 409)
        body = ActionRequest(actor=actor, reason=reason or None, revision=revision,
                             expected_revision=pin.revision, expected_step=pin.step)
        # Never retried here: a mutating request is sent once; the idempotency key makes a deliberate
        # retry by the user safe.
        response = await self._request(
            "POST", path, headers={"Idempotency-Key": idempotency_key, "Content-Type": "application/json"},
            content=body.model_dump_json(exclude_none=True).encode(),
        )
        try:
            return ActionResponse.model_validate_json(response.content).rollout
        except ValidationError as e:  # it may have acted: the engine calls this outcome unknown
            raise ProviderError("invalid", f"POST {path}: invalid response: {_describe_validation(e)}") from None

    async def aclose(self) -> None:
        await self._edge.aclose()
