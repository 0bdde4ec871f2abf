"""The freeze's confirmation (and the unfreeze's): what each source holds, every rollout it pauses (or resumes) in
a scrolling list under its count — so it fits 80×24 however many there are —, an optional reason, Cancel focused.
Re-checked at every refresh: a listed rollout that changed is named, and will be refused rather than acted on, but
the confirm button stays — stopping the line must not wait for a busy production to stand still."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Static

from monotui.engine.freeze import FreezePlan
from monotui.models import Owner
from monotui.owners import owner_line
from monotui.render.text import plain
from monotui.ui.screens.confirm import PinnedConfirmation


def count_line(plan: FreezePlan) -> str:
    verb = "pauses" if plan.action == "freeze" else "resumes"
    sources = len(plan.sources)
    text = f"{verb} {len(plan.steps)} rollout(s) in {sources} source(s)"
    if plan.skipped:
        text += f"; {len(plan.skipped)} not resumed"
    return text


class ConfirmFreezeScreen(PinnedConfirmation):
    DEFAULT_CSS = """
    #freeze-list { height: auto; max-height: 8; }
    """

    def __init__(self, plan: FreezePlan, owners: dict[str, Owner | None] | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.owners = owners or {}  # each listed service's owner (engine.owner)
        self._said: str | None = None

    def recheck(self, changed: str | None, now_text: str | None = None) -> None:
        """Called at every refresh with the first listed rollout that changed (None: all as listed)."""
        if changed == self._said:
            return
        self._said = changed
        shown = self.query_one("#target-changed", Static)
        shown.display = changed is not None
        if changed is not None:
            verb = "paused" if self.plan.action == "freeze" else "resumed"
            shown.update(Text.assemble(("CHANGED SINCE LISTED: ", "bold reverse"), plain(changed, limit=120),
                                       f". It will be refused, not {verb}; the others will be."))

    def compose(self) -> ComposeResult:
        freezing = self.plan.action == "freeze"
        with Vertical(id="dialog"):
            title = "Freeze PRODUCTION?" if freezing else "Unfreeze PRODUCTION?"
            yield Static(Text(title, style="bold"), id="confirm-title", markup=False)
            yield Static(Text(count_line(self.plan), style="bold"), id="freeze-count", markup=False)
            with VerticalScroll(id="freeze-list"):
                yield Static(Text("\n").join(plain(line, limit=300) for line in self.plan.lines()),
                             id="freeze-plan", markup=False)
                yield Static(Text("\n").join(plain(f"  {service}: {owner_line(owner)}", limit=300)
                                             for service, owner in self.owners.items()),
                             id="confirm-owner", markup=False)
            changed = Static("", id="target-changed", markup=False)
            changed.display = False  # shown by `recheck` only
            yield changed
            yield Input(placeholder="Reason (optional, goes to the audit log and to every operator)", id="reason",
                        compact=True)
            yield from self.buttons("Freeze" if freezing else "Unfreeze")
