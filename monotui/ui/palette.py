"""The command palette (ctrl+p): the same commands as the keys. A mutating command is listed when its `why_not` says
it can act now, and its entry names exactly what it will open: the suspect the suspect key takes next (which is
seldom the selected row), the flag the kill switch turns off, the selected rollout for the rest."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from monotui.text import clean
from monotui.ui.commands import COMMANDS, Command
from monotui.ui.flows import kill_switch

if TYPE_CHECKING:
    from monotui.ui.screens.rollouts import RolloutsScreen


class HasRows(Protocol):
    """The app, as the palette sees it: the screen its commands are answered and run on."""

    @property
    def rollouts(self) -> RolloutsScreen: ...


def target_text(command: Command, screen: RolloutsScreen) -> str:
    """A mutating command's entry: its label and the one target it will open."""
    if command.whole:
        return command.label
    if command.id == "rollback_suspect":
        upcoming = screen.next_suspect()
        if upcoming is None:
            return command.label
        suspect = upcoming[0]
        service = clean(suspect.view.rollout.service, 60)
        if suspect.flag is not None:
            return f"{command.label}: turn flag {clean(suspect.flag.flag.name, 60)} off ({service})"
        return f"{command.label}: roll back {service}"
    view = screen.selected_view()
    if view is None:
        return command.label
    service = clean(view.rollout.service, 60)
    if command.action == "flag":
        options = kill_switch.candidates(screen.engine, view, command.parameter == "on")
        if options and kill_switch.goes_straight_to(view, options):
            return f"{command.label} {clean(options[0][1].name, 60)} ({service})"
        return f"{command.label}: a flag of {service}"
    return f"{command.label} {service}"


class MonotuiCommands(Provider):
    @property
    def _rows(self) -> RolloutsScreen:
        return cast(HasRows, self.app).rollouts

    def _commands(self) -> list[tuple[str, Command]]:
        context = self._rows
        out = []
        for command in COMMANDS:
            if command.mutating and not command.why_not(context).act:
                continue
            out.append((target_text(command, context) if command.mutating else command.label, command))
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
