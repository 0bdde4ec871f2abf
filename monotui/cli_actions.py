"""One action from the command line (`monotui pause cart-api`): find the one rollout meant, refuse before sending
what cannot apply, confirm with the right friction, then execute through the engine (same audit log as the TUI).

Exit status: 0 done; 1 refused, failed or outcome unknown, or no such rollout; 2 a usage problem (ambiguous name,
missing confirmation), with nothing sent.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from monotui.action_kinds import ActionKind, action_spec
from monotui.config import Settings
from monotui.engine.actions import ActionPlan
from monotui.engine.core import ActionOutcome, Engine
from monotui.models import Rollout
from monotui.names import canonical, visible
from monotui.owners import owner_line
from monotui.text import clean

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class ActionRequest:
    kind: ActionKind
    name: str  # a service name or a rollout id
    source: str | None = None
    reason: str | None = None
    yes: bool = False
    confirm_name: str | None = None
    revision: int | None = None


def shown(value: str, limit: int = 300) -> str:
    """A server's string as printed: controls and invisible characters made visible."""
    return visible(clean(value, limit))


BAD_REASON = "--reason: not valid text in this terminal's encoding (an undecodable byte?). Nothing was sent."


def valid_reason(reason: str | None) -> bool:
    # a byte the terminal's encoding cannot decode arrives as a lone surrogate: say so, send nothing
    return reason is None or reason == reason.encode("utf-8", "replace").decode()


def _fail(message: str, code: int) -> int:
    print(f"monotui: {message}", file=sys.stderr)
    return code


def find_targets(engine: Engine, name: str, source: str | None) -> list[tuple[str, Rollout]]:
    """Rollouts whose service or id is `name` exactly; failing that, canonically (so a look-alike is found, and
    shown with its invisible characters)."""
    exact = engine.find(name, source)
    if exact:
        return exact
    wanted = canonical(name)
    return [(s, r) for s, r in engine.state.iter_rollouts()
            if (source is None or s == source) and wanted in (canonical(r.service), canonical(r.id))]


def ambiguity(name: str, kind: ActionKind, matches: list[tuple[str, Rollout]]) -> str:
    lines = [f"{shown(name)!r} matches {len(matches)} rollouts:"]
    lines += [f"  {shown(r.id)}  (service {shown(r.service)}, source {s}, {shown(r.environment)})"
              for s, r in matches]
    ids = [r.id for _, r in matches]
    first_source, first = matches[0]
    if len(set(ids)) == len(ids):
        lines.append(f"pass the rollout id, e.g. `monotui {kind.value} {shown(first.id)}`"
                     + (" (and --source NAME to pick the source)" if len({s for s, _ in matches}) > 1 else ""))
    else:
        lines.append(f"pass --source to pick, e.g. `monotui {kind.value} {shown(first.id)} --source {first_source}`")
    return "\n".join(lines)


def bad_request(settings: Settings, source: str | None, reason: str | None) -> str | None:
    """What is wrong with a mutating command's sources, --source or --reason, before anything is read (exit 2)."""
    if not settings.sources:
        return "no source configured (see config.example.toml)"
    if source is not None and source not in {s.name for s in settings.sources}:
        return f"--source: no source named {shown(source)!r}"
    return None if valid_reason(reason) else BAD_REASON


async def run_action(settings: Settings, request: ActionRequest) -> int:
    if problem := bad_request(settings, request.source, request.reason):
        return _fail(problem, EXIT_USAGE)
    engine = Engine(settings)
    try:
        await engine.refresh_once()
        engine.adopt_unresolved()  # an earlier run's unknown outcome: this command sends it again, same key
        return await _act(engine, request)
    finally:
        await engine.aclose()


async def _act(engine: Engine, request: ActionRequest) -> int:
    matches = find_targets(engine, request.name, request.source)
    if not matches:
        return _fail(f"no rollout for service {shown(request.name)!r}"
                     + (f" in source {request.source!r}" if request.source else ""), EXIT_FAILED)
    if len(matches) > 1:
        return _fail(ambiguity(request.name, request.kind, matches), EXIT_USAGE)
    source, rollout = matches[0]
    spec = action_spec(request.kind)
    plan = engine.plan(source, rollout, request.kind, request.revision)
    if request.revision is not None and not plan.resend:
        plan = await _named_revision(engine, source, rollout, plan, request.revision)

    # What cannot apply is refused before anything is sent or a meaningless plan is printed.
    if not engine.can(source, request.kind):
        why: str | None = f"source {source} cannot {spec.verb}"
    elif frozen := engine.frozen(source, rollout.service, request.kind):
        why = f"{frozen} (pause, abort and rollback stay allowed)"
    elif plan.resend or (request.kind is ActionKind.ROLLBACK and request.revision is not None):
        # a resend may find the rollout already changed by its first attempt; an explicit revision is the
        # server's to check
        why = None
    else:
        why = spec.why_not(rollout)
    if why is not None:
        refused = await engine.refuse(plan, why, request.reason)
        _warn_audit(refused)
        return _fail(f"refused: {shown(why)}. Nothing was sent.", EXIT_FAILED)

    print(shown(plan.summary(), 500))
    print(f"  {shown(plan.effect)}")
    print(f"  {shown(owner_line(engine.owner(rollout.service)))}")
    for line in engine.others_acted(source, rollout):  # someone else acted on it in the last minutes
        print(f"  WARNING: {shown(line)}")
    if plan.resend:
        print(f"  sent again: an earlier attempt's outcome is unknown; the same Idempotency-Key "
              f"({plan.idempotency_key[:12]}…) means it cannot act twice")
        if request.reason and request.reason.strip() != (plan.resend_reason or ""):
            print(f"  the request must be the same as the first: its reason "
                  f"{shown(plan.resend_reason or '(none)')!r} is sent, not --reason {shown(request.reason)!r}")
    confirmed_by: str | None = None
    if not engine.read_only(source):
        confirmed_by, problem = _confirm(plan, request)
        if confirmed_by is None:
            if problem is None:
                print("Cancelled. Nothing was sent.")
                return EXIT_FAILED
            _warn_audit(await engine.refuse(plan, problem, request.reason))
            return _fail(f"refused: {problem}. Nothing was sent.", EXIT_USAGE)
    outcome = await engine.execute(plan, request.reason, confirmed_by=confirmed_by)
    print(shown(outcome.message(), 500), file=sys.stdout if outcome.ok else sys.stderr)
    return EXIT_OK if outcome.ok else EXIT_FAILED


async def _named_revision(engine: Engine, source: str, rollout: Rollout, plan: ActionPlan,
                          revision: int) -> ActionPlan:
    """A rollback to `revision` named as the history names it (its version), as the TUI's history screen does; the
    plan as it was when the source lists no such revision or cannot list them now (the server checks it)."""
    from monotui.engine import revisions as engine_revisions
    from monotui.revisions import pick

    if plan.spec.kind is not ActionKind.ROLLBACK or not engine_revisions.lists_revisions(engine, source):
        return plan
    try:
        chosen = pick((await engine_revisions.read(engine, source, rollout.id)).revisions, revision)
    except engine_revisions.CannotList:
        return plan
    return engine_revisions.plan_rollback_to(engine, source, rollout, chosen) if chosen is not None else plan


def _confirm(plan: ActionPlan, request: ActionRequest) -> tuple[str | None, str | None]:
    return confirm(plan.rollout.service, f"{plan.spec.verb} {shown(plan.rollout.service)}", protected=plan.protected,
                   yes=request.yes, confirm_name=request.confirm_name)


def confirm(name: str, doing: str, *, protected: bool, yes: bool, confirm_name: str | None,
            noun: str = "service") -> tuple[str | None, str | None]:
    """(how it was confirmed, None) or (None, why not — None when the person said no). `name` is what a protected
    target's confirmation types, `doing` what the prompt says ("pause cart-api")."""
    typeable = shown(canonical(name))  # what to type: invisible characters left out (compared canonically)
    if confirm_name is not None and canonical(confirm_name) != canonical(name):
        return None, (f"--confirm-name {shown(confirm_name)!r} does not name {shown(name)!r} "
                      f"(pass --confirm-name {typeable})")
    if yes:
        if confirm_name is not None:
            return "yes-flag+confirm-name", None
        if protected:
            return None, f"{shown(name)} is a protected {noun}: with --yes, also pass --confirm-name {typeable}"
        return "yes-flag", None
    if not sys.stdin.isatty():
        needed = f"--yes --confirm-name {typeable}" if protected else "--yes"
        return None, f"confirmation needed: stdin is not a terminal (pass {needed})"
    expected = name if protected else "yes"
    try:
        answer = input(f"Type {shown(expected)!r} to {doing}: ")
    except EOFError:
        return None, None
    if protected:
        return ("typed-name", None) if canonical(answer) == canonical(name) else (None, None)
    return ("prompt", None) if answer.strip() == "yes" else (None, None)


def _warn_audit(outcome: ActionOutcome) -> None:
    if outcome.audit_error:
        print(f"monotui: WARNING: this refusal is not in the audit log: {shown(outcome.audit_error)}", file=sys.stderr)
