"""Alertmanager as an alert source (provider kind `alertmanager`, API v2): every firing alert in one request,
matched to services by a configurable label."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict

from monotui.config import AlertmanagerSourceConfig
from monotui.models import Alert
from monotui.providers.base import PollResult, ProviderError
from monotui.providers.http_edge import Answer, HttpEdge
from monotui.providers.items import json_value, read_items


class _Status(BaseModel):
    model_config = ConfigDict(extra="ignore")
    state: str = ""
    silencedBy: list[str] = []


class _GettableAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    startsAt: AwareDatetime | None = None
    status: _Status = _Status()


class AlertmanagerProvider:

    def __init__(self, config: AlertmanagerSourceConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.name = config.name
        self._edge = HttpEdge(config, transport=transport)

    @staticmethod
    def _read_alerts(body: bytes) -> list[_GettableAlert]:
        raw = json_value(body, "alerts")  # an alert nested too deep is that alert's problem (left out)
        if not isinstance(raw, list):
            raise ProviderError("invalid", "alerts: invalid response: Input should be a valid list")
        return read_items(raw, _GettableAlert)  # an alert that cannot be read is left out, not the source

    async def poll(self) -> PollResult:
        params: dict[str, Any] = {"active": "true", "silenced": "true", "inhibited": "true"}
        _, raw = await self._edge.get("/api/v2/alerts", self._read_alerts, what="alerts", params=params)
        alerts = [
            Alert(fingerprint=a.fingerprint, name=a.labels.get("alertname", "?"),
                  service=a.labels[self.config.service_label], severity=a.labels.get("severity", ""),
                  summary=a.annotations.get("summary", ""), labels=a.labels, starts_at=a.startsAt,
                  silenced_by=a.status.silencedBy)
            for a in raw if self.config.service_label in a.labels
        ]
        return PollResult(rollouts=None, alerts=alerts, requests=1, clock_skew_s=self._edge.skew)

    async def _send(self, method: str, path: str, **kwargs: Any) -> Answer:
        return await self._edge.send(method, path, **kwargs)

    async def silence(self, service: str, duration_s: float, comment: str, created_by: str) -> str:
        """Silence every alert of `service` for `duration_s`; returns the silence id."""
        now = datetime.now(UTC)
        body = {"matchers": [{"name": self.config.service_label, "value": service, "isRegex": False,
                              "isEqual": True}],
                "startsAt": now.isoformat(), "endsAt": (now + timedelta(seconds=duration_s)).isoformat(),
                "createdBy": created_by, "comment": comment}
        response = await self._send("POST", "/api/v2/silences", json_body=body)
        try:
            return str(response.json()["silenceID"])
        except (ValueError, KeyError, TypeError):
            raise ProviderError("invalid", "silence: the answer has no silenceID") from None

    async def expire(self, silence_id: str) -> None:
        await self._send("DELETE", f"/api/v2/silence/{quote(silence_id, safe='')}")

    async def aclose(self) -> None:
        await self._edge.aclose()
