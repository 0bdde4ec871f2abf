"""Silencing a service's alerts, and expiring those silences: Cancel focused, a duration and a comment."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Input, Static

from monotui.models import Owner
from monotui.render.owners import owner_text
from monotui.render.text import join, plain
from monotui.ui.screens.dialog import CancelFirstDialog

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float | None:
    match = _DURATION.match(text)
    return float(int(match.group(1)) * _SECONDS[match.group(2)]) if match else None


@dataclass(frozen=True)
class SilenceRequest:
    duration_s: float
    comment: str


class SilenceScreen(CancelFirstDialog[SilenceRequest]):
    def __init__(self, service: str, source: str, alerts: int, expire: bool = False,
                 owner: Owner | None = None) -> None:
        super().__init__()
        self.service, self.source, self.alerts, self.expire = service, source, alerts, expire
        self.owner = owner  # of the service (engine.owner)

    def compose(self) -> ComposeResult:
        verb = "Expire the silences of" if self.expire else "Silence the alerts of"
        with Vertical(id="dialog"):
            title = join(Text(verb, style="bold"), plain(self.service, style="bold", limit=60))
            yield Static(title.append("?", style="bold"), id="silence-title", markup=False)
            yield Static(join(Text(f"{self.alerts} alert(s) · source"), plain(self.source, limit=40)),
                         id="silence-plan", markup=False)
            yield Static(owner_text(self.owner), id="confirm-owner", markup=False)
            if not self.expire:
                yield Input("1h", placeholder="duration: 30m, 2h, 1d", id="duration", compact=True)
                yield Input(placeholder="comment (required: why)", id="comment", compact=True)
            yield from self.buttons("Expire" if self.expire else "Silence")

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        if self.expire:
            self.dismiss(SilenceRequest(0, ""))
            return
        duration = parse_duration(self.query_one("#duration", Input).value)
        comment = self.query_one("#comment", Input).value.strip()
        if duration is None or not comment:
            self.notify("A duration like 30m or 2h, and a comment, are needed.", severity="warning", markup=False)
            return
        self.dismiss(SilenceRequest(duration, comment))
