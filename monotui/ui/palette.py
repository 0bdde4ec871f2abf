"""The command palette (ctrl+p): the same commands as the keys, for the selected rollout. A mutating command is
listed when its `why_not` says it can act now."""

from __future__ import annotations

from functools import partial
from typing import Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from monotui.render.text import clean
from monotui.ui.commands import COMMANDS, Command, Context


class HasRows(Protocol):
    """The app, as the palette sees it: the context the commands are answered in."""

    @property
    def rollouts(self) -> Context: ...


class MonotuiCommands(Provider):
    def _commands(self) -> list[tuple[str, Command]]:
        context = cast(HasRows, self.app).rollouts
        out = []
        for command in COMMANDS:
            if command.mutating:
                if not command.why_not(context).act:
                    continue
                view = context.selected_view()
                text = f"{command.label} {clean(view.rollout.service, 60)}" if view else command.label
            else:
                text = command.label
            out.append((text, command))
        return out

    async def discover(self) -> Hits:
        for text, command in self._commands():
            yield DiscoveryHit(Content(text), partial(self.app.run_action, command.action_string), text=text,
                               help=command.description)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, command in self._commands():
            score = matcher.match(text)
            if score > 0:
                # not matcher.highlight(): it parses its argument as markup, and service names are untrusted
                yield Hit(score, Content(text), partial(self.app.run_action, command.action_string), text=text,
                          help=command.description)
