"""The freeze: stop the line during an incident. A plan pair of the one action pipeline (engine/pipeline.py).

`monotui freeze` lists every progressing rollout in scope (every deploy source, one source, or some services),
each pause pinned as any action. Executing it, per source: the freeze is recorded in the audit log (action
"freeze": who, why, when, scope) and in a small state file beside it (`<audit_log>.freeze`), which every monotui on
this host reads, so each honours the freeze and `unfreeze` knows what this freeze paused; where the source's server
holds a freeze itself (the deploy API's /v1/freeze: `Freezer`), it is set there too, and every client is held.
Then every listed rollout is paused through the rollout-action pipeline (each its own audited, pinned pause: a
rollout that changed since it was listed is refused, not acted on).

While frozen, promote, promote-full and resume are refused before anything is sent ("frozen since 10:42 by alice:
checkout errors"); pause, abort and rollback stay allowed: mitigation is never blocked. A freeze another operator
set on the server is honoured the same way (read at each poll).

`monotui unfreeze` lifts the freeze (the server's and the state file's) and resumes only what this freeze paused,
each pinned: still paused, at the revision it was paused at.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monotui.action_kinds import HELD_BY_FREEZE, ActionKind
from monotui.config import Settings
from monotui.engine.actions import ActionPlan
from monotui.engine.audit import AuditRecord, Stage
from monotui.engine.outcomes import ActionOutcome
from monotui.engine.pipeline import ActionPipeline, Sender
from monotui.engine.state import ProductionState
from monotui.models import Freeze, Phase, Rollout
from monotui.providers import ProviderError, Source
from monotui.providers.base import Freezer, RolloutActor
from monotui.text import clean

log = logging.getLogger(__name__)

HELD = HELD_BY_FREEZE  # refused while frozen (the action table says which)
NOT_HELD = ("other clients (kubectl, Argo CD, the Argo Rollouts dashboard, another host's monotui) are not held: "
            "this source has no server-side freeze")


def freeze_path(audit_log: Path) -> Path:
    return audit_log.with_name(audit_log.name + ".freeze")


@dataclass(frozen=True)
class Hold:
    """One source's freeze as monotui honours it."""

    source: str
    since: datetime | None
    actor: str
    reason: str
    services: tuple[str, ...] = ()  # empty: every service
    server: bool = False  # held by the source's server: every client is held

    def covers(self, service: str | None) -> bool:
        return not self.services or service is None or service in self.services

    def covers_all(self, other: Hold) -> bool:
        """Whether this hold covers every service `other` covers."""
        return not self.services or (bool(other.services) and set(other.services) <= set(self.services))

    @property
    def since_text(self) -> str:
        return self.since.astimezone().strftime("%H:%M") if self.since else "?"

    def text(self) -> str:
        """frozen since 10:42 by alice@bastion-1: checkout errors"""
        said = f": {clean(self.reason, 200)}" if self.reason else ""
        return f"frozen since {self.since_text} by {clean(self.actor, 80)}{said}"

    def as_json(self) -> dict[str, Any]:
        return {"frozen": True, "since": self.since.isoformat() if self.since else None,
                "actor": clean(self.actor, 200), "reason": clean(self.reason, 500), "services": list(self.services),
                "held_by_server": self.server}


class FreezeFile:
    """`<audit_log>.freeze`: per source, the freeze this host holds and what it paused. Read again whenever the
    file changed (another monotui froze or unfroze); written whole and renamed into place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._data: dict[str, dict[str, Any]] = {}

    def entries(self) -> dict[str, dict[str, Any]]:
        try:
            st = os.stat(self.path)
        except OSError:
            self._seen, self._data = None, {}
            return {}
        seen = (st.st_mtime_ns, st.st_size)
        if seen != self._seen:
            self._seen = seen
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                sources = data.get("sources") if isinstance(data, dict) else None
                self._data = {k: v for k, v in (sources or {}).items() if isinstance(v, dict)}
            except (OSError, ValueError, AttributeError):
                log.warning("%s cannot be read: no freeze is honoured from it", self.path)
                self._data = {}
        return self._data

    def put(self, source: str, entry: dict[str, Any] | None) -> None:
        """Set (or with None remove) one source's entry (OSError when it cannot be written)."""
        data = dict(self.entries())
        if entry is None:
            data.pop(source, None)
        else:
            data[source] = entry
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.name}.{uuid.uuid4().hex[:8]}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"sources": data}, f, ensure_ascii=False, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._seen = None  # read again next time


def _hold_of_entry(source: str, entry: Mapping[str, Any]) -> Hold:
    try:
        since = datetime.fromisoformat(str(entry.get("since")))
    except ValueError:
        since = None
    services = entry.get("services") if isinstance(entry.get("services"), list) else []
    return Hold(source, since, str(entry.get("actor") or "?"), str(entry.get("reason") or ""),
                tuple(str(s) for s in services or []), bool(entry.get("server")))


def hold_of_server(source: str, freeze: Freeze) -> Hold | None:
    if not freeze.frozen:
        return None
    return Hold(source, freeze.since, freeze.actor, freeze.reason, tuple(freeze.services), server=True)


@dataclass(frozen=True)
class SourceFreezePlan:
    """Freezing (or unfreezing) one source: a Mutation of the pipeline."""

    source: str
    action: str  # "freeze" or "unfreeze", as in the audit log
    services: tuple[str, ...]  # empty: every service
    server: bool  # the source's server holds the freeze itself
    rollouts: tuple[str, ...]  # the rollouts it pauses (freeze) or resumes (unfreeze)
    idempotency_key: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def guard(self) -> str:
        return "freeze"

    @property
    def resend(self) -> bool:
        return False

    def audit_record(self, stage: Stage, *, actor: str, reason: str | None, error: str | None,
                     confirmed_by: str | None, automatic: bool = False, answer: Any = None, now: str | None = None,
                     read_back: bool = False) -> AuditRecord:
        scope: dict[str, object] = {"services": list(self.services) or "every service", "held_by_server": self.server,
                 "rollouts": list(self.rollouts)}
        return AuditRecord(
            actor=actor, source=self.source, environment="", service=",".join(self.services), rollout="",
            action=self.action, from_revision=None, to_revision=None, outcome=stage, reason=reason or None,
            error=error, idempotency_key=self.idempotency_key, confirmed_by=confirmed_by, shown=scope)


@dataclass(frozen=True)
class FreezePlan:
    """What a freeze (or unfreeze) confirmation shows, and exactly what executing it does."""

    action: str  # "freeze" or "unfreeze"
    sources: tuple[SourceFreezePlan, ...]
    steps: tuple[ActionPlan, ...]  # the pauses (freeze) or resumes (unfreeze), each pinned
    skipped: tuple[str, ...] = ()  # unfreeze: what the freeze paused that will not be resumed, and why
    services: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """The plan in words, one line each: the sources, then every rollout it acts on."""
        verb = "pause" if self.action == "freeze" else "resume"
        scope = ", ".join(self.services) if self.services else "every service"
        out = []
        for sp in self.sources:
            how = "held by the server: no new deploy, promotions refused for every client" if sp.server else \
                f"held by monotui on this host only; {NOT_HELD}"
            out.append(f"{self.action} source {sp.source} ({scope}): {how}" if self.action == "freeze" else
                       f"unfreeze source {sp.source}")
        for step in self.steps:
            r = step.rollout
            out.append(f"  {verb} {clean(r.service, 80)} ({step.source}) at r{r.revision} {clean(r.version, 40)}"
                       + (f", {r.set_weight}% of traffic" if r.set_weight is not None else ""))
        if not self.steps:
            out.append(f"  nothing to {verb}")
        out += [f"  not resumed: {s}" for s in self.skipped]
        return out


@dataclass(frozen=True)
class FreezeResult:
    action: str
    lines: list[str]
    ok: bool
    audit_error: str | None = None

    def message(self) -> str:
        return "\n".join(self.lines)


class Freezes:
    def __init__(self, settings: Settings, providers: Mapping[str, Source], state: ProductionState,
                 pipeline: ActionPipeline, execute: Callable[..., Any], plan_action: Callable[..., ActionPlan],
                 file: FreezeFile) -> None:
        self.settings = settings
        self.providers = providers
        self.state = state
        self.pipeline = pipeline
        self._execute = execute  # the engine's rollout action: Engine.execute
        self._plan_action = plan_action  # Engine.plan
        self.file = file

    # ---- what is frozen ----

    def _server(self, source: str) -> bool:
        provider = self.providers.get(source)
        return isinstance(provider, Freezer) and provider.server_freeze is not False

    def holds(self) -> list[Hold]:
        """Every freeze honoured now: this host's (the state file) and the servers' (read at each poll)."""
        out: list[Hold] = []
        local = self.file.entries()
        for source in self.providers:
            seen = self.state.freezes.get(source)
            server = hold_of_server(source, seen) if seen is not None else None
            here = _hold_of_entry(source, local[source]) if source in local else None
            if server is not None:
                out.append(server)
            # this host's freeze stays held beside a server's that covers less (another operator's freeze of
            # some services, set after this host's freeze could not reach the server)
            if here is not None and (server is None or not server.covers_all(here)):
                out.append(here)
        return out

    def hold(self, source: str, service: str | None = None) -> Hold | None:
        for hold in self.holds():
            if hold.source == source and hold.covers(service):
                return hold
        return None

    def refusal(self, source: str, service: str | None, kind: ActionKind) -> str | None:
        """Why `kind` is refused on `service` now (None: not held)."""
        if kind not in HELD:
            return None
        hold = self.hold(source, service)
        return None if hold is None else hold.text()

    # ---- planning ----

    def scope(self, source: str | None) -> list[str]:
        return [name for name, p in self.providers.items()
                if isinstance(p, RolloutActor) and (source is None or name == source)]

    def moving(self, name: str, services: tuple[str, ...] = ()) -> list[Rollout]:
        """The rollouts of source `name` a freeze pauses: progressing, and not already asked to pause (Argo
        Rollouts: a pause its controller has not yet seen), of `services` (empty: every one)."""
        if ActionKind.PAUSE not in getattr(self.providers[name], "capabilities", ()):
            return []
        return sorted((r for r in self.state.sources[name].rollouts.values()
                       if r.phase is Phase.PROGRESSING and not r.pause_reason
                       and (not services or r.service in services)), key=lambda r: r.service)

    def anything_moving(self) -> bool:
        return any(self.moving(name) for name in self.scope(None))

    def plan_freeze(self, source: str | None = None, services: list[str] | None = None) -> FreezePlan:
        wanted = tuple(dict.fromkeys(services or []))
        plans, steps = [], []
        for name in self.scope(source):
            here: tuple[str, ...] = ()
            if wanted:
                known = {r.service for r in self.state.sources[name].rollouts.values()}
                here = tuple(s for s in wanted if s in known)
                if not here:
                    continue
            progressing = self.moving(name, here)
            steps += [self._plan_action(name, r, ActionKind.PAUSE) for r in progressing]
            plans.append(SourceFreezePlan(name, "freeze", here, self._server(name), tuple(r.id for r in progressing)))
        return FreezePlan("freeze", tuple(plans), tuple(steps), services=wanted)

    def plan_unfreeze(self, source: str | None = None) -> FreezePlan:
        local = self.file.entries()
        plans, steps, skipped = [], [], []
        for name in self.scope(source):
            server = self.state.freezes.get(name)
            if name not in local and (server is None or not server.frozen):
                continue
            entry = local.get(name, {})
            resumes = []
            for item in entry.get("paused") or []:
                if not isinstance(item, dict):
                    continue
                rid, service, revision = str(item.get("id")), str(item.get("service")), item.get("revision")
                now = self.state.rollout(name, rid)
                if now is None:
                    skipped.append(f"{clean(service, 80)} ({name}): no longer listed")
                elif now.revision != revision:
                    skipped.append(f"{clean(service, 80)} ({name}): now at r{now.revision}, paused at r{revision}")
                elif now.phase is not Phase.PAUSED and not now.pause_reason:
                    skipped.append(f"{clean(service, 80)} ({name}): now {now.phase.value}, no longer paused")
                else:
                    resumes.append(self._plan_action(name, now, ActionKind.RESUME))
            steps += resumes
            services = tuple(str(s) for s in entry.get("services") or [])
            plans.append(SourceFreezePlan(name, "unfreeze", services, self._server(name),
                                          tuple(p.rollout.id for p in resumes)))
        return FreezePlan("unfreeze", tuple(plans), tuple(steps), tuple(skipped))

    def target_changed(self, plan: FreezePlan) -> str | None:
        """The first listed rollout that changed since the plan was made (None: all as listed)."""
        for step in plan.steps:
            now = self.state.rollout(step.source, step.rollout.id)
            changed = "no longer listed" if now is None else step.pinned.differs(now)
            if changed:
                return f"{clean(step.rollout.service, 80)}: {changed}"
        return None

    # ---- sending ----

    async def _send(self, plan: SourceFreezePlan, reason: str | None) -> Freeze | None:
        if plan.action == "freeze":
            earlier = self.file.entries().get(plan.source) or {}  # frozen again: what it paused stays to resume
            entry = {"since": datetime.now(UTC).isoformat(timespec="seconds"), "actor": self.settings.actor,
                     "reason": reason or "", "services": list(plan.services), "server": False,
                     "paused": list(earlier.get("paused") or [])}
            self._write(plan.source, entry)  # held here first: whatever the server answers, this host holds it
            if not plan.server:
                return None
            provider = self.providers[plan.source]
            assert isinstance(provider, Freezer)
            freeze = await provider.set_freeze(self.settings.actor, reason, list(plan.services) or None)
            self._write(plan.source, {**entry, "server": True,
                                      "since": (freeze.since or datetime.now(UTC)).isoformat(timespec="seconds")})
            return freeze
        provider = self.providers[plan.source]
        lifted: Freeze | None = None
        if plan.server and isinstance(provider, Freezer):
            lifted = await provider.lift_freeze()
        self._write(plan.source, None)
        return lifted

    def _write(self, source: str, entry: dict[str, Any] | None) -> None:
        try:
            self.file.put(source, entry)
        except OSError as e:
            raise ProviderError("connection", f"the freeze file {self.file.path} cannot be written: "
                                f"{e.strerror or e}") from None

    def _apply(self, plan: SourceFreezePlan, freeze: Freeze | None) -> None:
        if freeze is not None:
            self.state.freezes[plan.source] = freeze

    async def execute(self, plan: FreezePlan, reason: str | None, *, confirmed_by: str | None) -> FreezeResult:
        """Freeze (or unfreeze) each source through the pipeline, then pause (or resume) each listed rollout
        through the rollout-action pipeline; every partial outcome is said."""
        lines: list[str] = []
        ok = True
        audit_error = None
        held: set[str] = set()
        freezing = plan.action == "freeze"
        for sp in plan.sources:
            result = await self.pipeline.run(
                sp, Sender(send=self._send, what="freeze", apply=self._apply), reason=reason,
                confirmed_by=confirmed_by, busy=f"another freeze change of source {sp.source} is still in flight")
            audit_error = audit_error or result.audit_error
            if result.outcome == "done":
                held.add(sp.source)
                if not freezing:
                    lines.append(f"source {sp.source}: unfrozen")
                elif sp.server:
                    lines.append(f"source {sp.source}: frozen on the server (no new deploy; promotions and resumes "
                                 "refused for every client)")
                else:
                    lines.append(f"source {sp.source}: frozen by monotui on this host; {NOT_HELD}")
            else:
                ok = False
                error = clean(result.error or "", 300)
                if freezing and result.sent and sp.source in self.file.entries():
                    lines.append(f"source {sp.source}: the server's freeze {result.outcome}: {error}. monotui "
                                 f"holds the freeze on this host; {NOT_HELD}")
                    held.add(sp.source)  # the state file holds it: the pauses still go
                else:
                    lines.append(f"source {sp.source}: {plan.action} {result.outcome}: {error}"
                                 + ("" if freezing else "; nothing of it is resumed"))
        paused: dict[str, list[dict[str, Any]]] = {}
        done = 0
        for step in plan.steps:
            if not freezing and step.source not in held:
                ok = False
                lines.append(f"{clean(step.rollout.service, 80)} ({step.source}): not resumed: the freeze of its "
                             "source is not lifted")
                continue
            outcome: ActionOutcome = await self._execute(step, reason, confirmed_by=confirmed_by)
            lines.append(outcome.message())
            audit_error = audit_error or outcome.audit_error
            if outcome.ok:
                done += 1
            else:
                ok = False
            if outcome.ok or outcome.outcome == "unknown":
                # kept for unfreeze, which resumes it only if it is paused at this revision then
                r = outcome.rollout or step.rollout
                paused.setdefault(step.source, []).append(
                    {"id": step.rollout.id, "service": step.rollout.service, "revision": r.revision})
        if freezing:
            for source, items in paused.items():  # what this freeze paused: unfreeze resumes these only
                entry = self.file.entries().get(source)
                if entry is not None:
                    try:
                        self.file.put(source, {**entry, "paused": [*(entry.get("paused") or []), *items]})
                    except OSError as e:
                        ok = False
                        lines.append(f"WARNING: what was paused in {source} cannot be kept in {self.file.path} "
                                     f"({e.strerror or e}): unfreeze will not resume it")
        verb = "paused" if freezing else "resumed"
        lines.append(f"{done} of {len(plan.steps)} rollout(s) {verb}" + ("" if ok else "; see above what was not"))
        lines += [f"not resumed: {s}" for s in plan.skipped]
        return FreezeResult(plan.action, lines, ok, audit_error)

    def status(self) -> dict[str, Any]:
        """Per source: its freeze (for `status --json`)."""
        out: dict[str, Any] = {}
        holds = {h.source: h for h in self.holds()}
        for source in self.scope(None):
            hold = holds.get(source)
            out[source] = hold.as_json() if hold else {"frozen": False, "held_by_server": None}
            out[source]["server_freeze"] = self._server(source)
        return out
