"""The engine: owns the providers, the production state and the audit log; plans and executes actions.

The TUI, the non-interactive CLI and the benchmarks all drive production through this one class.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, replace
from typing import Any

from monotui.config import Settings, security_warnings
from monotui.engine.actions import ActionPlan, RevisionRef, plan_action
from monotui.engine.audit import AuditError, AuditLog, AuditRecord, Outcome, Stage, audit_log_for
from monotui.engine.flag_plan import FlagPlan
from monotui.engine.polling import SourceUpdate, poll_forever, poll_once
from monotui.engine.state import ProductionState
from monotui.models import ActionKind, EventKind, Flag, Phase, Rollout, Strategy
from monotui.providers import ProviderError, Source, build_provider
from monotui.providers.base import (
    AlertSilencer,
    FlagSource,
    HealthHistorySource,
    Pin,
    RolloutActor,
    SkipsUnchangedLists,
)
from monotui.render.text import clean

log = logging.getLogger(__name__)
FLAGS_AFTER_S = 2.0  # longest a flag source's first poll waits for the other sources' first answers


@dataclass(frozen=True)
class ActionOutcome:
    plan: ActionPlan | FlagPlan
    outcome: Outcome
    error: str | None = None
    rollout: Rollout | None = None
    now: str | None = None  # after an unknown outcome: what monotui read back from the backend
    audit_error: str | None = None  # the outcome record could not be written (the intent was)
    resendable: bool = True  # the backend honours Idempotency-Keys, so the same intent can be sent again
    flag: Flag | None = None  # a kill switch: the flag as it is after (done, or read back)

    @property
    def ok(self) -> bool:
        return self.outcome == "done"

    def message(self) -> str:
        if isinstance(self.plan, FlagPlan):
            text = self.plan.outcome_message(self.outcome, self.error, self.now)
            if self.audit_error:
                text += f" (WARNING: the outcome is not in the audit log: {self.audit_error})"
            return text
        what = f"{self.plan.spec.label} {self.plan.rollout.service} ({self.plan.source})"
        if self.outcome == "done":
            text = f"{what}: done" + (" (sent again with the same key)" if self.plan.resend else "")
            if self.plan.resend and self.now:
                text += f". Now: {self.now}"
        elif self.outcome == "unknown":
            text = f"{what}: outcome unknown — {self.error}. " + (f"Now: {self.now}. " if self.now else "")
            if self.resendable:
                text += (f"While it stays so, the same command or key sends it again with the same "
                         f"Idempotency-Key ({self.plan.idempotency_key[:12]}…): the server acts at most once.")
            else:
                text += "This backend has no idempotency key: check the rollout before acting again."
        else:
            text = f"{what}: {self.outcome} — {self.error}"
        if self.audit_error:
            text += f" (WARNING: the outcome is not in the audit log: {self.audit_error})"
        return text


def _unchanged(seen: Pin | None, rollout: Rollout) -> bool:
    """Whether an unknown attempt may be sent again with its key: the rollout is as read back after it, or it was
    never read back (then nothing tells a new intent from the old one, and a new key could act twice — e.g. a
    second rollback — while the same key is replayed if it acted, and refused by the server's pin if it is stale)."""
    return seen is None or seen.differs(rollout) is None


def _pin_record(pin: Pin) -> dict[str, object]:
    return {"revision": pin.revision, "step": pin.step, "phase": pin.phase.value if pin.phase else None,
            "weight": pin.weight, "version": pin.version}


def _text(value: str | None) -> str:
    """A reason as UTF-8 can carry it (a lone surrogate from an undecodable argv byte becomes U+FFFD)."""
    return (value or "").encode("utf-8", "replace").decode("utf-8")


def outcome_of(error: ProviderError) -> Outcome:
    """refused: the backend answered no; failed: the request provably never left; else unknown."""
    if error.refused:
        return "refused"
    return "failed" if error.not_sent else "unknown"


def describe(rollout: Rollout) -> str:
    step = f", step {rollout.current_step + 1}/{len(rollout.steps)}" if (
        rollout.current_step is not None and rollout.steps) else ""
    return f"{rollout.service} r{rollout.revision} ({rollout.version}) {rollout.phase.value}{step}"


class Engine:
    def __init__(
        self, settings: Settings, *, providers: dict[str, Source] | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.settings = settings
        self.providers = providers or {s.name: build_provider(s) for s in settings.sources}
        # a health source with history (Prometheus) speaks for every source's services
        self.state = ProductionState(settings, health_sources=[
            name for name, p in self.providers.items() if isinstance(p, HealthHistorySource)])
        self.warnings = security_warnings(settings)  # allowed but unsafe: shown once, and logged
        for warning in self.warnings:
            log.warning("%s", warning)
        self.audit = audit or audit_log_for(settings)
        self._in_flight: set[tuple[str, str]] = set()
        self._guarded: set[tuple[str, str, int]] = set()
        # (source, rollout id, action) → the plan whose outcome is unknown: the next one is sent with its key
        # (source, rollout id, action) → (the plan whose outcome is unknown, the rollout as seen after it): the next
        # plan of that action is that intent again, while the rollout still looks the same (idempotent APIs only)
        self._unknown: dict[tuple[str, str, str], tuple[ActionPlan, Pin | None]] = {}
        self.unresolved: list[dict[str, Any]] = []  # audit-log intents without a known outcome, not yet matched
        # the views that changed: the only candidates for the guards (none kept when no service is guarded)
        self._guard_feed = self.state.watch() if settings.auto_pause_suspects else None
        # the flag sources' first poll waits for the other sources' first answers (and, with a UI that says it
        # draws them, for the UI to have drawn them: `rows_shown`): the rows come first
        self._awaited = {name for name, p in self.providers.items() if not isinstance(p, FlagSource)}
        self._flags_go = asyncio.Event()
        self.rows_first = False  # a UI sets it, then calls rows_shown() once the first answers are on its screen
        self._rows_shown = False
        if not self._awaited:
            self._flags_go.set()
        self._load_unresolved()

    # ---- reading ----------------------------------------------------------------------------------------

    async def updates(self, source: str) -> AsyncIterator[SourceUpdate]:
        if isinstance(self.providers[source], FlagSource):
            # on the way to the first rows a flag source's first poll (its flags, their history) would take the
            # CPU the rows need; it waits for the other sources' first answers, FLAGS_AFTER_S at most
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flags_go.wait(), FLAGS_AFTER_S)
        async for update in poll_forever(self.state, self.providers[source]):
            self._awaited.discard(source)
            self._release_flags_if_due()
            if update.ok:
                await self.run_guards()
            yield update

    @property
    def first_answers_in(self) -> bool:
        """Every source but the flag sources has answered (or failed) once."""
        return not self._awaited

    def rows_shown(self) -> None:
        """The UI has drawn the first rows: the flag sources' first polls may start once every other source
        answered (a quick source's rows can be drawn before a slow one's answer)."""
        self._rows_shown = True
        self._release_flags_if_due()

    def _release_flags_if_due(self) -> None:
        """Every other source answered, and the UI that draws rows drew them (or there are none to draw)."""
        if self._flags_go.is_set():  # from then on every poll passes here: nothing to look at
            return
        no_rows = not any(data.rollouts for data in self.state.sources.values())
        if not self._awaited and (self._rows_shown or not self.rows_first or no_rows):
            self._flags_go.set()

    async def run_guards(self) -> list[ActionOutcome]:
        """Pause each suspect canary of a guarded service, once per revision; audited as automatic. Only the rows
        whose view changed since the last call can have become suspects (the state's clock deadlines included)."""
        out: list[ActionOutcome] = []
        if self._guard_feed is None:
            return out
        self.state.refresh()
        changed, _ = self._guard_feed.drain()
        for changed_key in sorted(changed, key=self.state.order.index):  # what needs a human first
            view = self.state.view(changed_key)
            if view is None:
                continue
            r = view.rollout
            if (view.evidence is None or r.service not in self.settings.auto_pause_suspects
                    or r.strategy is not Strategy.CANARY or r.phase is not Phase.PROGRESSING or view.read_only):
                continue
            key = (view.source, r.id, r.revision)
            if key in self._guarded:
                continue
            self._guarded.add(key)
            ev = view.evidence
            reason = (f"automatic: {ev.figure} breached its threshold at {ev.breach_at:%H:%M:%S} "
                      f"after this rollout changed at {ev.changed_at:%H:%M:%S}")
            outcome = await self.execute(self.plan(view.source, r, ActionKind.PAUSE), reason, automatic=True)
            self.state.note(view.source, r, EventKind.PAUSED, f"paused by the monotui guard: {outcome.outcome}",
                            actor=f"monotui guard ({self.settings.actor})")
            out.append(outcome)
        return out

    async def refresh_once(self, sources: Collection[str] | None = None) -> list[SourceUpdate]:
        """Poll every source (or those named) once, at the same time."""
        return list(await asyncio.gather(*(
            poll_once(self.state, p, self.settings.source(name).timeout) for name, p in self.providers.items()
            if sources is None or name in sources
        )))

    def flag_sources(self) -> list[str]:
        """The sources whose flags can be listed and turned on or off."""
        return [name for name in self.providers if self.can_flag(name)]

    def can(self, source: str, kind: ActionKind) -> bool:
        """Whether the source's engine offers this action at all (Argo Rollouts has retry; the deploy API not)."""
        provider = self.providers[source]
        return isinstance(provider, RolloutActor) and kind in provider.capabilities

    def _actor(self, source: str) -> RolloutActor:
        provider = self.providers[source]
        if not isinstance(provider, RolloutActor):  # `execute` refuses before this: the source cannot act
            raise ProviderError("conflict", f"source {source} takes no rollout actions")
        return provider

    @property
    def has_history(self) -> bool:
        return any(isinstance(p, HealthHistorySource) for p in self.providers.values())

    def alert_sources(self) -> list[str]:
        """Sources whose alerts can be silenced."""
        return [name for name, p in self.providers.items() if isinstance(p, AlertSilencer)]

    def read_only(self, source: str) -> bool:
        return self.settings.is_read_only(source)

    def find(self, service: str, source: str | None = None) -> list[tuple[str, Rollout]]:
        return [(name, r) for name, r in self.state.iter_rollouts()
                if (r.service == service or r.id == service) and (source is None or name == source)]

    # ---- acting -----------------------------------------------------------------------------------------

    def plan(self, source: str, rollout: Rollout, kind: ActionKind, revision: int | None = None) -> ActionPlan:
        """The plan a confirmation shows. If the same action on the same rollout has an unknown outcome (this
        session, or an intent left without outcome in the audit log) and the rollout is still exactly as monotui
        saw it after that attempt, it is that intent again: same Idempotency-Key, pinned target and reason — the
        backend replays it if it had acted. Once the rollout changed (a colleague acted, a poll shows news), the
        earlier intent is settled by what the screen shows and a key press means a new intent."""
        key = (source, rollout.id, kind.value)
        pending = self._unknown.get(key)
        if pending is not None:
            earlier, seen = pending
            if _unchanged(seen, rollout) and (revision is None or revision == earlier.target_revision):
                return replace(earlier, rollout=rollout, attempt=earlier.attempt + 1)
            del self._unknown[key]
        return plan_action(source, rollout, kind, protected=self.settings.is_protected(rollout.service),
                           revision=revision)

    def pending_resend(self, source: str, rollout_id: str, kind: ActionKind) -> bool:
        """Whether the key for this action would send an earlier intent again (its outcome is unknown and the
        rollout has not changed since)."""
        pending = self._unknown.get((source, rollout_id, kind.value))
        now = self.state.rollout(source, rollout_id)
        return pending is not None and now is not None and _unchanged(pending[1], now)

    def _load_unresolved(self) -> None:
        """Intents from the audit log with no outcome, or an unknown one, become resendable plans."""
        for record in self.audit.unresolved():
            if record.get("actor") != self.settings.actor or record.get("automatic") or record.get("flag"):
                continue  # another person's key cannot be re-sent by this one (its body names the actor); a kill
                # switch has no key to send again
            self.unresolved.append(record)

    @staticmethod
    def _pin_of(data: object) -> Pin | None:
        if not isinstance(data, dict) or not isinstance(data.get("revision"), int):
            return None
        phase = data.get("phase")
        return Pin(data["revision"], data.get("step") if isinstance(data.get("step"), int) else None,
                   Phase(phase) if phase in {p.value for p in Phase} else None,
                   data.get("weight") if isinstance(data.get("weight"), int) else None,
                   data.get("version") if isinstance(data.get("version"), str) else None)

    def _plan_from_record(self, source: str, rollout: Rollout,
                          record: dict[str, Any]) -> tuple[ActionPlan, Pin | None] | None:
        pin, seen = self._pin_of(record.get("pin")), self._pin_of(record.get("seen"))
        if pin is None:
            return None
        try:
            kind = ActionKind(str(record["action"]))
            base = plan_action(source, rollout, kind, protected=self.settings.is_protected(rollout.service))
            target = record.get("target_revision")
            plan = replace(
                base, idempotency_key=str(record["idempotency_key"]), pin=pin,
                target_revision=int(target) if isinstance(target, int) else None,
                from_revision=RevisionRef(int(record["from_revision"]), "?"),  # type: ignore[call-overload]
                to_revision=RevisionRef(int(record["to_revision"]), "?"),  # type: ignore[call-overload]
                attempt=int(record.get("attempt") or 1),  # type: ignore[call-overload]
                resend_reason=record.get("reason") if isinstance(record.get("reason"), str) else None,
            )
        except (KeyError, ValueError, TypeError):
            return None
        # what the rollout looked like after that attempt (None: never read back — killed in flight, or the read
        # failed — so whether it acted is not known and only the same key is safe)
        return plan, seen

    def adopt_unresolved(self) -> list[ActionPlan]:
        """Match the audit log's unresolved intents to rollouts now in the state (after a first refresh); those
        whose rollout is still as it was after the attempt can be sent again with their key."""
        out = []
        for record in list(self.unresolved):
            source, rollout_id = str(record.get("source")), str(record.get("rollout"))
            rollout = self.state.rollout(source, rollout_id) if source in self.providers else None
            if rollout is None:
                continue
            self.unresolved.remove(record)
            found = self._plan_from_record(source, rollout, record)
            if found is None or not self._idempotent(source) or not _unchanged(found[1], rollout):
                continue
            self._unknown.setdefault((source, rollout.id, found[0].spec.kind.value), found)
            out.append(found[0])
        return out

    def _idempotent(self, source: str) -> bool:
        provider = self.providers.get(source)
        return isinstance(provider, RolloutActor) and provider.idempotent

    def _record(self, plan: ActionPlan, outcome: Stage, reason: str | None, error: str | None,
                automatic: bool = False, confirmed_by: str | None = None, seen: Pin | None = None) -> None:
        r = plan.rollout
        self.audit.append(AuditRecord(
            actor=self.settings.actor, source=plan.source, environment=r.environment, service=r.service,
            rollout=r.id, action=plan.spec.kind.value, from_revision=plan.from_revision.revision,
            to_revision=plan.to_revision.revision, outcome=outcome, reason=reason or None, error=error,
            idempotency_key=plan.idempotency_key, automatic=automatic, confirmed_by=confirmed_by,
            expected_revision=plan.pinned.revision, expected_step=plan.pinned.step,
            target_revision=plan.target_revision, attempt=plan.attempt, pin=_pin_record(plan.pinned),
            seen=_pin_record(seen) if seen is not None else None,
        ))

    async def refuse(self, plan: ActionPlan, why: str, reason: str | None = None,
                     confirmed_by: str | None = None) -> ActionOutcome:
        """Record an action that monotui itself refused to send (nothing is sent)."""
        try:
            await asyncio.to_thread(self._record, plan, "refused", _text(reason), why, False, confirmed_by)
        except AuditError as e:
            return ActionOutcome(plan, "refused", why, audit_error=str(e))
        return ActionOutcome(plan, "refused", why)

    def target_changed(self, plan: ActionPlan) -> str | None:
        """How the rollout in the state differs from what `plan` pinned (None: still the same).

        A resend through an idempotent API is not checked against the first pin: it is offered only while the
        rollout is as monotui saw it after the first attempt (`plan`), and the backend checks the pin itself."""
        now = self.state.rollout(plan.source, plan.rollout.id)
        if now is None:
            return "it is no longer listed by its source"
        if plan.resend and self._idempotent(plan.source):
            pending = self._unknown.get((plan.source, plan.rollout.id, plan.spec.kind.value))
            return None if pending is not None and _unchanged(pending[1], now) else \
                "it changed since the attempt whose outcome is unknown"
        return plan.pinned.differs(now)

    async def execute(self, plan: ActionPlan, reason: str | None = None, *, automatic: bool = False,
                      confirmed_by: str | None = None) -> ActionOutcome:
        """Send one action, once, exactly as confirmed. The intent is on disk before the request leaves, and the
        outcome record before this returns (docs/reliability.md)."""
        reason = plan.resend_reason if plan.resend else (_text(reason).strip() or None)
        confirmed_by = "automatic" if automatic else confirmed_by
        if self.read_only(plan.source):
            return await self.refuse(plan, "read-only mode: no mutating request is sent", reason, confirmed_by)
        if not self.can(plan.source, plan.spec.kind):
            return await self.refuse(plan, f"source {plan.source} cannot {plan.spec.verb}", reason, confirmed_by)
        target = (plan.source, plan.rollout.id)
        if target in self._in_flight:
            return await self.refuse(plan, f"another action on {plan.rollout.service} is still in flight", reason,
                                     confirmed_by)
        if changed := self.target_changed(plan):
            return await self.refuse(plan, f"target changed since it was confirmed: {changed}. Nothing was sent; "
                                     "look again and re-open the action", reason, confirmed_by)
        key = (plan.source, plan.rollout.id, plan.spec.kind.value)
        self._in_flight.add(target)
        try:
            try:
                await asyncio.to_thread(self._record, plan, "intent", reason, None, automatic, confirmed_by)
            except AuditError as e:
                return ActionOutcome(plan, "refused", f"not sent: the audit log cannot be written ({e})")
            outcome, error, rollout = await self._send(plan, reason)
            if plan.resend and outcome in ("refused", "failed"):
                # this attempt did nothing, but the first one may have acted: still unknown
                error = (f"sent again, {outcome}: {error}. Whether the first attempt acted is still unknown: check "
                         f"{plan.rollout.service} before acting again")
                outcome = "unknown"
            now, seen = None, None
            if outcome == "unknown" or plan.resend:
                # what the backend shows now; a replayed answer is the first attempt's, not the present state
                seen_rollout, now = await self._read_back(plan)
                rollout = seen_rollout if plan.resend else rollout
                seen = Pin.of(seen_rollout, with_step=True) if seen_rollout is not None else None
            if outcome == "unknown" and self._idempotent(plan.source):
                self._unknown[key] = (plan, seen)
            else:
                self._unknown.pop(key, None)
            audit_error = None
            try:
                await asyncio.to_thread(self._record, plan, outcome, reason, error, automatic, confirmed_by, seen)
            except AuditError as e:
                audit_error = str(e)
        finally:
            self._in_flight.discard(target)
        if rollout is not None and not plan.resend:
            self._show_answer(plan.source, rollout)
        return ActionOutcome(plan, outcome, error, rollout, now, audit_error, self._idempotent(plan.source))

    def _show_answer(self, source: str, rollout: Rollout) -> None:
        """An action's answer (or its read-back) on screen at once; the source's next list is read whole, so the
        list has the last word even if it is byte for byte as before (no await between: a poll ending in between
        would note the list as seen with the answer not yet shown)."""
        self.state.apply_rollout(source, rollout)
        provider = self.providers[source]
        if isinstance(provider, SkipsUnchangedLists):
            provider.forget_etag()

    async def _send(self, plan: ActionPlan, reason: str | None) -> tuple[Outcome, str | None, Rollout | None]:
        deadline = self.settings.source(plan.source).action_deadline_s
        try:
            async with asyncio.timeout(deadline):
                rollout = await self._actor(plan.source).act(
                    plan.rollout, plan.spec.kind, actor=self.settings.actor, reason=reason,
                    revision=plan.target_revision, idempotency_key=plan.idempotency_key, pin=plan.pinned,
                )
        except ProviderError as e:
            return outcome_of(e), e.message, None
        except TimeoutError:
            return "unknown", f"no complete answer within the action deadline of {deadline:g}s", None
        except asyncio.CancelledError:
            # monotui is stopping with the request in flight: the intent stays without outcome, which reads
            # back as "outcome unknown" at the next start
            raise
        except Exception as e:  # a provider bug after the request may have left: never silent, never "failed"
            log.exception("action %s on %s", plan.spec.kind.value, plan.rollout.id)
            return "unknown", f"internal error while sending ({type(e).__name__})", None
        if rollout.id != plan.rollout.id:
            return "unknown", (f"the answer was about another rollout ({clean(rollout.id, 80)}), not "
                               f"{clean(plan.rollout.id, 80)}"), None
        return "done", None, rollout

    async def _read_back(self, plan: ActionPlan) -> tuple[Rollout | None, str]:
        """After an unknown outcome or a resend: the rollout as the backend shows it now (best effort, bounded)."""
        try:
            async with asyncio.timeout(self.settings.source(plan.source).timeout + 1):
                rollout = await self._actor(plan.source).read(plan.rollout.id)
        except Exception as e:  # any failure only means we cannot say
            return None, f"cannot read {plan.rollout.service} back ({type(e).__name__})"
        if rollout.id != plan.rollout.id:
            return None, f"cannot read {plan.rollout.service} back (the answer was about another rollout)"
        self._show_answer(plan.source, rollout)
        return rollout, describe(rollout)

    # ---- the kill switch (feature flags) -------------------------------------------------------------------

    def can_flag(self, source: str) -> bool:
        """Whether the source is a flag source (whose flags can be turned on and off)."""
        return isinstance(self.providers.get(source), FlagSource)

    def flag_protected(self, flag: Flag) -> bool:
        """In `protected_flags` (compared canonically, as protected services): the name must be typed."""
        return self.settings.is_protected_flag(flag.name)

    def plan_flag(self, source: str, flag: Flag, enabled: bool) -> FlagPlan:
        """The plan a confirmation shows; `flag` as shown is what `execute_flag` pins."""
        return FlagPlan(source, flag, enabled, protected=self.flag_protected(flag))

    def flag_target_changed(self, plan: FlagPlan) -> str | None:
        """How the flag in the state differs from what `plan` pinned (None: still the same)."""
        return plan.differs(self.state.flag(plan.source, plan.name))

    def _record_flag(self, plan: FlagPlan, outcome: Stage, reason: str | None, error: str | None,
                     confirmed_by: str | None, now: str | None = None) -> None:
        self.audit.append(AuditRecord(
            actor=self.settings.actor, source=plan.source, environment=plan.environment,
            service=plan.flag.service or "", rollout="", action=plan.action, from_revision=None, to_revision=None,
            outcome=outcome, reason=reason or None, error=error, idempotency_key=plan.idempotency_key,
            confirmed_by=confirmed_by, flag=plan.audit_fields(now)))

    async def refuse_flag(self, plan: FlagPlan, why: str, reason: str | None = None,
                          confirmed_by: str | None = None) -> ActionOutcome:
        """Record a kill switch that monotui itself refused to send (nothing is sent)."""
        try:
            await asyncio.to_thread(self._record_flag, plan, "refused", reason, why, confirmed_by)
        except AuditError as e:
            return ActionOutcome(plan, "refused", why, audit_error=str(e), resendable=False)
        return ActionOutcome(plan, "refused", why, resendable=False)

    async def execute_flag(self, plan: FlagPlan, reason: str | None = None, *,
                           confirmed_by: str) -> ActionOutcome:
        """Turn one flag on or off, once, exactly as confirmed — the same contract as rollout actions: refused
        without sending in read-only mode or when the flag changed since it was confirmed (here, and by the
        provider just before the request: FlagChangedError); the intent is on disk before the request leaves, the
        outcome record (done / refused / failed / unknown, with the flag read back) before this returns."""
        reason = _text(reason).strip() or None
        if self.read_only(plan.source):
            return await self.refuse_flag(plan, "read-only mode: no mutating request is sent", reason,
                                          confirmed_by)
        provider = self.providers.get(plan.source)
        if not isinstance(provider, FlagSource):
            return await self.refuse_flag(plan, f"source {plan.source} has no flags", reason, confirmed_by)
        target = (plan.source, f"flag:{plan.project}/{plan.name}")
        if target in self._in_flight:
            return await self.refuse_flag(plan, f"another change of flag {plan.name} is still in flight", reason,
                                          confirmed_by)
        if plan.flag.unreadable:
            return await self.refuse_flag(plan, f"the flag cannot be read ({plan.flag.unreadable}): its state is "
                                          "not known. Nothing was sent", reason, confirmed_by)
        if plan.flag.enabled == plan.enabled:
            return await self.refuse_flag(plan, f"flag {plan.name} is already {plan.to_state}: nothing to do, "
                                          "nothing was sent", reason, confirmed_by)
        if changed := self.flag_target_changed(plan):
            return await self.refuse_flag(plan, f"the flag changed since it was confirmed: {changed}. Nothing "
                                          "was sent; look again", reason, confirmed_by)
        self._in_flight.add(target)
        try:
            try:
                await asyncio.to_thread(self._record_flag, plan, "intent", reason, None, confirmed_by)
            except AuditError as e:
                return ActionOutcome(plan, "refused", f"not sent: the audit log cannot be written ({e})",
                                     resendable=False)
            outcome, error, flag = await self._send_flag(provider, plan)
            now = None
            if outcome == "unknown":
                flag, now = await self._read_flag_back(provider, plan)
            elif flag is not None:
                now = flag.state
            audit_error = None
            try:
                await asyncio.to_thread(self._record_flag, plan, outcome, reason, error, confirmed_by, now)
            except AuditError as e:
                audit_error = str(e)
        finally:
            self._in_flight.discard(target)
        if flag is not None:
            self.state.apply_flag(plan.source, flag)
            self.state.version += 1
        return ActionOutcome(plan, outcome, error, now=now, audit_error=audit_error, resendable=False, flag=flag)

    async def _send_flag(self, provider: FlagSource, plan: FlagPlan) -> tuple[Outcome, str | None, Flag | None]:
        deadline = self.settings.source(plan.source).action_deadline_s
        try:
            async with asyncio.timeout(deadline):
                return "done", None, await provider.set_flag(plan.flag, plan.enabled)
        except ProviderError as e:  # FlagChangedError (kind "changed") is a refusal: nothing was sent
            return outcome_of(e), e.message, None
        except TimeoutError:
            return "unknown", f"no complete answer within the action deadline of {deadline:g}s", None
        except asyncio.CancelledError:
            raise  # the intent stays without outcome: "outcome unknown" in the audit log
        except Exception as e:  # a provider bug after the request may have left: never silent, never "failed"
            log.exception("flag %s on %s", plan.action, plan.name)
            return "unknown", f"internal error while sending ({type(e).__name__})", None

    async def _read_flag_back(self, provider: FlagSource, plan: FlagPlan) -> tuple[Flag | None, str]:
        """After an unknown outcome: the flag as the server shows it now (best effort, bounded)."""
        try:
            async with asyncio.timeout(self.settings.source(plan.source).timeout + 1):
                flag = await provider.read_flag(plan.project, plan.name)
        except Exception as e:  # any failure only means we cannot say
            return None, f"cannot read flag {plan.name} back ({type(e).__name__})"
        return flag, flag.state

    async def history(self, service: str) -> Any:
        """The last 30 minutes of a service's health from the first source that keeps history (None without)."""
        for provider in self.providers.values():
            if isinstance(provider, HealthHistorySource):
                return await provider.history(service)
        return None

    async def silence(self, source: str, service: str, duration_s: float, comment: str) -> tuple[bool, str]:
        """Silence a service's alerts (audited): (True, silence id) or (False, why)."""
        return await self._alert_action(source, service, "silence", comment,
                                        lambda p: p.silence(service, duration_s, comment, self.settings.actor))

    async def expire_silence(self, source: str, service: str, silence_id: str) -> tuple[bool, str]:
        return await self._alert_action(source, service, "expire-silence", f"silence {silence_id}",
                                        lambda p: p.expire(silence_id))

    async def _alert_action(self, source: str, service: str, action: str, reason: str,
                            call: Any) -> tuple[bool, str]:
        """Write-ahead like rollout actions: intent, then the request, then the outcome."""
        key = uuid.uuid4().hex

        def record(outcome: Stage, error: str | None) -> None:
            self.audit.append(AuditRecord(
                actor=self.settings.actor, source=source, environment="", service=service, rollout="",
                action=action, from_revision=None, to_revision=None, outcome=outcome, reason=reason or None,
                error=error, idempotency_key=key))

        provider = self.providers.get(source)
        try:
            if self.read_only(source):
                await asyncio.to_thread(record, "refused", "read-only mode: no mutating request is sent")
                return False, "refused: read-only mode, nothing was sent"
            if not isinstance(provider, AlertSilencer):
                await asyncio.to_thread(record, "refused", f"source {source} has no silences")
                return False, f"refused: source {source} has no silences, nothing was sent"
            await asyncio.to_thread(record, "intent", None)
        except AuditError as e:
            return False, f"not sent: the audit log cannot be written ({e})"
        outcome: Outcome
        try:
            async with asyncio.timeout(self.settings.source(source).action_deadline_s):
                result = await call(provider)
            outcome, error, text = "done", None, str(result or "done")
        except ProviderError as e:
            outcome, error = outcome_of(e), e.message
            text = f"{outcome}: {e.message}"
        except TimeoutError:
            outcome, error = "unknown", "no complete answer within the action deadline"
            text = f"outcome unknown: {error}"
        try:
            await asyncio.to_thread(record, outcome, error)
        except AuditError as e:
            text += f" (WARNING: the outcome is not in the audit log: {e})"
        return outcome == "done", text

    async def aclose(self) -> None:
        await asyncio.gather(*(p.aclose() for p in self.providers.values()), return_exceptions=True)
        if self.audit.forwarder is not None:  # what is left stays in the file for the next run
            await asyncio.to_thread(self.audit.forwarder.close)

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
