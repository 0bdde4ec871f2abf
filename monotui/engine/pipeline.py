"""The one action pipeline: every mutating thing monotui does goes through `ActionPipeline.run`.

    plan (pinned, confirmed) → refusals → in-flight guard → intent record (fsynced) → send with deadline
    → honest outcome (done / refused / failed / unknown) → answer about the confirmed target? → read back
    → resend ledger → outcome record → state update

A mutating action is a plan type (`Mutation`: what it targets and how its audit records read) and a `Sender`
(its send function; optionally a read-back, an identity check of the answer and a state update). Rollout actions
(engine/rollout_actions.py), kill switches (engine/flag_actions.py) and silences (engine/silences.py) are three
such pairs; a new one (the freeze) is a fourth pair, and nothing here changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from monotui.engine.audit import AuditError, AuditLog, AuditRecord, Outcome, Stage
from monotui.providers import ProviderError

log = logging.getLogger(__name__)

A = TypeVar("A")  # what the backend answers (a Rollout, a Flag, a silence id…)
P = TypeVar("P", bound="Mutation")


class Mutation(Protocol):
    """A confirmed plan, as the pipeline needs it."""

    @property
    def source(self) -> str: ...

    @property
    def idempotency_key(self) -> str: ...

    @property
    def guard(self) -> str:
        """The target: one mutating request at a time per (source, guard)."""
        ...

    @property
    def resend(self) -> bool:
        """The same intent sent again after an unknown outcome (same key)."""
        ...

    def audit_record(self, stage: Stage, *, actor: str, reason: str | None, error: str | None,
                     confirmed_by: str | None, automatic: bool, answer: Any, now: str | None,
                     read_back: bool) -> AuditRecord:
        """`answer`: the backend's answer, or what was read back (`read_back`) after an unknown outcome or a
        resend; `now`: that read-back in words."""
        ...


def outcome_of(error: ProviderError) -> Outcome:
    """refused: the backend answered no; failed: the request provably never left; else unknown."""
    if error.refused:
        return "refused"
    return "failed" if error.not_sent else "unknown"


@dataclass(frozen=True)
class Sender(Generic[P, A]):
    """How one kind of mutation reaches its backend. Only `send` is required."""

    send: Callable[[P, str | None], Awaitable[A]]  # the plan and the reason, which goes with the request
    what: str = "action"  # for the log: "action", "flag", "silence"
    # the answer is not about the confirmed target: says so with what was seen instead (the outcome: unknown)
    other_target: Callable[[P, A], str | None] | None = None
    # after an unknown outcome (or a resend): the target as the backend shows it now (None: cannot say), and
    # that in words; it catches its own errors to say which target could not be read
    read_back: Callable[[P], Awaitable[tuple[A | None, str]]] | None = None
    # the answer (or what was read back) shown at once, before the next poll
    apply: Callable[[P, A], None] | None = None


@dataclass(frozen=True)
class Result(Generic[A]):
    outcome: Outcome
    error: str | None = None
    answer: A | None = None  # the backend's answer; after a resend or an unknown outcome, what was read back
    now: str | None = None  # what the read-back showed, in words
    audit_error: str | None = None  # the outcome record could not be written (the intent was)
    sent: bool = False  # the request left (or may have)


class LedgerWriter(Protocol):
    """Where the unknown outcomes that may be sent again are kept (engine/resend_ledger.py)."""

    def record(self, record: AuditRecord) -> None: ...


class ActionPipeline:
    """Runs every mutating action; owns the in-flight guard."""

    def __init__(self, audit: AuditLog, actor: str, deadline_of: Callable[[str], float],
                 read_only: Callable[[str], bool]) -> None:
        self.audit = audit
        self.actor = actor
        self._deadline_of = deadline_of
        self._read_only = read_only
        self._in_flight: set[tuple[str, str]] = set()

    def in_flight(self, source: str, guard: str) -> bool:
        return (source, guard) in self._in_flight

    def write(self, plan: Mutation, stage: Stage, *, reason: str | None = None, error: str | None = None,
              confirmed_by: str | None = None, automatic: bool = False, answer: Any = None,
              now: str | None = None, read_back: bool = False, ledger: LedgerWriter | None = None) -> None:
        """One audit record, durably (AuditError when it cannot be written); a resendable action's records also go
        to the resend ledger, which outlives the log's rotation."""
        record = plan.audit_record(stage, actor=self.actor, reason=reason, error=error, confirmed_by=confirmed_by,
                                   automatic=automatic, answer=answer, now=now, read_back=read_back)
        self.audit.append(record)
        if ledger is not None and stage != "refused":
            try:
                ledger.record(record)
            except AuditError as e:
                if stage != "intent":
                    # the ledger keeps the intent, so the attempt stays resendable with its own key (a settled one
                    # is settled by the audit log's record, or replayed by the server): say so, go on
                    log.warning("%s", e)
                    return
                # not sent after all: the audit log says so, not "outcome unknown"
                self.audit.append(plan.audit_record(
                    "refused", actor=self.actor, reason=reason, error=f"not sent: {e}", confirmed_by=confirmed_by,
                    automatic=automatic, answer=None, now=None, read_back=False))
                raise

    async def refuse(self, plan: Mutation, why: str, *, reason: str | None = None,
                     confirmed_by: str | None = None) -> Result[Any]:
        """Nothing is sent; the refusal is audited."""
        try:
            await asyncio.to_thread(self.write, plan, "refused", reason=reason, error=why, confirmed_by=confirmed_by)
        except AuditError as e:
            return Result("refused", why, audit_error=str(e))
        return Result("refused", why)

    async def run(self, plan: P, sender: Sender[P, A], *, reason: str | None, confirmed_by: str | None,
                  automatic: bool = False, refusal: Callable[[], str | None] | None = None,
                  busy: str = "another action on this target is still in flight",
                  ledger: LedgerWriter | None = None, target_name: str = "the target") -> Result[A]:
        """Send `plan` once, exactly as confirmed: refused without sending in read-only mode, while another
        request on the same target is in flight, or when `refusal()` names a reason; else the intent is on disk
        before the request leaves and the outcome record before this returns."""
        if self._read_only(plan.source):
            return await self.refuse(plan, "read-only mode: no mutating request is sent", reason=reason,
                                     confirmed_by=confirmed_by)
        target = (plan.source, plan.guard)
        if target in self._in_flight:
            return await self.refuse(plan, busy, reason=reason, confirmed_by=confirmed_by)
        if refusal is not None and (why := refusal()):
            return await self.refuse(plan, why, reason=reason, confirmed_by=confirmed_by)
        self._in_flight.add(target)
        try:
            try:
                await asyncio.to_thread(self.write, plan, "intent", reason=reason, confirmed_by=confirmed_by,
                                        automatic=automatic, ledger=ledger)
            except AuditError as e:
                return Result("refused", f"not sent: the audit log cannot be written ({e})")
            sent = await self._send(plan, sender, reason)
            outcome, error, answer = sent
            if plan.resend and outcome in ("refused", "failed"):
                # this attempt did nothing, but the first one may have acted: still unknown
                error = (f"sent again, {outcome}: {error}. Whether the first attempt acted is still unknown: "
                         f"check {target_name} before acting again")
                outcome = "unknown"
            now, read = None, False
            if sender.read_back is not None and (outcome == "unknown" or plan.resend):
                # what the backend shows now; a replayed answer is the first attempt's, not the present state
                seen = await self._read_back(plan, sender)
                answer, now = seen
                read = True
            audit_error = None
            try:
                await asyncio.to_thread(self.write, plan, outcome, reason=reason, error=error,
                                        confirmed_by=confirmed_by, automatic=automatic,
                                        answer=answer, now=now, read_back=read, ledger=ledger)
            except AuditError as e:
                audit_error = str(e)
        finally:
            self._in_flight.discard(target)
        if answer is not None and sender.apply is not None:
            sender.apply(plan, answer)
        return Result(outcome, error, answer, now, audit_error, sent=True)

    async def _send(self, plan: P, sender: Sender[P, A], reason: str | None) -> tuple[Outcome, str | None, A | None]:
        deadline = self._deadline_of(plan.source)
        try:
            async with asyncio.timeout(deadline):
                answer = await sender.send(plan, reason)
        except ProviderError as e:
            return outcome_of(e), e.message, None
        except TimeoutError:
            return "unknown", f"no complete answer within the action deadline of {deadline:g}s", None
        except asyncio.CancelledError:
            # monotui is stopping with the request in flight: the intent stays without outcome, which reads back
            # as "outcome unknown" at the next start
            raise
        except Exception as e:  # a provider bug after the request may have left: never silent, never "failed"
            log.exception("%s %s on %s", sender.what, type(plan).__name__, plan.guard)
            return "unknown", f"internal error while sending ({type(e).__name__})", None
        if sender.other_target is not None and (other := sender.other_target(plan, answer)):
            return "unknown", other, None
        return "done", None, answer

    async def _read_back(self, plan: P, sender: Sender[P, A]) -> tuple[A | None, str]:
        assert sender.read_back is not None
        try:
            seen, now = await sender.read_back(plan)
        except Exception as e:  # any failure only means we cannot say
            return None, f"cannot read it back ({type(e).__name__})"
        if seen is not None and sender.other_target is not None and sender.other_target(plan, seen):
            return None, "cannot read it back (the answer was about another target)"
        return seen, now
