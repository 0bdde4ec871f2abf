"""The footer, dimming and undimming its keys in place when only their enabled state changes.

Textual's `Footer` recomposes at every bindings change: every key widget mounted again, then a relayout and a
repaint of the screen (costly with many rows). Moving the cursor between rollouts that offer the same keys, one
of them enabled on one and not on the other (pause on a progressing rollout, resume on a paused one), changes only
which keys are dim; that cost then fell on the key that moved the cursor. Here such a change sets the keys'
`-disabled` class (the same look and the same bell on click as a rebuilt footer); any other change (a key shown or
hidden, a label, a tooltip) rebuilds the footer as before — once for changes that come together.
"""

from __future__ import annotations

from collections import defaultdict

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from monotui.compat.textual import (
    FooterKey,
    after_screen_refresh,
    footer_bindings_ready,
    footer_key_enabled,
    mark_footer_bindings_ready,
    set_footer_key_enabled,
)

# what a footer key shows and does (all but whether it is enabled), in the order `Footer.compose` yields them
_Layout = tuple[tuple[object, ...], ...]


class SteadyFooter(Footer):
    _built: _Layout | None = None  # the layout the mounted keys were composed from
    _rebuild_queued = False

    def compose(self):  # type: ignore[no-untyped-def]  # as Footer.compose
        self._built = self._keys()[0] if footer_bindings_ready(self) else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen[object]) -> None:
        mark_footer_bindings_ready(self)
        if not (screen.app.app_focus and self.is_attached and screen is self.screen):
            return  # as Textual's Footer: another screen's bindings, or the app without focus
        if self._built is not None:
            layout, enabled = self._keys()
            keys = list(self.query(FooterKey))
            if layout == self._built and len(keys) == len(enabled):
                for key, on in zip(keys, enabled, strict=True):
                    if footer_key_enabled(key) != on:
                        set_footer_key_enabled(key, on)
                return
        # Textual's Footer queues one rebuild per change; changes that come together (at start: the first bindings,
        # the table's focus, the first rows — three rebuilds on the way to the first rows) need only one
        if not self._rebuild_queued:
            self._rebuild_queued = True
            # after this footer's own screen refreshed: `call_after_refresh` would leave it with the screen on top
            # when the message is handled, and a dialog closed before it drew (`?` then Escape) took it away, with
            # every later rebuild (one was still "queued")
            after_screen_refresh(screen, self._rebuild, self)

    async def _rebuild(self) -> None:
        self._rebuild_queued = False  # a change from here on queues the next rebuild
        await self.recompose()

    def _keys(self) -> tuple[_Layout, list[bool]]:
        """The keys `Footer.compose` would yield now (the first binding of each shown action, then the command
        palette's): what each shows and does, and whether each is enabled."""
        active = self.screen.active_bindings
        by_action: defaultdict[str, list[tuple[Binding, bool, str]]] = defaultdict(list)
        for _, binding, enabled, tooltip in active.values():
            if binding.show:
                by_action[binding.action].append((binding, enabled, tooltip))
        firsts = [bindings[0] for bindings in by_action.values()]
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE and (
                palette := active.get(self.app.COMMAND_PALETTE_BINDING)):
            firsts.append((palette.binding, palette.enabled, palette.tooltip))
        layout = tuple((b.key, self.app.get_key_display(b), b.description, b.action, b.group, tooltip)
                       for b, _, tooltip in firsts)
        return layout, [enabled for _, enabled, _ in firsts]
