"""The top line: an unmistakable PRODUCTION signal, every source's connection state, data age, READ-ONLY."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from monotui.engine.freeze import Hold
from monotui.engine.state import ProductionState
from monotui.formats import age
from monotui.render.text import plain

_STATE = {"ok": ("●", "green"), "connecting": ("◌", "yellow"), "error": ("✖", "bold red")}


MIN_REASON = 8  # a reason shortened to fit keeps at least this many cells (and "…")


def frozen_text(holds: list[Hold], fit: int | None = None) -> str:
    """FROZEN since 10:42 by alice@bastion-1: checkout errors — the first freeze, and how many more. With `fit`,
    the reason is shortened (…) to make it at most that many cells, down to MIN_REASON; the rest stays whole."""
    first = holds[0]
    where = f" {', '.join(first.services)}" if first.services else ""
    text = f"FROZEN{where} since {first.since_text} by {first.actor}"
    others = {(h.since_text, h.actor, h.reason, h.services) for h in holds[1:]} - {
        (first.since_text, first.actor, first.reason, first.services)}
    more = f" (+{len(others)} more)" if others else ""
    reason = first.reason
    if reason and fit is not None:
        room = max(fit - len(text) - len(more) - 2, MIN_REASON)
        if len(reason) > room:
            reason = reason[:room - 1].rstrip() + "…"
    return text + (f": {reason}" if reason else "") + more


def banner_text(state: ProductionState, now: float, global_read_only: bool, actor: str, suspects: int = 0,
                suspect_key: str = "s", truncated: tuple[int, int] | None = None,
                holds: list[Hold] | None = None, unforwarded: int = 0, pairing: str = "", width: int = 0) -> Text:
    """With `width` (the banner's, 0: unknown), a freeze's reason is shortened so that the suspects and the sources'
    states after it still fit."""
    head = Text()
    head.append(" PRODUCTION ", style="bold reverse red")
    out = Text()
    if global_read_only:  # an observer (`--read-only`, every `monotui serve` tab): it watches, it acts as nobody
        out.append(" ")
        out.append(" READ-ONLY — watching ", style="bold reverse yellow")
    if suspects:
        # the one thing to do first, with its key, where the eye lands
        out.append(" ")
        key = "" if global_read_only else f" — {suspect_key}"
        out.append(f" ⚠ {suspects} suspect{'s' if suspects > 1 else ''}{key} ", style="bold reverse red")
    for name, data in state.sources.items():
        icon, style = _STATE[data.status.state]
        out.append("  ")
        out.append(icon, style=style)
        out.append(" ")
        out.append_text(plain(name, style="bold", limit=30))
        if data.status.state == "error":
            out.append(" error", style=style)
        elif data.status.state == "connecting":
            out.append(" connecting", style=style)
        elif data.status.resyncing:
            out.append(f" resyncing ({data.status.resyncing})", style="yellow")
        if data.status.clock_skew:  # its times are corrected; say so, it is worth fixing at the source
            skew = data.status.clock_skew
            out.append(f" clock {abs(skew):.0f} s {'ahead' if skew > 0 else 'behind'}", style="yellow")
        if data.status.read_only and not global_read_only:
            out.append(" ro", style="yellow")
        if data.status.tls_unverified:
            out.append(" ")
            out.append(" TLS NOT VERIFIED ", style="bold reverse red")
    if holds:
        # text, not a colour: it reads the same under NO_COLOR and comes first, where 80 columns keep it
        fit = width - head.cell_len - out.cell_len - 3 if width else None
        head.append(" ")
        head.append_text(plain(f" {frozen_text(holds, fit)} ", style="bold reverse blue", limit=90))
    out = head + out
    if unforwarded:  # the team's trail is behind: the records wait in the local file and are sent once it is back
        out.append("  ")
        out.append(f" trail not forwarded ({unforwarded}) ", style="bold reverse yellow")
    if pairing:  # "sharing · 2 watching", or an observer's "following alice@bastion-1"
        out.append("  ")
        out.append_text(plain(pairing, style="bold cyan", limit=120))
    if truncated is not None:
        out.append(f"  showing {truncated[0]:,} of {truncated[1]:,} — filter with /", style="bold yellow")
    freshest = state.freshest_age_at(now)
    out.append(f"  data {age(freshest)} old" if freshest is not None else "  no data yet", style="dim")
    if not global_read_only:  # the actor its actions are recorded as; a watching session's is the host's login
        out.append("  ")
        out.append_text(plain(actor, style="dim", limit=40))
    return out


class ProductionBanner(Static):
    def __init__(self) -> None:
        super().__init__("", id="banner", markup=False)
        self._shown = Text()

    def show(self, state: ProductionState, now: float, global_read_only: bool, actor: str, suspects: int = 0,
             suspect_key: str = "s", truncated: tuple[int, int] | None = None, holds: list[Hold] | None = None,
             unforwarded: int = 0, pairing: str = "") -> None:
        text = banner_text(state, now, global_read_only, actor, suspects, suspect_key, truncated, holds, unforwarded,
                           pairing, self.size.width)
        if text.plain != self._shown.plain or text.spans != self._shown.spans:
            self._shown = text
            self.update(text, layout=False)  # one line, always: no relayout of the screen
