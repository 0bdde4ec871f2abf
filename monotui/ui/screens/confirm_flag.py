"""The kill switch's confirmation: the same pattern as a rollout action's (Cancel focused, optional reason, typed name
for a protected flag, re-checked at every refresh), naming the flag, project, environment, its state now and who
changed it last."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from monotui.engine.flag_plan import FlagPlan
from monotui.models import Owner
from monotui.render.flags import plan_rows
from monotui.render.owners import owner_text
from monotui.render.text import join, plain
from monotui.ui.screens.confirm import PinnedConfirmation


def verb(enabled: bool) -> str:
    return "Turn flag on" if enabled else "Turn flag off"


def flag_plan_text(plan: FlagPlan) -> Text:
    out = Text()
    for i, (label, value) in enumerate(plan_rows(plan.flag, plan.enabled, plan.source)):
        if i:
            out.append("\n")
        out.append(f"{label:<9}", style="bold")
        out.append_text(value)
    return out


class ConfirmFlagScreen(PinnedConfirmation):
    def __init__(self, plan: FlagPlan, why: Text | None = None, owner: Owner | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.owner = owner  # of the flag's service (engine.owner)
        self.why = why  # opened on a suspect (`s`): its rank and the evidence
        self.protected = plan.protected
        self.protected_name = plan.flag.name
        self.name_kind = "flag"

    def compose(self) -> ComposeResult:
        flag = self.plan.flag
        with Vertical(id="dialog"):
            title = join(Text(verb(self.plan.enabled), style="bold"), plain(flag.name, style="bold", limit=40),
                         Text("in PRODUCTION?", style="bold"))
            yield Static(title, id="confirm-title", markup=False)
            yield Static(flag_plan_text(self.plan), id="confirm-plan", markup=False)
            yield Static(owner_text(self.owner), id="confirm-owner", markup=False)
            if self.why is not None:
                yield Static(self.why, id="suspect-why", markup=False)
            changed = Static("", id="target-changed", markup=False)
            changed.display = False  # shown by `recheck` only
            yield changed
            yield Input(placeholder="Reason (optional, goes to the audit log)", id="reason", compact=True)
            if self.protected:
                warn = join(Text("Protected flag: type", style="bold yellow"),
                            plain(flag.name, style="bold", limit=120), Text("to confirm", style="bold yellow"))
                yield Static(warn, id="protected-hint", markup=False)
                yield Input(placeholder="type the flag name here", id="typed-name", compact=True)
            yield from self.buttons("Turn on" if self.plan.enabled else "Turn off")
