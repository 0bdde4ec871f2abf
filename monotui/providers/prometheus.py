"""Prometheus as a health source (provider kind `prometheus`): one instant query per figure for every service at
once, grouped by the service label — never one query per service."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from dataclasses import dataclass
from typing import TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from monotui.config import PrometheusSourceConfig
from monotui.models import HealthSeries, ServiceHealth
from monotui.providers.base import PollResult, ProviderError
from monotui.providers.http_edge import HttpEdge
from monotui.providers.items import json_value, read_items

SERIES_POINTS = 30
R = TypeVar("R", bound=BaseModel)


class _Sample(BaseModel):
    model_config = ConfigDict(extra="ignore")
    metric: dict[str, str]
    value: tuple[float, str]


class _Data(BaseModel):
    model_config = ConfigDict(extra="ignore")
    resultType: str
    result: list[_Sample]


class _Series(BaseModel):
    model_config = ConfigDict(extra="ignore")
    metric: dict[str, str]
    values: list[tuple[float, str]]


class _RangeData(BaseModel):
    model_config = ConfigDict(extra="ignore")
    resultType: str
    result: list[_Series]


class _RangeResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: str
    data: _RangeData | None = None
    error: str | None = None


def _each_item(model: type[R], item: type[BaseModel], body: bytes, what: str) -> R:
    """An answer read whole, or else item by item: one series that cannot be read (a field of the wrong type, a
    value nested a thousand levels deep) is left out, not the whole answer."""
    try:
        return model.model_validate_json(body)
    except ValidationError as e:
        problem = e.errors(include_url=False)[0]["msg"]
    data = json_value(body, what)
    inner = data.get("data") if isinstance(data, dict) else None
    if not isinstance(inner, dict) or not isinstance(inner.get("result"), list):
        raise ProviderError("invalid", f"{what}: invalid response: {problem}")
    try:
        parsed = model.model_validate({**data, "data": {**inner, "result": []}})
    except ValidationError:
        raise ProviderError("invalid", f"{what}: invalid response: {problem}") from None
    parsed.data.result = read_items(inner["result"], item)  # type: ignore[attr-defined]
    return parsed


@dataclass(frozen=True)
class History:
    """A service's figures over a time range, one point per step (None where Prometheus had nothing)."""

    start: float  # unix seconds
    step: float
    error_ratio: list[float | None]
    p99_ms: list[float | None]


class _QueryResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: str
    data: _Data | None = None
    error: str | None = None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class PrometheusProvider:

    def __init__(self, config: PrometheusSourceConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.name = config.name
        self._edge = HttpEdge(config, transport=transport)
        # a short history per service, one point per poll, for the sparklines
        self._history: dict[str, tuple[deque[float], deque[float]]] = {}

    async def _query(self, figure: str, promql: str) -> dict[str, float]:
        what = f"{figure} query"

        def parse(body: bytes) -> _QueryResponse:
            return _each_item(_QueryResponse, _Sample, body, what)

        _, parsed = await self._edge.get("/api/v1/query", parse, what=what,
                                         params={"query": promql.format(window=self.config.window)})
        if parsed.status != "success" or parsed.data is None or parsed.data.resultType != "vector":
            raise self._edge.error("invalid", f"{what}: {parsed.error or 'not an instant vector'}")
        out: dict[str, float] = {}
        for sample in parsed.data.result:
            service = sample.metric.get(self.config.service_label)
            value = _number(sample.value[1])
            if service and value is not None:
                out[service] = value
        return out

    async def _range(self, figure: str, promql: str, service: str, start: float, end: float,
                     step: float) -> list[float | None]:
        what = f"{figure} history"

        def parse(body: bytes) -> _RangeResponse:
            return _each_item(_RangeResponse, _Series, body, what)

        _, parsed = await self._edge.get("/api/v1/query_range", parse, what=what, params={
            "query": promql.format(window=self.config.window), "start": start, "end": end, "step": step})
        points: list[float | None] = [None] * (int((end - start) / step) + 1)
        for series in parsed.data.result if parsed.data else []:
            if series.metric.get(self.config.service_label) != service:
                continue
            for at, text in series.values:
                index = round((at - start) / step) if math.isfinite(at) else -1
                if 0 <= index < len(points):
                    points[index] = _number(text)
        return points

    async def history(self, service: str, minutes: int = 30, points: int = 30) -> History:
        """The last `minutes` of one service's error ratio and p99, for the detail panel (two range queries)."""
        end = time.time()
        start = end - minutes * 60
        step = (end - start) / (points - 1)
        q = self.config.queries
        errors, p99 = await asyncio.gather(self._range("error ratio", q.error_ratio, service, start, end, step),
                                           self._range("p99", q.p99_ms, service, start, end, step))
        return History(start, step, errors, p99)

    async def poll(self) -> PollResult:
        q = self.config.queries
        errors, p99, rps = await asyncio.gather(self._query("error ratio", q.error_ratio),
                                                self._query("p99", q.p99_ms), self._query("request rate", q.rps))
        health = []
        for service in sorted(set(errors) | set(p99) | set(rps)):
            ratio = min(1.0, max(0.0, errors.get(service, 0.0)))
            latency = max(0.0, p99.get(service, 0.0))
            err_hist, p99_hist = self._history.setdefault(
                service, (deque(maxlen=SERIES_POINTS), deque(maxlen=SERIES_POINTS)))
            err_hist.append(round(ratio, 5))
            p99_hist.append(round(latency, 1))
            health.append(ServiceHealth(
                service=service, error_ratio=ratio, p99_ms=latency, rps=max(0.0, rps.get(service, 0.0)),
                series=HealthSeries(interval_s=self.config.poll_interval, error_ratio=list(err_hist),
                                    p99_ms=list(p99_hist)),
            ))
        return PollResult(rollouts=None, health=health, requests=3, clock_skew_s=self._edge.skew)

    async def aclose(self) -> None:
        await self._edge.aclose()
