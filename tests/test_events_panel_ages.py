"""The events panel's ages move with the clock, not only when an event arrives."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from monotui.engine.core import Engine

from .conftest import wait_until
from .hostile import HostileServer, json_answer
from .test_same_body import no_etag_server, rollouts_body
from .ui_helpers import make_app, panel_text, rows_loaded


async def test_a_firing_alerts_age_in_the_events_panel_moves_with_the_clock(
        engine_for: Callable[..., Engine]) -> None:
    """An alert that keeps firing: its age in the events panel ("(10m)") moves with the clock, though nothing else in
    the panel changes."""
    now = [datetime.now(UTC)]
    alert = [{"fingerprint": "f1", "labels": {"alertname": "HighErrors", "service": "svc-1", "severity": "page"},
              "annotations": {"summary": "errors up"}, "startsAt": (now[0] - timedelta(minutes=10)).isoformat(),
              "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}}]
    with no_etag_server(rollouts_body(3)) as deploy, \
            HostileServer({"/api/v2/alerts": json_answer(json.dumps(alert).encode())}) as alertmanager:
        engine = engine_for(deploy.url, {"name": "am", "kind": "alertmanager", "url": alertmanager.url,
                                         "poll_interval": 0.1, "timeout": 2.0})
        app = make_app(engine, clock=lambda: now[0])
        async with app.run_test(size=(120, 40)):
            await rows_loaded(app, 3)

            def alert_line() -> str:
                return next((line for line in panel_text(app, "events").splitlines() if "HighErrors" in line), "")

            await wait_until(lambda: "(10m)" in alert_line(), timeout=30, what="the alert shown, 10 minutes old")
            now[0] += timedelta(hours=3)
            await wait_until(lambda: "(3h)" in alert_line(), timeout=30, what="the alert's age moved")
