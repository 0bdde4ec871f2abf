"""Who owns each simulated service, as the deploy API's optional `owner` field says it: the team named for the
service's first word ("payments-api" → "payments-team"), that team's on-call rotation, a runbook and a dashboard.
Every service has one, so the demo shows an owner on every row."""

from __future__ import annotations

import functools

from monotui.models import Owner


@functools.lru_cache(maxsize=65536)
def owner_for(service: str) -> Owner:
    word = service.split("-", 1)[0] or service
    return Owner(team=f"{word}-team", on_call=f"{word}-primary",
                 runbook=f"https://runbooks.example.com/{service}",
                 dashboard=f"https://grafana.example.com/d/{service}")
