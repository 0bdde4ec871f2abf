"""What every deploy source offers the engine, and the one error type it raises."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

import httpx

from monotui.models import ActionKind, Alert, Event, Rollout, ServiceHealth

ErrorKind = Literal["connection", "timeout", "http", "invalid", "auth", "conflict", "not_found"]


class ProviderError(Exception):
    """Any failure talking to a backend: connection, timeout, HTTP error status, or an invalid body.

    `message` is what the UI shows in that source's panel; it may quote the server, so treat it as untrusted text.
    """

    def __init__(self, kind: ErrorKind, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.status = status

    @property
    def refused(self) -> bool:
        """The backend said no to this caller (auth) — audited as `refused` rather than `failed`."""
        return self.kind == "auth"

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class PollResult:
    """One refresh of a source. `rollouts` is None when the backend said nothing changed (HTTP 304).

    With `partial`, `rollouts` holds only the rollouts that changed and `removed` the ids of those that went away
    (watch-based sources send these after their first full snapshot).
    """

    rollouts: list[Rollout] | None
    health: list[ServiceHealth] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    requests: int = 0
    partial: bool = False
    removed: list[str] = field(default_factory=list)
    alerts: list[Alert] | None = None  # alert sources: every firing alert
    resyncing: int = 0  # watching sources: relists in a row that brought nothing (410 storms), 0 when well


class DeployProvider(Protocol):
    """A source of rollouts that can also act on them."""

    name: str
    capabilities: frozenset[ActionKind]

    async def poll(self) -> PollResult: ...

    async def act(
        self, rollout: Rollout, action: ActionKind, *, actor: str, reason: str | None, revision: int | None,
        idempotency_key: str,
    ) -> Rollout: ...

    async def aclose(self) -> None: ...


class WatchingProvider(DeployProvider, Protocol):
    """A source that pushes changes: a full PollResult first, then partial ones, until it raises."""

    def watch(self) -> AsyncIterator[PollResult]: ...


def server_message(response: httpx.Response) -> str:
    """The `message` of a JSON error body (the deploy API's errors, Kubernetes' Status), else the reason phrase."""
    try:
        data = response.json()
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            return str(data["message"])[:500]
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        pass
    return response.reason_phrase or "error"
