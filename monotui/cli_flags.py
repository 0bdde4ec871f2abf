"""Feature flags from the command line: `monotui flags` lists every flag of the flag sources once, and `monotui
flag off|on FLAG` is the kill switch, with the same rules as rollout actions (cli_actions.py): the one flag meant
or a list of the candidates, a prompt that names what changes, `--yes` plus `--confirm-name` for a protected flag,
read-only refused, the same audit log.

Exit status: 0 ok (done); 1 refused, failed or outcome unknown, no such flag, or a flag source unreachable; 2 a
usage problem (ambiguous name, missing confirmation, no flag source), with nothing sent.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from monotui.cli_actions import (
    BAD_REASON,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    _fail,
    _warn_audit,
    confirm,
    shown,
    valid_reason,
)
from monotui.colour_env import no_color_asked
from monotui.config import Settings
from monotui.engine.core import Engine
from monotui.models import Flag, as_json
from monotui.names import canonical
from monotui.owners import owner_line


@dataclass(frozen=True)
class FlagRequest:
    enabled: bool  # `flag on` or `flag off`
    name: str
    source: str | None = None
    reason: str | None = None
    yes: bool = False
    confirm_name: str | None = None
    project: str | None = None  # `--project`: the flag's project, when two projects have a flag of that name


def _flag_settings(settings: Settings, source: str | None) -> Settings | str:
    """The settings narrowed to `source` when given, or what is wrong."""
    if source is None:
        return settings
    try:
        return settings.model_copy(update={"sources": [settings.source(source)]})
    except KeyError:
        return f"--source: no source named {shown(source)!r}"


def _source_errors(engine: Engine) -> list[str]:
    return [f"{name}: {shown(engine.state.status(name).error or '')}" for name in engine.flag_sources()
            if engine.state.status(name).state == "error"]


def _no_flag_source(source: str | None) -> int:
    """The usage error of `flags` and `flag` when no flag source answers to the settings (or to `--source`)."""
    return _fail("no flag source configured (a source of kind \"unleash\": see docs/flags.md)"
                 if source is None else f"--source: {shown(source)} is not a flag source", EXIT_USAGE)


# ---- monotui flags ------------------------------------------------------------------------------------------


async def run_flags(settings: Settings, json_output: bool = False, source: str | None = None) -> int:
    narrowed = _flag_settings(settings, source)
    if isinstance(narrowed, str):
        return _fail(narrowed, EXIT_USAGE)
    engine = Engine(narrowed)
    try:
        names = engine.flag_sources()
        if not names:
            return _no_flag_source(source)
        updates = await engine.refresh_once(names)
    finally:
        await engine.aclose()
    now = datetime.now(UTC)
    if json_output:
        from monotui.render.inert import inert_json

        print(inert_json(flags_json(engine, now)))
    else:
        print_flags(engine, now)
    return EXIT_OK if all(u.ok for u in updates) else EXIT_FAILED


def stale_marker(flag: Flag) -> str:
    return "stale" if flag.stale else "potentially stale" if flag.potentially_stale else ""


def flags_json(engine: Engine, now: datetime) -> dict[str, Any]:
    sources = [{"name": name, "state": engine.state.status(name).state, "error": engine.state.status(name).error,
                "read_only": engine.read_only(name)} for name in engine.flag_sources()]
    flags = []
    for source, flag in engine.state.all_flags():
        item = as_json(flag)
        item["source"] = source
        item["protected"] = engine.flag_protected(flag)
        flags.append(item)
    # a server's text is sanitised as it is printed (render.inert.inert_json): `jq -r` prints it to a terminal
    return {"generated_at": now.isoformat(), "sources": sources, "flags": flags}


def _when(flag: Flag, now: datetime) -> str:
    change = flag.last_change
    if change is None:
        return ""
    from monotui.formats import since

    return f"{change.summary} by {change.actor or '?'}, {since(change.time, now)} ago"


def print_flags(engine: Engine, now: datetime) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from monotui.render.text import plain

    width = None if sys.stdout.isatty() else 200  # piped output keeps whole lines
    console = Console(highlight=False, no_color=no_color_asked() or None, width=width)
    for name in engine.flag_sources():
        status = engine.state.status(name)
        line = Text()
        line.append_text(plain(name, style="bold"))
        line.append(": ")
        if status.state == "ok":
            line.append("ok", style="green")
        else:
            line.append(f"{status.state}: ", style="bold red")
            line.append_text(plain(status.error or "", limit=300))
        console.print(line)
    table = Table(box=None, header_style="bold", pad_edge=False)
    multi = len(engine.flag_sources()) > 1
    for label in (["Source"] if multi else []) + ["Service", "Project", "Flag", "Production", "Strategies",
                                                    "Last change", "Stale"]:
        table.add_column(label, no_wrap=label not in ("Strategies", "Last change"))
    for source, flag in engine.state.all_flags():
        state = Text("on", style="bold green") if flag.enabled else Text("off", style="dim")
        table.add_row(*((plain(source),) if multi else ()), plain(flag.service or "—"), plain(flag.project),
                      plain(flag.name), state, plain(", ".join(flag.strategies) or "—"), plain(_when(flag, now)),
                      Text(stale_marker(flag), style="yellow"))
    console.print(table)


# ---- monotui flag off|on FLAG -------------------------------------------------------------------------------


def find_flags(engine: Engine, name: str, project: str | None = None) -> list[tuple[str, Flag]]:
    """Flags named `name` exactly, or as monotui shows the name (invisible characters as `<U+200B>`, so a name
    copied from a listing or an ambiguity message selects its flag); failing that, canonically (a look-alike is
    found, and shown with its invisible characters). `project` narrows to one Unleash project."""
    flags = [(s, f) for s, f in engine.state.all_flags()
             if project is None or project in (f.project, shown(f.project))]
    exact = [(s, f) for s, f in flags if f.name == name]
    if exact:
        return exact
    as_shown = [(s, f) for s, f in flags if shown(f.name) == name]
    if as_shown:
        return as_shown
    wanted = canonical(name)
    return [(s, f) for s, f in flags if canonical(f.name) == wanted]


def flag_ambiguity(name: str, enabled: bool, matches: list[tuple[str, Flag]]) -> str:
    lines = [f"{shown(name)!r} matches {len(matches)} flags:"]
    lines += [f"  {shown(f.name)}  (project {shown(f.project)}, source {s})" for s, f in matches]
    first_source, first = matches[0]
    # quoted for a POSIX shell: a shown name may hold `<U+200B>`, which the lookup understands
    example = shlex.join(["monotui", "flag", "on" if enabled else "off", shown(first.name), "--source",
                          first_source, "--project", shown(first.project)])
    lines.append(f"pass the name as shown with --source and --project to pick, e.g. `{example}`")
    return "\n".join(lines)


async def run_flag(settings: Settings, request: FlagRequest) -> int:
    narrowed = _flag_settings(settings, request.source)
    if isinstance(narrowed, str):
        return _fail(narrowed, EXIT_USAGE)
    if not valid_reason(request.reason):
        return _fail(BAD_REASON, EXIT_USAGE)
    engine = Engine(narrowed)
    try:
        names = engine.flag_sources()
        if not names:
            return _no_flag_source(request.source)
        await engine.refresh_once(names)
        return await _switch(engine, request)
    finally:
        await engine.aclose()


async def _switch(engine: Engine, request: FlagRequest) -> int:
    matches = find_flags(engine, request.name, request.project)
    if not matches:
        errors = _source_errors(engine)
        return _fail(f"no flag named {shown(request.name)!r}"
                     + (f" (unreachable: {'; '.join(errors)})" if errors else ""), EXIT_FAILED)
    if len(matches) > 1:
        return _fail(flag_ambiguity(request.name, request.enabled, matches), EXIT_USAGE)
    source, flag = matches[0]
    plan = engine.plan_flag(source, flag, request.enabled)
    if flag.enabled == request.enabled:
        why = f"flag {shown(flag.name)} is already {plan.to_state} in {shown(flag.environment)}"
        _warn_audit(await engine.refuse_flag(plan, why, request.reason))
        return _fail(f"refused: {why}. Nothing was sent.", EXIT_FAILED)

    print(shown(plan.summary(), 500))
    print(f"  strategies: {shown(', '.join(plan.strategies) or 'none')}")
    print(f"  last changed: {shown(plan.last_changed)}")
    print(f"  {plan.effect}")
    print(f"  {shown(owner_line(engine.owner(plan.flag.service) if plan.flag.service else None))}")
    confirmed_by = "read-only"  # execute_flag refuses it, audited, without asking anything
    if not engine.read_only(source):
        how, problem = confirm(flag.name, f"turn {plan.to_state} flag {shown(flag.name)}", protected=plan.protected,
                               yes=request.yes, confirm_name=request.confirm_name, noun="flag")
        if how is None:
            if problem is None:
                print("Cancelled. Nothing was sent.")
                return EXIT_FAILED
            _warn_audit(await engine.refuse_flag(plan, problem, request.reason))
            return _fail(f"refused: {problem}. Nothing was sent.", EXIT_USAGE)
        confirmed_by = how
    outcome = await engine.execute_flag(plan, request.reason, confirmed_by=confirmed_by)
    print(shown(outcome.message(), 500), file=sys.stdout if outcome.ok else sys.stderr)
    return EXIT_OK if outcome.ok else EXIT_FAILED

