"""`monotui history SERVICE` (a rollout's revisions, newest first, with how each ended) and `monotui diff SERVICE
[FROM [TO]]` (what changed between two revisions, unified-diff style; by default the stable revision against the
current one). Colour only when stdout is a terminal and NO_COLOR is not set; the +/- signs are always there.

Exit status: 0 shown; 1 no such rollout or revision, or the source cannot list revisions now; 2 a usage problem
(an unknown source, a name that matches several rollouts, a revision that is not a number).
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import Any

from monotui.cli_actions import EXIT_FAILED, EXIT_OK, EXIT_USAGE, find_targets, shown
from monotui.config import Settings
from monotui.engine import revisions as engine_revisions
from monotui.engine.core import Engine
from monotui.formats import age
from monotui.models import Rollout, as_json
from monotui.providers.base import ProviderError
from monotui.revisions import ENDING_WORDS, Diff, Ending, Revision, default_pair, diff, pick, previous
from monotui.text import clean

MAX_IMAGES = 20  # images named on a revision's line; the rest are counted (--json has every one)
_COLOURS = {"-": "\x1b[31m", "+": "\x1b[32m", "~": "\x1b[33m", "head": "\x1b[1m"}
_RESET = "\x1b[0m"


def _fail(message: str, code: int) -> int:
    print(f"monotui: {message}", file=sys.stderr)
    return code


def use_colour(stream: Any = None) -> bool:
    stream = stream if stream is not None else sys.stdout
    return "NO_COLOR" not in os.environ and bool(getattr(stream, "isatty", lambda: False)())


def revision_number(text: str) -> int | None:
    """`12` or `r12` as a revision number (None: neither)."""
    digits = text[1:] if text[:1] in ("r", "R") else text
    return int(digits) if digits.isascii() and digits.isdigit() else None


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value is not None else "?"


def _live_for(revision: Revision, now: datetime) -> str:
    if revision.live_from is None:
        return "?"
    end = revision.live_until if revision.ended is not Ending.LIVE else now
    return age((end - revision.live_from).total_seconds()) if end is not None else "?"


def history_lines(revisions: list[Revision], now: datetime) -> list[str]:
    """One line per revision (and one more for why it ended), server text made visible."""
    states = [ENDING_WORDS[r.ended] + (f" ({marks})" if (marks := " ".join(
        m for m, on in (("stable", r.stable), ("current", r.current)) if on)) else "") for r in revisions]
    width = max([16, *map(len, states)])  # "auto-rolled back", "live (stable current)": the column as wide as needed
    lines = [f"{'REV':<6} {'VERSION':<18} {'ENDED':<{width}} {'LIVE FROM':<16} {'FOR':>5}  {'COMMIT':<9} AUTHOR"]
    for r, state in zip(revisions, states, strict=True):
        lines.append(f"{'r' + str(r.revision):<6} {shown(r.version, 18):<18} {state:<{width}} {_when(r.live_from):<16} "
                     f"{_live_for(r, now):>5}  {shown(r.commit, 9):<9} {shown(r.author, 40)}")
        details = []
        if r.commit_message:
            details.append(shown(r.commit_message, 200))
        if r.images and (not r.version or len(r.images) > 1):
            more = f" and {len(r.images) - MAX_IMAGES} more" if len(r.images) > MAX_IMAGES else ""
            details.append("images: " + ", ".join(shown(i, 160) for i in r.images[:MAX_IMAGES]) + more)
        if r.end_reason:
            details.append(("why: " if r.ended is not Ending.LIVE else "now: ") + shown(r.end_reason, 300)
                           + (f" (by {shown(r.ended_by, 60)})" if r.ended_by else ""))
        lines += [f"       {d}" for d in details]
    return lines


def diff_lines(found: Diff, colour: bool) -> list[str]:
    """The diff as lines: the two headers, then one line per change; with `colour`, ANSI colours around them."""
    def paint(kind: str, text: str) -> str:
        return f"{_COLOURS[kind]}{text}{_RESET}" if colour else text

    old, new = found.header
    out = [paint("head", shown(old, 200)), paint("head", shown(new, 200))]
    if not found.changed:
        out.append("  (no difference in what the source gives)")
    for line in found.lines:
        text = shown(line.text(), 600)
        out.append(paint(line.sign, text) if line.sign in _COLOURS else text)
    return out


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return clean(value, 2000)
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    if isinstance(value, dict):
        return {clean(k, 200): _cleaned(v) for k, v in value.items()}
    return value


async def _target(settings: Settings, name: str, source: str | None) -> tuple[Engine, str, Rollout] | int:
    if not settings.sources:
        return _fail("no source configured (see config.example.toml)", EXIT_USAGE)
    if source is not None and source not in {s.name for s in settings.sources}:
        return _fail(f"--source: no source named {shown(source)!r}", EXIT_USAGE)
    engine = Engine(settings)
    try:
        await engine.refresh_once()
        matches = find_targets(engine, name, source)
    except BaseException:
        await engine.aclose()
        raise
    if len(matches) == 1:
        return engine, matches[0][0], matches[0][1]
    await engine.aclose()
    if not matches:
        return _fail(f"no rollout for service {shown(name)!r}" + (f" in source {source!r}" if source else ""),
                     EXIT_FAILED)
    listed = "\n".join(f"  {shown(r.id)}  (service {shown(r.service)}, source {s})" for s, r in matches)
    return _fail(f"{shown(name)!r} matches {len(matches)} rollouts:\n{listed}\npass the rollout id (and --source)",
                 EXIT_USAGE)


async def run_history(settings: Settings, name: str, source: str | None = None, json_output: bool = False) -> int:
    found = await _target(settings, name, source)
    if isinstance(found, int):
        return found
    engine, source_name, rollout = found
    try:
        listed = await engine_revisions.read(engine, source_name, rollout.id)
    except ProviderError as e:
        return _fail(f"{shown(rollout.service)}: cannot list revisions: {shown(e.message, 400)}", EXIT_FAILED)
    finally:
        await engine.aclose()
    if json_output:
        data = {"source": source_name, "rollout": rollout.id, "service": rollout.service,
                "environment": rollout.environment,
                "revisions": [as_json(r) for r in listed.revisions]}
        from monotui.render.inert import pretty

        print(pretty(_cleaned(data)))
        return EXIT_OK
    print(f"{shown(rollout.service)} in {shown(rollout.environment)} (source {source_name}): "
          f"{len(listed.revisions)} revisions, newest first")
    for line in history_lines(listed.revisions, datetime.now(UTC)):
        print(line)
    return EXIT_OK


async def run_diff(settings: Settings, name: str, old: str | None = None, new: str | None = None,
                   source: str | None = None) -> int:
    numbers = [revision_number(v) if v is not None else None for v in (old, new)]
    for given, number in zip((old, new), numbers, strict=True):
        if given is not None and number is None:
            return _fail(f"{shown(given)!r} is not a revision (a number, as 12 or r12)", EXIT_USAGE)
    found = await _target(settings, name, source)
    if isinstance(found, int):
        return found
    engine, source_name, rollout = found
    try:
        listed = (await engine_revisions.read(engine, source_name, rollout.id)).revisions
    except ProviderError as e:
        return _fail(f"{shown(rollout.service)}: cannot list revisions: {shown(e.message, 400)}", EXIT_FAILED)
    finally:
        await engine.aclose()
    a: Revision | None
    b: Revision | None
    if numbers[0] is None:
        pair = default_pair(listed)
        if pair is None:
            return _fail(f"{shown(rollout.service)}: fewer than two revisions to compare", EXIT_FAILED)
        a, b = pair
    else:
        a = pick(listed, numbers[0])
        wanted_new = numbers[1]
        b = (pick(listed, wanted_new) if wanted_new is not None
             else next((r for r in listed if r.current), listed[0] if listed else None))
        missing = [n for n, r in ((numbers[0], a), (wanted_new, b)) if n is not None and r is None]
        if missing or a is None or b is None:
            known = ", ".join(f"r{r.revision}" for r in listed) or "none"
            return _fail(f"{shown(rollout.service)} has no revision r{missing[0] if missing else '?'} "
                         f"(it has {known})", EXIT_FAILED)
    if a is None or b is None:
        return EXIT_FAILED
    if b is a and (before := previous(listed, a)) is not None:
        a = before
    for line in diff_lines(diff(a, b, listed), use_colour()):
        print(line)
    return EXIT_OK
