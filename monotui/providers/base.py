"""What every deploy source offers the engine, and the one error type it raises."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from monotui.action_kinds import ActionKind
from monotui.models import Alert, Event, Flag, FlagChange, Freeze, Phase, Rollout, ServiceHealth

if TYPE_CHECKING:  # httpx loads with the providers that send requests, not with the CLI's action list
    import httpx

ErrorKind = Literal["connection", "lost", "timeout", "http", "invalid", "auth", "conflict", "not_found", "changed"]

# What an action's failure says about whether the backend may have acted (docs/reliability.md, "Outcomes"):
# - "connection": the request provably never left (connect refused, DNS, TLS handshake): failed;
# - a 4xx answer (auth, conflict, not_found, changed, other 4xx): the backend said no: refused;
# - anything else ("lost" connection after sending, "timeout", 5xx, an "invalid" answer): outcome unknown.
_REFUSING_KINDS = frozenset({"auth", "conflict", "not_found", "changed"})
_STATUS_KINDS: dict[int, ErrorKind] = {401: "auth", 403: "auth", 404: "not_found", 409: "conflict", 412: "changed"}


def status_kind(status: int) -> ErrorKind:
    """The error kind of an HTTP error status (the same for every backend)."""
    return _STATUS_KINDS.get(status, "http")


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
        """The backend answered and said no (a 4xx, or a redirect monotui does not follow): it did not act."""
        return self.kind in _REFUSING_KINDS or (
            self.kind == "http" and self.status is not None and 300 <= self.status < 500)

    @property
    def not_sent(self) -> bool:
        """The request provably never reached the backend, so it cannot have acted."""
        return self.kind == "connection"

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Pin:
    """What the operator confirmed about the target: the action is refused if it no longer holds.

    `revision` (and for promote `step`, 0-based) are sent to the backend, which checks them; `version` is the
    engine's own object version where it has one (Kubernetes resourceVersion), sent as a precondition too.
    `phase` and `weight` are what the confirmation described ("stays at 20% of traffic"): monotui checks them
    against its latest refresh before sending and while the dialog is open. They are None (not pinned) for an
    action whose effect does not depend on them (`ActionSpec.pins_progress`: abort, roll back), and so is
    `version`: such an action's request is conditional on the latest object that still shows the confirmed
    revision (a controller's status update since the confirmation does not refuse it; a new revision does).
    """

    revision: int
    step: int | None = None
    phase: Phase | None = None
    weight: int | None = None
    version: str | None = None
    # a rollback to a chosen revision: what that revision ran when confirmed (monotui.revisions.fingerprint); a
    # backend that builds the rollback from the revision's own objects (Argo Rollouts) refuses if it changed
    target: str | None = None

    @classmethod
    def of(cls, rollout: Rollout, *, with_step: bool = False, with_progress: bool = True) -> Pin:
        return cls(rollout.revision, rollout.current_step if with_step else None,
                   rollout.phase if with_progress else None, rollout.set_weight if with_progress else None,
                   rollout.resource_version if with_progress else None)

    def differs(self, rollout: Rollout) -> str | None:
        """How `rollout` no longer matches what was confirmed, or None."""
        if rollout.revision != self.revision:
            return f"it is now at r{rollout.revision} ({rollout.version}), not r{self.revision}"
        if self.step is not None and rollout.current_step != self.step:
            now = "no step" if rollout.current_step is None else f"step {rollout.current_step + 1}"
            return f"it is now at {now}, not step {self.step + 1}"
        if self.phase is not None and rollout.phase is not self.phase:
            return f"it is now {rollout.phase.value}, not {self.phase.value}"
        if self.weight is not None and rollout.set_weight != self.weight:
            return f"its weight is now {rollout.set_weight}, not {self.weight}"
        return None


@dataclass(frozen=True)
class PollResult:
    """One refresh of a source. `rollouts` is None when the backend said nothing changed (HTTP 304).

    With `partial`, `rollouts` holds only the rollouts that changed and `removed` the ids of those that went away
    (watch-based sources send these after their first full snapshot, the deploy API's change feed after its first
    full list). With `health_partial`, `health` holds only the services whose figures moved.
    """

    rollouts: list[Rollout] | None
    health: list[ServiceHealth] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    requests: int = 0
    partial: bool = False
    removed: list[str] = field(default_factory=list)
    alerts: list[Alert] | None = None  # alert sources: every firing alert
    health_partial: bool = False
    resyncing: int = 0  # watching sources: relists in a row that brought nothing (410 storms), 0 when well
    flags: list[Flag] | None = None  # flag sources: every flag (None: not a flag source)
    flag_changes: list[FlagChange] = field(default_factory=list)  # flag sources: the new changes, oldest first
    clock_skew_s: float | None = None  # how far the source's clock runs ahead of ours (its Date headers), when
    # that is more than a few seconds (SKEW_SHOWN); its times in this result are already on our clock
    freeze: Freeze | None = None  # a source with a server-side freeze (Freezer): the freeze as the server has it
    more: bool = False  # a paged listing: more pages of this poll follow (PagedSource); `rollouts` is one page


# Capabilities, not kind names: the engine and the UI choose behaviour by which of these a provider implements
# (runtime-checkable protocols), so a new backend touches config, its provider module and the factory only.


@runtime_checkable
class Source(Protocol):
    """Every source: polled into PollResults (rollouts, health, alerts… whatever it gives)."""

    name: str

    async def poll(self) -> PollResult: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class WatchingSource(Source, Protocol):
    """A source that pushes changes: a full PollResult first, then partial ones, until it raises."""

    def watch(self) -> AsyncIterator[PollResult]: ...


@runtime_checkable
class PagedSource(Source, Protocol):
    """A source whose poll comes in pages, each applied as it arrives: partial results with `more` set, then the
    poll's last result (`more` unset), which alone carries what the whole poll needed (cursors, removals)."""

    def poll_pages(self) -> AsyncIterator[PollResult]: ...


@runtime_checkable
class RolloutActor(Protocol):
    """A source that can act on its rollouts."""

    capabilities: frozenset[ActionKind]  # the actions its engine offers
    idempotent: bool  # a repeated Idempotency-Key is answered with the first answer (a resend cannot act twice)

    async def act(
        self, rollout: Rollout, action: ActionKind, *, actor: str, reason: str | None, revision: int | None,
        idempotency_key: str, pin: Pin,
    ) -> Rollout:
        """Act once, and only if `pin` still holds on the backend (else ProviderError kind "changed")."""
        ...

    async def read(self, rollout_id: str) -> Rollout:
        """The rollout as the backend has it now (after an action whose outcome is unknown)."""
        ...


@runtime_checkable
class SkipsUnchangedLists(Protocol):
    """A source that answers "nothing new" for a list the same as the last one it gave (ETag, same body): once
    the state shows something the list did not say (an action's answer), its next poll must list everything."""

    def forget_etag(self) -> None: ...


@runtime_checkable
class PinsRollbackTargets(Protocol):
    """A source that builds a rollback from the target revision's own objects (Argo Rollouts: its ReplicaSet's
    template): what that revision runs as the source shows it now, to pin in the confirmation (Pin.target)."""

    def target_fingerprint(self, rollout: Rollout, revision: int) -> str | None: ...


@runtime_checkable
class HealthHistorySource(Protocol):
    """A health source that speaks for every source's services and keeps their history (Prometheus)."""

    async def history(self, service: str) -> Any: ...


@runtime_checkable
class AlertSilencer(Protocol):
    """An alert source whose alerts can be silenced and the silences expired (Alertmanager)."""

    async def silence(self, service: str, duration_s: float, comment: str, created_by: str) -> str: ...

    async def expire(self, silence_id: str) -> None: ...


@runtime_checkable
class Freezer(Protocol):
    """A deploy source whose server can hold the line itself (the deploy API's /v1/freeze): while frozen it starts no
    new deploy and refuses promotions and resumes, whoever asks. `server_freeze` is False once the server said it
    has no freeze (then monotui keeps the freeze itself, as for a source without this capability)."""

    server_freeze: bool | None

    async def read_freeze(self) -> Freeze | None: ...

    async def set_freeze(self, actor: str, reason: str | None, services: list[str] | None) -> Freeze: ...

    async def lift_freeze(self) -> Freeze: ...


@runtime_checkable
class FlagSource(Protocol):
    """A source of feature flags (Unleash): the flags and their changes as of the last poll, and turning one on or
    off pinned to what was confirmed (ProviderError kind "changed" when it no longer holds, nothing sent)."""

    @property
    def flags(self) -> list[Flag]: ...

    @property
    def recent_changes(self) -> Sequence[FlagChange]:
        """The last changes read, oldest first."""
        ...

    async def set_flag(self, confirmed: Flag, enabled: bool) -> Flag: ...

    async def read_flag(self, project: str, name: str) -> Flag:
        """One flag as the server has it now (after an action whose outcome is unknown)."""
        ...


def transport_error(exc: BaseException, what: str, timeout: float) -> ProviderError:
    """The ProviderError for an exception raised while sending a request, keeping what matters for an action:
    whether the request provably never left ("connection": failed) or may have been received (outcome unknown).

    Exception text is only quoted where it cannot carry a header value (h11 quotes a rejected header, token
    included)."""
    import httpx

    cause = exc.__cause__ if exc.__cause__ is not None and not isinstance(exc, httpx.HTTPError) else exc
    if isinstance(cause, httpx.LocalProtocolError):
        return ProviderError("connection", f"{what}: the request could not be built (an invalid header value?)")
    if isinstance(cause, httpx.ConnectTimeout):
        return ProviderError("connection", f"{what}: cannot connect (no connection within {timeout:g}s)")
    if isinstance(cause, httpx.ConnectError | httpx.UnsupportedProtocol):
        return ProviderError("connection", f"{what}: cannot connect ({_short(cause)})")
    if isinstance(cause, httpx.TimeoutException) or type(exc).__name__ == "APITimeoutError":
        return ProviderError("timeout", f"{what}: no answer within {timeout:g}s")
    return ProviderError("lost", f"{what}: the answer was lost ({_short(cause)})")


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return text or type(exc).__name__


def server_message(response: httpx.Response) -> str:
    """The `message` of a JSON error body (the deploy API's errors, Kubernetes' Status), else the reason phrase."""
    try:
        data = response.json()
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            return str(data["message"])[:500]
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        pass
    return response.reason_phrase or "error"
