"""Logs of a rollout's instances: what a source that can stream them offers (a capability, like the others in
providers/base.py), and what is asked of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from monotui.models import LogLine, Rollout

Which = Literal["canary", "stable"]


@dataclass(frozen=True)
class LogRequest:
    """`kubectl logs` options: whose logs (the canary's: the current revision; or the stable revision's), one
    container or all (None), only the last `since_s` seconds, only the last `tail` lines (per instance), and
    whether to keep following."""

    which: Which = "canary"
    container: str | None = None
    since_s: float | None = None
    tail: int | None = None
    follow: bool = True


@runtime_checkable
class LogStreamer(Protocol):
    """A source that streams the logs of a rollout's instances (Argo Rollouts: the pods of a ReplicaSet; the deploy
    API: its optional logs endpoint). The iterator raises ProviderError; it ends when every stream ended."""

    def logs(self, rollout: Rollout, request: LogRequest) -> AsyncIterator[LogLine]: ...
