"""The `/` filter, parsed once per keystroke and then asked of every row.

The filter is one or more terms separated by spaces; a row is shown when it matches every term.
A term:

- `!term` inverts it: rows that do NOT match.
- `@name` (the `source` scope) or `ns:name` (the `namespace` scope): the term is asked of that one field only;
  SCOPES below is the table of scopes, one line each.
- `/expression/`, or a term with a regular-expression character in it (one of `^ $ * + ? ( ) [ ] { } | \\`),
  is a case-insensitive regular expression searched in each field (`^pay.*api$` is a whole field). A dot alone
  does not make a regular expression: `v2.3` stays text. An expression that does not compile is matched as plain
  text, and `problem` says why (the screen shows it).
- anything else is a case-insensitive substring of a field.

Without a scope, the fields are the service, status, version, author, environment, source, strategy, the rollout
id, and the words "suspect", "rolled back" or "auto …" of a row in that state.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from monotui.engine.attention import Attention
from monotui.engine.state import RolloutView

REGEX_CHARS = frozenset("^$*+?()[]{}|\\")


def namespace(view: RolloutView) -> str:
    """The Kubernetes namespace (the part of the rollout id before `/`, as Argo Rollouts sources name rows); for
    a source without namespaces, the rollout's environment."""
    rollout = view.rollout
    return rollout.id.split("/", 1)[0] if "/" in rollout.id else rollout.environment


@dataclass(frozen=True)
class Scope:
    prefix: str  # what the term starts with: "@", "ns:"
    name: str
    field: Callable[[RolloutView], str]
    help: str


# every scope the filter knows: one line each
SCOPES: tuple[Scope, ...] = (
    Scope("@", "source", lambda view: view.source, "@east: rows of the source named like east"),
    Scope("ns:", "namespace", namespace, "ns:payments: rows in that namespace (a deploy API's: environment)"),
    Scope("team:", "team", lambda view: view.owner.team if view.owner is not None and view.owner.team else "",
          "team:payments: rows whose owner's team contains payments (monotui/owners.py)"),
)


def fields(view: RolloutView) -> list[str]:
    r = view.rollout
    out = [r.service, r.phase.value, r.version, r.author, r.environment, view.source, r.strategy.value, r.id]
    if view.attention is Attention.SUSPECT:
        out.append("suspect")
    if view.attention is Attention.ROLLED_BACK:
        out.append("rolled back")
    move = view.platform_move
    if move is not None:
        out.append(f"auto {move.words} {move.actor}")
    return out


@dataclass(frozen=True)
class Term:
    text: str
    invert: bool
    scope: Scope | None
    pattern: re.Pattern[str] | None  # a regular expression; None: `needle` as a substring
    needle: str

    def matches(self, view: RolloutView) -> bool:
        values = [self.scope.field(view)] if self.scope is not None else fields(view)
        if self.pattern is not None:
            hit = any(self.pattern.search(v) for v in values)
        else:
            hit = any(self.needle in v.lower() for v in values)
        return hit != self.invert


def looks_like_regex(text: str) -> bool:
    return (len(text) >= 2 and text.startswith("/") and text.endswith("/")) or any(c in REGEX_CHARS for c in text)


def _term(text: str) -> tuple[Term, str | None]:
    raw = text
    invert = text.startswith("!") and len(text) > 1
    if invert:
        text = text[1:]
    scope = next((s for s in SCOPES if text.startswith(s.prefix) and len(text) > len(s.prefix)), None)
    if scope is not None:
        text = text[len(scope.prefix):]
    pattern, problem = None, None
    if looks_like_regex(text):
        expression = text[1:-1] if len(text) >= 2 and text.startswith("/") and text.endswith("/") else text
        try:
            pattern = re.compile(expression, re.IGNORECASE)
        except re.error as e:
            problem = f"{raw}: not a regular expression ({e.msg}), matched as text"
    return Term(raw, invert, scope, pattern, text.lower()), problem


@dataclass(frozen=True)
class RowFilter:
    text: str
    terms: tuple[Term, ...]
    problem: str | None = None  # a term that is not a valid regular expression (it is matched as text)

    def matches(self, view: RolloutView) -> bool:
        return all(t.matches(view) for t in self.terms)

    def __bool__(self) -> bool:
        return bool(self.terms)


def parse(text: str) -> RowFilter:
    terms, problems = [], []
    for word in text.split():
        term, problem = _term(word)
        terms.append(term)
        if problem:
            problems.append(problem)
    return RowFilter(text.strip(), tuple(terms), "; ".join(problems) or None)


NO_FILTER = parse("")
