"""A source whose clock runs ahead or behind ours: its offset is estimated from its `Date` headers,
its times are compared with local ones through it (a breaching canary stamped 45 s "in the future" is still the
SUSPECT), and the source's status says how far off its clock is."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import Response

from monotui.engine.attention import Attention
from monotui.engine.core import Engine
from monotui.providers.http_edge import date_offset

from .hostile import HostileServer
from .test_hostile import real_answers


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


class SkewedApi(HostileServer):
    """A deploy API (no change feed) whose clock runs `ahead` seconds ahead of ours: its Date headers and its
    times both; cart-api's canary started 10 s ago by its clock; `error_ratio` is cart-api's health."""

    def __init__(self, answers: dict[str, bytes], ahead: float) -> None:
        self.ahead = ahead
        self.error_ratio = 0.001
        self.started: datetime | None = None
        rollouts = json.loads(answers["/v1/rollouts"])
        health = json.loads(answers["/v1/health"])

        def clock() -> datetime:
            return datetime.now(UTC) + timedelta(seconds=self.ahead)

        def answer(body: Any) -> Response:
            date = email.utils.format_datetime(clock(), usegmt=True)
            return Response(json.dumps(body).encode(), media_type="application/json", headers={"Date": date})

        def list_rollouts(request: Request) -> Response:
            if self.started is None:
                self.started = clock() - timedelta(seconds=10)
            for rollout in rollouts["rollouts"]:
                if rollout["service"] == "cart-api":
                    rollout.update(phase="Progressing", started_at=iso(self.started), updated_at=iso(self.started))
            return answer(rollouts)

        def list_health(request: Request) -> Response:
            for service in health["services"]:
                if service["service"] == "cart-api":
                    service["error_ratio"] = self.error_ratio
                    service["series"]["error_ratio"] = [self.error_ratio]
            return answer(health)

        super().__init__({"/v1/rollouts": list_rollouts, "/v1/health": list_health,
                          "/v1/events": lambda request: answer({"events": [], "cursor": 0})})
        self._server.config.date_header = False  # the Date header is the server's own clock, as said above


@pytest.fixture(scope="module")
def answers() -> dict[str, bytes]:
    return real_answers()


@pytest.mark.parametrize("ahead", [45.0, -45.0])
async def test_a_breaching_canary_of_a_source_whose_clock_is_off_is_the_suspect(
        answers: dict[str, bytes], engine_for: Callable[..., Engine], ahead: float) -> None:
    with SkewedApi(answers, ahead=ahead) as api:
        async with engine_for({"name": "prod", "kind": "http", "url": api.url, "poll_interval": 60}) as engine:
            await engine.refresh_once()
            api.error_ratio = 0.2  # the canary breaches
            await engine.refresh_once()
            views = {v.rollout.service: v for v in engine.state.views()}
            status = engine.state.sources["prod"].status
    cart = views["cart-api"]
    assert cart.evidence is not None and cart.attention is Attention.SUSPECT, \
        f"a canary stamped {ahead:+.0f} s by its source's clock is not the suspect"
    # its times are on our clock now: it started 10 s ago here too
    assert abs((datetime.now(UTC) - cart.rollout.started_at).total_seconds() - 10) < 5
    assert status.clock_skew is not None and abs(status.clock_skew - ahead) <= 2


async def test_a_source_on_time_is_left_alone(answers: dict[str, bytes], engine_for: Callable[..., Engine]) -> None:
    with SkewedApi(answers, ahead=0.0) as api:
        async with engine_for({"name": "prod", "kind": "http", "url": api.url, "poll_interval": 60}) as engine:
            await engine.refresh_once()
            cart = next(v for v in engine.state.views() if v.rollout.service == "cart-api")
            status = engine.state.sources["prod"].status
    assert status.clock_skew is None
    assert cart.rollout.started_at == api.started  # as the source said it, to the microsecond


def test_the_offset_is_read_from_the_date_header() -> None:
    now = time.time()
    ahead = email.utils.formatdate(now + 45, usegmt=True)
    offset = date_offset(ahead, now - 0.1, now + 0.1)
    assert offset is not None and 44 <= offset <= 46
    assert date_offset("not a date", now, now) is None
    assert date_offset(None, now, now) is None
