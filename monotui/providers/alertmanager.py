"""Alertmanager as an alert source (provider kind `alertmanager`, API v2): every firing alert in one request,
matched to services by a configurable label."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from monotui import __version__
from monotui.config import AlertmanagerSourceConfig
from monotui.models import Alert
from monotui.providers.base import PollResult, ProviderError, server_message


class _Status(BaseModel):
    model_config = ConfigDict(extra="ignore")
    state: str = ""
    silencedBy: list[str] = []


class _GettableAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    startsAt: datetime | None = None
    status: _Status = _Status()


_ALERTS = TypeAdapter(list[_GettableAlert])


class AlertmanagerProvider:

    def __init__(self, config: AlertmanagerSourceConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.name = config.name
        self._client = httpx.AsyncClient(base_url=config.url.rstrip("/"), timeout=config.timeout,
                                         headers={"User-Agent": f"monotui/{__version__}"}, transport=transport)

    async def poll(self) -> PollResult:
        params: dict[str, Any] = {"active": "true", "silenced": "true", "inhibited": "true"}
        try:
            response = await self._client.get("/api/v2/alerts", params=params)
        except httpx.TimeoutException:
            raise ProviderError("timeout", f"alerts: no answer within {self.config.timeout:g}s") from None
        except httpx.HTTPError as e:
            raise ProviderError("connection", f"alerts: cannot connect ({e or type(e).__name__})") from None
        if response.status_code >= 400:
            raise ProviderError("http", f"alerts: HTTP {response.status_code}: {server_message(response)}",
                                response.status_code)
        try:
            raw = _ALERTS.validate_json(response.content)
        except ValidationError as e:
            raise ProviderError("invalid", f"alerts: invalid response: {e.errors(include_url=False)[0]['msg']}") \
                from None
        alerts = [
            Alert(fingerprint=a.fingerprint, name=a.labels.get("alertname", "?"),
                  service=a.labels[self.config.service_label], severity=a.labels.get("severity", ""),
                  summary=a.annotations.get("summary", ""), labels=a.labels, starts_at=a.startsAt,
                  silenced_by=a.status.silencedBy)
            for a in raw if self.config.service_label in a.labels
        ]
        return PollResult(rollouts=None, alerts=alerts, requests=1)

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise ProviderError("timeout", f"{method} {path}: no answer within {self.config.timeout:g}s") from None
        except httpx.HTTPError as e:
            raise ProviderError("connection", f"{method} {path}: cannot connect ({e or type(e).__name__})") from None
        if response.status_code >= 400:
            kind: Any = {401: "auth", 403: "auth", 404: "not_found"}.get(response.status_code, "http")
            raise ProviderError(kind, f"{method} {path}: HTTP {response.status_code}: {server_message(response)}",
                                response.status_code)
        return response

    async def silence(self, service: str, duration_s: float, comment: str, created_by: str) -> str:
        """Silence every alert of `service` for `duration_s`; returns the silence id."""
        now = datetime.now(UTC)
        body = {"matchers": [{"name": self.config.service_label, "value": service, "isRegex": False,
                              "isEqual": True}],
                "startsAt": now.isoformat(), "endsAt": (now + timedelta(seconds=duration_s)).isoformat(),
                "createdBy": created_by, "comment": comment}
        response = await self._send("POST", "/api/v2/silences", json=body)
        try:
            return str(response.json()["silenceID"])
        except (ValueError, KeyError, TypeError):
            raise ProviderError("invalid", "silence: the answer has no silenceID") from None

    async def expire(self, silence_id: str) -> None:
        await self._send("DELETE", f"/api/v2/silence/{silence_id}")

    async def aclose(self) -> None:
        await self._client.aclose()
