"""The command palette (ctrl+p): the same commands as the keys, for the selected rollout. A mutating command is
listed when its `why_not` says it can act now."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from monotui.text import clean
from monotui.ui.commands import COMMANDS, Command

if TYPE_CHECKING:
    from monotui.ui.screens.rollouts import RolloutsScreen


class HasRows(Protocol):
    """The app, as the palette sees it: the screen its commands are answered and run on."""

    @property
    def rollouts(self) -> RolloutsScreen: ...


class MonotuiCommands(Provider):
    @property
    def _rows(self) -> RolloutsScreen:
        return cast(HasRows, self.app).rollouts

    def _commands(self) -> list[tuple[str, Command]]:
        context = self._rows
        out = []
        for command in COMMANDS:
            if command.mutating:
                if not command.why_not(context).act:
                    continue
                view = context.selected_view()
                text = (f"{command.label} {clean(view.rollout.service, 60)}" if view and not command.whole
                        else command.label)
            else:
                text = command.label
            out.append((text, command))
        return out

    async def discover(self) -> Hits:
        for text, command in self._commands():
            run = partial(self.app.run_action, command.action_string, self._rows)
            yield DiscoveryHit(Content(text), run, text=text, help=command.description)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, command in self._commands():
            score = matcher.match(text)
            if score > 0:
                # not matcher.highlight(): it parses its argument as markup, and service names are untrusted
                run = partial(self.app.run_action, command.action_string, self._rows)
                yield Hit(score, Content(text), run, text=text, help=command.description)
