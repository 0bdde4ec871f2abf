"""Pairing on the rollouts screen: the operator shares the view (the `w` key), an observer started by
`monotui serve --follow` follows it — the selected row, the filter, the open dialog (mirrored read-only:
ui/screens/mirror.py) — until it browses on its own (any key but `f`, or Esc in the mirrored dialog), and `f`
follows again. The channel is monotui/follow.py: view state only, never an action."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any, Protocol

from textual.notifications import SeverityLevel
from textual.screen import Screen

from monotui.config import Settings
from monotui.follow import ShareServer, follow
from monotui.text import clean
from monotui.ui.screens.mirror import MirrorScreen, dialog_view


class PairedScreen(Protocol):
    """What pairing needs of the rollouts screen (ui/screens/rollouts.py)."""

    settings: Settings
    table: Any  # RolloutsTable: selected_key

    @property
    def app(self) -> Any: ...

    @property
    def is_attached(self) -> bool: ...

    @property
    def filter_text(self) -> str: ...

    def key_of(self, command_id: str) -> str: ...

    def say(self, text: str, severity: SeverityLevel = "information", timeout: float | None = None) -> None: ...

    def refresh_views(self, force: bool = False) -> None: ...

    def show_view(self, row: str, text: str) -> None: ...


class Pairing:
    def __init__(self, screen: PairedScreen, follow_path: Path | None) -> None:
        self.screen = screen
        self.follow_path = follow_path  # set: this process is an observer
        self.share: ShareServer | None = None
        self.following = follow_path is not None
        self.connected = False
        self.state: dict[str, str] = {}  # the operator's last view
        self._task: asyncio.Task[None] | None = None
        self.mirror: MirrorScreen | None = None  # the operator's dialog, drawn here read-only

    @property
    def observer(self) -> bool:
        return self.follow_path is not None

    # ---- the operator ----------------------------------------------------------------------------------

    async def toggle_share(self) -> None:
        if self.share is not None:
            share, self.share = self.share, None
            await share.close()
            self.screen.say("Stopped sharing your view.")
            self.screen.refresh_views()
            return
        share = ShareServer()
        try:
            await share.start()
        except OSError as e:
            self.screen.say(f"Cannot share the view: {clean(str(e), 300)}", severity="error", timeout=10)
            return
        share.on_change = lambda: self.screen.refresh_views()
        self.share = share
        self.publish()
        self.screen.say("Sharing your view (selection, filter, dialog) with `monotui serve --follow`'s observers; "
                        f"press {self.screen.key_of('share')} again to stop.")
        self.screen.refresh_views()

    def publish(self) -> None:
        if self.share is None:
            return
        screen = self.screen
        stack = screen.app.screen_stack if screen.is_attached else []
        top = stack[-1] if stack else screen
        dialog = "" if top is screen else getattr(top, "follow_title", "") or type(top).__name__.removesuffix(
            "Screen")
        kind, body, buttons = dialog_view(top) if top is not screen and isinstance(top, Screen) else ("", "", "")
        screen_filter = screen.filter_text
        self.share.publish({"row": screen.table.selected_key or "", "filter": screen_filter, "dialog": dialog,
                            "actor": screen.settings.actor, "dialog_kind": kind, "dialog_body": body,
                            "dialog_buttons": buttons})

    @property
    def watching(self) -> int | None:
        """Observers following now (None: not sharing)."""
        return self.share.watching if self.share is not None else None

    # ---- the observer ----------------------------------------------------------------------------------

    def start_following(self) -> None:
        if self.follow_path is not None and self._task is None:
            self._task = asyncio.create_task(follow(self.follow_path, self._received, self._connected))

    def _connected(self, up: bool) -> None:
        self.connected = up
        if not up:
            self._close_mirror()  # the operator left: their dialog is not open any more
        self.screen.refresh_views()

    def _received(self, state: dict[str, str]) -> None:
        self.state = state
        if self.following:
            self.apply()
        self.screen.refresh_views()

    def apply(self) -> None:
        self.screen.show_view(self.state.get("row", ""), self.state.get("filter", ""))
        self._mirror()

    def _mirror(self) -> None:
        """Open, update or close the mirror of the operator's dialog as their view says."""
        state = self.state
        kind = state.get("dialog_kind", "")
        if not kind:
            self._close_mirror()
            return
        view = (state.get("dialog", ""), kind, state.get("dialog_body", ""), state.get("dialog_buttons", ""))
        if self.mirror is not None and self.mirror.is_attached:
            self.mirror.show(*view)
            return
        if not self.screen.is_attached:
            return
        self.mirror = MirrorScreen(state.get("actor", ""), *view)
        self.screen.app.push_screen(self.mirror, self._mirror_left)

    def _mirror_left(self, _: None = None) -> None:
        """The mirror was closed: by the operator closing theirs (still following), or by Esc here (browsing)."""
        if self.mirror is None:
            return
        self.mirror = None
        self.browsed()

    def _close_mirror(self) -> None:
        mirror, self.mirror = self.mirror, None  # closed by the operator: not a move of the observer's own
        if mirror is not None and mirror.is_attached:
            mirror.close()

    def browsed(self) -> None:
        """The observer moved, filtered or sorted on its own: it stops following."""
        if self.observer and self.following:
            self.following = False
            self.screen.say(f"Not following the operator; press {self.screen.key_of('follow')} to follow again.",
                            timeout=4)
            self.screen.refresh_views()

    def toggle_follow(self) -> None:
        if not self.observer:
            return
        self.following = not self.following
        if self.following and self.state:
            self.apply()
        elif not self.following:
            self._close_mirror()
        self.screen.refresh_views()

    def banner(self) -> str:
        """What the banner says of pairing ("" when neither sharing nor observing)."""
        if self.share is not None:
            return f"sharing · {self.share.watching} watching"
        if not self.observer:
            return ""
        if not self.connected:
            return "waiting for the operator to share (w in their monotui)"
        who = clean(self.state.get("actor", ""), 60) or "the operator"
        if not self.following:
            return f"not following {who} — {self.screen.key_of('follow')} to follow"
        row = clean(self.state.get("row", ""), 80)
        dialog = clean(self.state.get("dialog", ""), 80)
        return f"following {who}" + (f" on {row}" if row else "") + (f" · in dialog: {dialog}" if dialog else "")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.share is not None:
            await self.share.close()
