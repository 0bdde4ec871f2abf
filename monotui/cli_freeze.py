"""`monotui freeze` and `monotui unfreeze` (engine/freeze.py): the plan printed whole — every rollout it pauses or
resumes —, one confirmation, then every step through the action pipeline, each outcome on its own line.

Exit status: 0 every step done; 1 a step refused, failed or with an unknown outcome (said line by line), or nothing
in scope; 2 a usage problem (an unknown source or service, missing confirmation), with nothing sent.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from monotui.cli_actions import EXIT_FAILED, EXIT_OK, EXIT_USAGE, bad_request, confirm, shown
from monotui.config import Settings
from monotui.engine.core import Engine
from monotui.owners import owner_line


@dataclass(frozen=True)
class FreezeRequest:
    unfreeze: bool
    services: tuple[str, ...] = ()
    source: str | None = None
    reason: str | None = None
    yes: bool = False


def _fail(message: str, code: int) -> int:
    print(f"monotui: {message}", file=sys.stderr)
    return code


async def run_freeze(settings: Settings, request: FreezeRequest) -> int:
    if problem := bad_request(settings, request.source, request.reason):
        return _fail(problem, EXIT_USAGE)
    engine = Engine(settings)
    try:
        await engine.refresh_once()
        return await _run(engine, request)
    finally:
        await engine.aclose()


async def _run(engine: Engine, request: FreezeRequest) -> int:
    if request.unfreeze:
        plan = engine.plan_unfreeze(request.source)
        if not plan.sources:
            return _fail("nothing to unfreeze: no freeze is held" + (
                f" in source {request.source}" if request.source else ""), EXIT_FAILED)
    else:
        known = {r.service for _, r in engine.state.iter_rollouts()}
        unknown = [s for s in request.services if s not in known]
        if unknown:
            return _fail(f"--service: no rollout for {', '.join(repr(shown(s)) for s in unknown)}"
                         + (f" in source {request.source}" if request.source else ""), EXIT_USAGE)
        plan = engine.plan_freeze(request.source, list(request.services))
        if not plan.sources:
            return _fail("nothing to freeze: no source in scope takes rollout actions", EXIT_FAILED)
    for line in plan.lines():
        print(shown(line, 500))
    for service in dict.fromkeys(step.rollout.service for step in plan.steps):  # who owns what it acts on
        print(f"  {shown(service)}: {shown(owner_line(engine.owner(service)))}")
    verb = plan.action
    confirmed_by: str | None = None
    if not any(engine.read_only(sp.source) for sp in plan.sources):  # read-only: the pipeline refuses, audited
        confirmed_by, problem = confirm(verb, f"{verb} production", protected=False, yes=request.yes,
                                        confirm_name=None)
        if confirmed_by is None:
            if problem is None:
                print("Cancelled. Nothing was sent.")
                return EXIT_FAILED
            return _fail(f"refused: {problem}. Nothing was sent.", EXIT_USAGE)
    result = await engine.execute_freeze(plan, request.reason, confirmed_by=confirmed_by)
    out = sys.stdout if result.ok else sys.stderr
    for line in result.lines:
        print(shown(line, 1000), file=out)
    if result.audit_error:
        print(f"monotui: WARNING: not every outcome is in the audit log: {shown(result.audit_error)}",
              file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_FAILED
