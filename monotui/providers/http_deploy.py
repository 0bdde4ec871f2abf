"""Client of the monotui deploy API (provider kind `http`, docs/deploy-api.md)."""

from __future__ import annotations

import asyncio
import ssl
from typing import TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from monotui import __version__
from monotui.config import HttpSourceConfig
from monotui.models import (
    DEPLOY_API_ACTIONS,
    ActionKind,
    ActionRequest,
    ActionResponse,
    EventPage,
    HealthList,
    Rollout,
    RolloutList,
)
from monotui.providers.base import Pin, PollResult, ProviderError, server_message, transport_error

M = TypeVar("M", bound=BaseModel)

LARGE_BODY = 512 * 1024
_STATUS_KINDS = {401: "auth", 403: "auth", 404: "not_found", 409: "conflict", 412: "changed"}


def _describe_validation(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in err["loc"]) or "body"
    return f"{loc}: {err['msg']}"


class HttpDeployProvider:
    """Polls rollouts (with ETag), health and events in three requests; sends actions with an Idempotency-Key."""

    capabilities = frozenset(DEPLOY_API_ACTIONS)
    idempotent = True  # the API replays the first answer to a repeated Idempotency-Key: a resend cannot act twice

    def __init__(self, config: HttpSourceConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.name = config.name
        self._etag: str | None = None
        self._event_cursor = 0
        verify: bool | ssl.SSLContext = config.verify_tls
        if config.ca_bundle and config.verify_tls:
            verify = ssl.create_default_context(cafile=str(config.ca_bundle.expanduser()))
        headers = {"User-Agent": f"monotui/{__version__}", "Accept": "application/json"}
        self._client = httpx.AsyncClient(
            base_url=config.url.rstrip("/"), timeout=config.timeout, verify=verify, headers=headers,
            transport=transport, follow_redirects=False,
        )

    def _auth(self) -> dict[str, str]:
        token = self.config.token()  # read at each request, so a rotated token file is picked up
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def _request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: object
    ) -> httpx.Response:
        try:
            response = await self._client.request(
                method, path, headers={**self._auth(), **(headers or {})}, **kwargs  # type: ignore[arg-type]
            )
        except httpx.HTTPError as e:
            raise transport_error(e, f"{method} {path}", self.config.timeout) from None
        except UnicodeEncodeError:  # a header (a rotated token?) that HTTP cannot carry: nothing was sent
            raise ProviderError("connection", f"{method} {path}: the request could not be built "
                                "(a header value that is not ASCII?)") from None
        if response.status_code >= 400:
            raise ProviderError(
                _STATUS_KINDS.get(response.status_code, "http"),  # type: ignore[arg-type]
                f"{method} {path}: HTTP {response.status_code}: {server_message(response)}",
                response.status_code,
            )
        return response

    @staticmethod
    async def _parse(response: httpx.Response, model: type[M], path: str) -> M:
        try:
            if len(response.content) > LARGE_BODY:
                # a big answer is validated in a worker thread, so keys keep being handled meanwhile
                return await asyncio.to_thread(model.model_validate_json, response.content)
            return model.model_validate_json(response.content)
        except ValidationError as e:
            raise ProviderError("invalid", f"GET {path}: invalid response: {_describe_validation(e)}") from None

    async def _rollouts(self) -> list[Rollout] | None:
        headers = {"If-None-Match": self._etag} if self._etag else {}
        response = await self._request("GET", "/v1/rollouts", headers=headers)
        if response.status_code == 304:
            return None
        parsed = await self._parse(response, RolloutList, "/v1/rollouts")
        self._etag = response.headers.get("etag")
        return parsed.rollouts

    async def _health(self) -> HealthList:
        return await self._parse(await self._request("GET", "/v1/health"), HealthList, "/v1/health")

    async def _events(self) -> EventPage:
        response = await self._request("GET", "/v1/events", params={"since": self._event_cursor})
        return await self._parse(response, EventPage, "/v1/events")

    async def poll(self) -> PollResult:
        rollouts, health, events = await asyncio.gather(self._rollouts(), self._health(), self._events())
        if events.cursor < self._event_cursor:  # the backend restarted: its ids started again
            self._event_cursor = 0
        else:
            self._event_cursor = events.cursor
        return PollResult(rollouts=rollouts, health=health.services, events=events.events, requests=3)

    def forget_etag(self) -> None:
        self._etag = None

    async def read(self, rollout_id: str) -> Rollout:
        path = f"/v1/rollouts/{quote(rollout_id, safe='')}"
        return await self._parse(await self._request("GET", path), Rollout, path)

    async def act(
        self, rollout: Rollout, action: ActionKind, *, actor: str, reason: str | None, revision: int | None,
        idempotency_key: str, pin: Pin,
    ) -> Rollout:
        path = f"/v1/rollouts/{quote(rollout.id, safe='')}/actions/{action.value}"
        body = ActionRequest(actor=actor, reason=reason or None, revision=revision,
                             expected_revision=pin.revision, expected_step=pin.step)
        # Never retried here: a mutating request is sent once; the idempotency key makes a deliberate
        # retry by the user safe.
        response = await self._request(
            "POST", path, headers={"Idempotency-Key": idempotency_key, "Content-Type": "application/json"},
            content=body.model_dump_json(exclude_none=True).encode(),
        )
        if response.status_code != 200:  # a redirect (never followed for an action) or another non-answer
            where = response.headers.get("location", "")
            raise ProviderError("http", f"POST {path}: HTTP {response.status_code}"
                                + (f" (to {where[:200]})" if where else "") + ": not followed, nothing done here",
                                response.status_code)
        try:
            return ActionResponse.model_validate_json(response.content).rollout
        except ValidationError as e:  # it may have acted: the engine calls this outcome unknown
            raise ProviderError("invalid", f"POST {path}: invalid response: {_describe_validation(e)}") from None

    async def aclose(self) -> None:
        await self._client.aclose()
