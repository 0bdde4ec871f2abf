"""The engine: owns the providers, the production state and the audit log; the one class the TUI, the
non-interactive CLI and the benchmarks drive production through.

What it does lives in modules named for it: polling (engine/polling.py), the state (engine/state.py), the automatic
guard (engine/guards.py), and every mutating action through the one pipeline (engine/pipeline.py) — rollout actions
(engine/rollout_actions.py), kill switches (engine/flag_actions.py), silences (engine/silences.py) — with the resend
ledger (engine/resend_ledger.py). The methods here are the API the UI and the CLI call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from monotui.action_kinds import ActionKind
from monotui.config import Settings, security_warnings
from monotui.engine import logs
from monotui.engine.actions import ActionPlan
from monotui.engine.audit import AuditLog, Stage, audit_log_for
from monotui.engine.flag_actions import FlagActions
from monotui.engine.flag_plan import FlagPlan
from monotui.engine.freeze import FreezeFile, FreezePlan, FreezeResult, Freezes, Hold, freeze_path
from monotui.engine.guards import AutoPause
from monotui.engine.others import acted_by_others
from monotui.engine.outcomes import ActionOutcome
from monotui.engine.pipeline import ActionPipeline, outcome_of
from monotui.engine.polling import SourceUpdate, poll_forever, poll_once
from monotui.engine.resend_ledger import ResendLedger
from monotui.engine.rollout_actions import RolloutActions, describe
from monotui.engine.silences import SilencePlan, Silences
from monotui.engine.state import ProductionState
from monotui.models import Flag, FlagChange, FlagChangeKind, Owner, Rollout
from monotui.providers import ProviderError, Source, build_provider
from monotui.providers.base import AlertSilencer, FlagSource, HealthHistorySource, Pin
from monotui.providers.registry import kinds_that_can
from monotui.text import clean

log = logging.getLogger(__name__)
FLAGS_AFTER_S = 2.0  # longest a flag source's first poll waits for the other sources' first answers

__all__ = ["FLAGS_AFTER_S", "ActionOutcome", "Engine", "describe", "outcome_of"]


# a kill switch's change is matched with the audit records of the last MiB, at most two minutes apart
OWN_TOGGLE_TAIL_BYTES = 1024 * 1024
OWN_TOGGLE_WINDOW_S = 120.0


def _text(value: str | None) -> str:
    """A reason as UTF-8 can carry it (a lone surrogate from an undecodable argv byte becomes U+FFFD)."""
    return (value or "").encode("utf-8", "replace").decode("utf-8")


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
        self.state.own_toggles = self._own_toggles
        self.pipeline = ActionPipeline(self.audit, settings.actor,
                                       deadline_of=lambda source: settings.source(source).action_deadline_s,
                                       read_only=settings.is_read_only)
        self.ledger: ResendLedger[ActionPlan, Pin | None] = ResendLedger(self.audit)
        self.rollout_actions = RolloutActions(settings, self.providers, self.state, self.pipeline, self.ledger)
        self.flag_actions = FlagActions(settings, self.providers, self.state, self.pipeline)
        self.silences = Silences(settings, self.providers, self.state, self.pipeline)
        self.freezes = Freezes(settings, self.providers, self.state, self.pipeline, self.execute, self.plan,
                               FreezeFile(freeze_path(self.audit.path)))
        self.rollout_actions.frozen = self.freezes.refusal
        self.guard = AutoPause(self) if settings.auto_pause_suspects else None
        # the flag sources' first poll waits for the other sources' first answers (and, with a UI that says it
        # draws them, for the UI to have drawn them: `rows_shown`): the rows come first
        self._awaited = {name for name, p in self.providers.items() if not isinstance(p, FlagSource)}
        self._flags_go = asyncio.Event()
        self.rows_first = False  # a UI sets it, then calls rows_shown() once the first answers are on its screen
        self._rows_shown = False
        if not self._awaited:
            self._flags_go.set()

    @property
    def unresolved(self) -> list[dict[str, Any]]:
        """Intents from the audit log (or the resend ledger) without a known outcome, not yet matched to a row."""
        return self.rollout_actions.unresolved

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
        """Pause each suspect canary of a guarded service, once per revision (engine/guards.py)."""
        return [] if self.guard is None else await self.guard.run()

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
        return self.rollout_actions.can(source, kind)

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

    def owner(self, service: str) -> Owner | None:
        """Who owns `service` (engine/owners.py): the config's `[services."name"]` first, then its rollouts' own
        (deploy API, Argo Rollouts annotations), then its flags' team tag; text cleaned. None: nobody says."""
        return self.state.owners.of_service(service, self.state.rollouts_of(service))

    # ---- acting: rollout actions (engine/rollout_actions.py) --------------------------------------------------

    def plan(self, source: str, rollout: Rollout, kind: ActionKind, revision: int | None = None) -> ActionPlan:
        """The plan a confirmation shows. If the same action on the same rollout has an unknown outcome (this
        session, or an intent left without outcome in the audit log or the resend ledger) and the rollout is still
        exactly as monotui saw it after that attempt, it is that intent again: same Idempotency-Key, pinned target,
        reason and text — the backend replays it if it had acted. Once the rollout changed (a colleague acted, a
        poll shows news), the earlier intent is settled by what the screen shows and a key press means a new
        intent."""
        return self.rollout_actions.plan(source, rollout, kind, revision)

    def pending_resend(self, source: str, rollout_id: str, kind: ActionKind) -> bool:
        """Whether the key for this action would send an earlier intent again (its outcome is unknown and the
        rollout has not changed since)."""
        return self.rollout_actions.pending_resend(source, rollout_id, kind)

    def adopt_unresolved(self) -> list[ActionPlan]:
        """Match the unresolved intents to rollouts now in the state (after a first refresh); those whose rollout
        is still as it was after the attempt can be sent again with their key."""
        return self.rollout_actions.adopt_unresolved()

    def target_changed(self, plan: ActionPlan) -> str | None:
        """How the rollout in the state differs from what `plan` pinned (None: still the same).

        A resend through an idempotent API is not checked against the first pin: it is offered only while the
        rollout is as monotui saw it after the first attempt (`plan`), and the backend checks the pin itself."""
        return self.rollout_actions.target_changed(plan)

    def _record(self, plan: ActionPlan, outcome: Stage, reason: str | None, error: str | None,
                automatic: bool = False, confirmed_by: str | None = None) -> None:
        """One audit record of a rollout action (and in the resend ledger), as the pipeline writes it."""
        self.pipeline.write(plan, outcome, reason=reason, error=error, automatic=automatic,
                            confirmed_by=confirmed_by, ledger=self.ledger)

    async def refuse(self, plan: ActionPlan, why: str, reason: str | None = None,
                     confirmed_by: str | None = None) -> ActionOutcome:
        """Record an action that monotui itself refused to send (nothing is sent)."""
        return await self.rollout_actions.refuse(plan, why, _text(reason), confirmed_by)

    async def execute(self, plan: ActionPlan, reason: str | None = None, *, automatic: bool = False,
                      confirmed_by: str | None = None) -> ActionOutcome:
        """Send one action, once, exactly as confirmed. The intent is on disk before the request leaves, and the
        outcome record before this returns (docs/reliability.md)."""
        reason = plan.resend_reason if plan.resend else (_text(reason).strip() or None)
        confirmed_by = "automatic" if automatic else confirmed_by
        return await self.rollout_actions.execute(plan, reason, automatic=automatic, confirmed_by=confirmed_by)

    # ---- acting: the kill switch (engine/flag_actions.py) -----------------------------------------------------

    def can_flag(self, source: str) -> bool:
        """Whether the source is a flag source (whose flags can be turned on and off)."""
        return isinstance(self.providers.get(source), FlagSource)

    def flag_protected(self, flag: Flag) -> bool:
        """In `protected_flags` (compared canonically, as protected services): the name must be typed."""
        return self.settings.is_protected_flag(flag.name)

    def plan_flag(self, source: str, flag: Flag, enabled: bool) -> FlagPlan:
        """The plan a confirmation shows; `flag` as shown is what `execute_flag` pins."""
        return self.flag_actions.plan(source, flag, enabled)

    def flag_target_changed(self, plan: FlagPlan) -> str | None:
        """How the flag in the state differs from what `plan` pinned (None: still the same)."""
        return self.flag_actions.target_changed(plan)

    def _record_flag(self, plan: FlagPlan, outcome: Stage, reason: str | None, error: str | None,
                     confirmed_by: str | None, now: str | None = None) -> None:
        self.pipeline.write(plan, outcome, reason=reason, error=error, confirmed_by=confirmed_by, now=now)

    async def refuse_flag(self, plan: FlagPlan, why: str, reason: str | None = None,
                          confirmed_by: str | None = None) -> ActionOutcome:
        """Record a kill switch that monotui itself refused to send (nothing is sent)."""
        return await self.flag_actions.refuse(plan, why, reason, confirmed_by)

    async def execute_flag(self, plan: FlagPlan, reason: str | None = None, *,
                           confirmed_by: str) -> ActionOutcome:
        """Turn one flag on or off, once, exactly as confirmed — the same pipeline as rollout actions: refused
        without sending in read-only mode or when the flag changed since it was confirmed (here, and by the
        provider just before the request: FlagChangedError); the intent is on disk before the request leaves, the
        outcome record (done / refused / failed / unknown, with the flag read back) before this returns."""
        return await self.flag_actions.execute(plan, _text(reason).strip() or None, confirmed_by=confirmed_by)

    # ---- acting: silences (engine/silences.py) ------------------------------------------------------------------

    async def silence(self, source: str, service: str, duration_s: float, comment: str) -> tuple[bool, str]:
        """Silence a service's alerts (audited): (True, silence id) or (False, why)."""
        return await self.silences.run(SilencePlan(source, service, "silence", comment, duration_s=duration_s))

    async def expire_silence(self, source: str, service: str, silence_id: str) -> tuple[bool, str]:
        return await self.silences.run(SilencePlan(source, service, "expire-silence", f"silence {silence_id}",
                                                   silence_id=silence_id))

    @staticmethod
    def kinds_that_can(kind: ActionKind) -> str:
        """The kinds of source that can take `kind`, in the words refusals use: "Argo Rollouts sources"."""
        return kinds_that_can(kind)

    # ---- acting: the freeze (engine/freeze.py) ------------------------------------------------------------------

    def holds(self) -> list[Hold]:
        """Every freeze honoured now, per source: this host's and the servers' (another operator's too)."""
        return self.freezes.holds()

    def frozen(self, source: str, service: str | None, kind: ActionKind) -> str | None:
        """Why `kind` is refused by a freeze ("frozen since 10:42 by alice: checkout errors"), or None."""
        return self.freezes.refusal(source, service, kind)

    def plan_freeze(self, source: str | None = None, services: list[str] | None = None) -> FreezePlan:
        """Every progressing rollout in scope, each pause pinned as any action."""
        return self.freezes.plan_freeze(source, services)

    def plan_unfreeze(self, source: str | None = None) -> FreezePlan:
        """Lift the freeze; resume only what it paused and is still paused at the same revision."""
        return self.freezes.plan_unfreeze(source)

    def freeze_target_changed(self, plan: FreezePlan) -> str | None:
        return self.freezes.target_changed(plan)

    async def execute_freeze(self, plan: FreezePlan, reason: str | None = None, *,
                             confirmed_by: str | None) -> FreezeResult:
        """Freeze (or unfreeze) through the pipeline, then pause (or resume) each listed rollout, each its own
        audited, pinned action; partial outcomes are said line by line."""
        return await self.freezes.execute(plan, _text(reason).strip() or None, confirmed_by=confirmed_by)

    async def history(self, service: str) -> Any:
        """The last 30 minutes of a service's health from the first source that keeps history (None without it, or
        when that source cannot answer now: its status bar says why)."""
        for provider in self.providers.values():
            if isinstance(provider, HealthHistorySource):
                try:
                    return await provider.history(service)
                except ProviderError:
                    return None
        return None

    def can_stream_logs(self, source: str) -> bool:
        return logs.can_stream(self.providers, source)

    def logs(self, source: str, rollout: Rollout, request: logs.LogRequest) -> AsyncIterator[logs.LogLine]:
        """The rollout's instances' log lines, cleaned (engine/logs.py); raises ProviderError."""
        return logs.stream(self.providers, source, rollout, request)

    def _own_toggles(self, source: str, changes: Sequence[FlagChange]) -> list[str | None]:
        """Each flag change that monotui made (a kill switch in this audit log: same source, flag, project,
        environment and direction, within two minutes), named with the operator: the flag server only knows the
        token's user. "alice@bastion-2 via monotui (admin token)"; None for a change monotui did not make. The audit
        log is read once for all of them, and only when one of them is a toggle."""
        toggles = [c.kind in (FlagChangeKind.ENABLED, FlagChangeKind.DISABLED) for c in changes]
        if not any(toggles):
            return [None] * len(changes)
        records = list(reversed(self.audit.read(tail_bytes=OWN_TOGGLE_TAIL_BYTES)))
        return [self._own_toggle(records, source, c) if toggle else None
                for c, toggle in zip(changes, toggles, strict=True)]

    @staticmethod
    def _own_toggle(records: Sequence[dict[str, Any]], source: str, change: FlagChange) -> str | None:
        action = "flag-on" if change.kind is FlagChangeKind.ENABLED else "flag-off"
        for record in records:
            flag = record.get("flag")
            if (record.get("action") != action or record.get("source") != source or not isinstance(flag, dict)
                    or record.get("outcome") not in ("intent", "done", "unknown")
                    or (flag.get("name"), flag.get("project"), flag.get("environment"))
                    != (change.flag, change.project, change.environment)):
                continue
            try:
                when = datetime.fromisoformat(str(record.get("time")))
            except ValueError:
                continue
            if when.tzinfo is None or abs((change.time - when).total_seconds()) > OWN_TOGGLE_WINDOW_S:
                continue
            user = change.actor or "?"
            token = f"{user} token" if user in ("admin", "admin-token") else f"Unleash user {user}"
            return f"{clean(str(record.get('actor') or '?'), 120)} via monotui ({clean(token, 120)})"
        return None

    def others_acted(self, source: str, rollout: Rollout, now: datetime | None = None) -> list[str]:
        """What anyone but this operator did to this rollout in the last minutes, newest first ("alice@bastion-2
        paused this 40 s ago: 'investigating'"): every confirmation says it (engine/others.py)."""
        return acted_by_others(self.state.recent_events(source, rollout.service), source=source,
                               rollout_id=rollout.id, me=self.settings.actor, now=now or datetime.now(UTC))

    def trail_unforwarded(self) -> int:
        """Audit records the team's syslog has not received because sending failed (0 while it keeps up, and
        without `audit_syslog`): they wait in the local file and are sent once the receiver is back."""
        forwarder = self.audit.forwarder
        if forwarder is None or forwarder.last_error is None:
            return 0
        return forwarder.pending

    async def aclose(self) -> None:
        await asyncio.gather(*(p.aclose() for p in self.providers.values()), return_exceptions=True)
        if self.audit.forwarder is not None:  # what is left stays in the file for the next run
            await asyncio.to_thread(self.audit.forwarder.close)

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
