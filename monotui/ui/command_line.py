"""The `:` command line (k9s's habit): a command of the command table by its word, or a jump, with completion.

Everything it knows comes from tables that exist already — nothing is listed twice:
- every command of monotui/ui/commands.py COMMANDS, by its word: the binding id without its group and with
  dashes (`rollout.pause` → `pause`, `rollback_suspect` → `rollback-suspect`, `freeze`), and its `aliases`
  (`quit`'s `q`); it runs as its key does, and a command that cannot act now says why (its `why_not`);
- the filter's scopes (monotui/render/row_filter.py SCOPES) as jumps: `:source east` filters to `@east`,
  `:namespace payments` (or `:ns payments`) to `ns:payments`, and a scope added there is a jump here;
- a service name: `:cart-api` selects its row;
- a command on a row with the service's name after it: `:history cart-api`, `:pause cart-api`, `:logs cart-api`
  select that service's row and run the command there (ROW_COMMANDS: the rollout actions, flags, silences, history,
  links, logs).
`:team NAME` filters by the owner's team (the filter's `team:` scope).
"""

from __future__ import annotations

from dataclasses import dataclass

from monotui.render.row_filter import SCOPES, Scope
from monotui.ui.commands import COMMANDS, Command


def words_of(command: Command) -> tuple[str, ...]:
    word = command.id.split(".", 1)[1] if command.id.startswith("rollout.") else command.id.replace(".", "-")
    return (word.replace("_", "-"), *command.aliases)


def _scope_words(scope: Scope) -> tuple[str, ...]:
    short = scope.prefix.rstrip(":")
    return (scope.name, short) if short.isalnum() and short != scope.name else (scope.name,)


COMMAND_WORDS: dict[str, Command] = {word: c for c in COMMANDS for word in words_of(c)}
# the commands that act on the selected row, so take a service after their word
ROW_COMMANDS = frozenset(c.id for c in COMMANDS if c.id.startswith(("rollout.", "flag.")) or c.id in {
    "silence", "expire_silence", "history", "links", "logs"})
SCOPE_WORDS: dict[str, Scope] = {word: s for s in SCOPES for word in _scope_words(s)}


@dataclass(frozen=True)
class Parsed:
    command: Command | None = None
    scope: Scope | None = None
    argument: str = ""
    service: str | None = None
    problem: str | None = None


def parse(text: str, services: set[str]) -> Parsed:
    words = text.strip().removeprefix(":").split(maxsplit=1)
    if not words:
        return Parsed(problem="")
    word, argument = words[0].lower(), (words[1].strip() if len(words) > 1 else "")
    if word in SCOPE_WORDS:
        if not argument:
            return Parsed(problem=f":{word} needs a name (:{word} NAME)")
        return Parsed(scope=SCOPE_WORDS[word], argument=argument)
    if word in COMMAND_WORDS and not argument:
        return Parsed(command=COMMAND_WORDS[word])
    if word in COMMAND_WORDS and COMMAND_WORDS[word].id in ROW_COMMANDS and argument in services:
        return Parsed(command=COMMAND_WORDS[word], service=argument)
    if words[0] in services and not argument:
        return Parsed(service=words[0])
    return Parsed(problem=f"not a command: {text.strip()[:60]} (Tab completes; :help lists the keys)")


def candidates(offered: list[Command], sources: list[str], namespaces: list[str], services: list[str]) -> list[str]:
    """What Tab completes to, in this order: commands, jumps with each value known, services."""
    out = [word for command in offered for word in words_of(command)]
    for scope in SCOPES:
        values = sources if scope.name == "source" else namespaces if scope.name == "namespace" else []
        out += [f"{scope.name} {value}" for value in values]
    out += services
    return list(dict.fromkeys(out))


def completions(text: str, choices: list[str]) -> list[str]:
    """Every choice that starts with what is typed (case-insensitive) and adds to it, in the order offered."""
    typed = text.lstrip(":").lower()
    return [c for c in choices if c.lower().startswith(typed) and len(c) > len(typed)] if typed else []
