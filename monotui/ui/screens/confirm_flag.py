"""The kill switch's confirmation: the same pattern as a rollout action's (Cancel focused, optional reason, typed name
for a protected flag, re-checked at every refresh), naming the flag, project, environment, its state now and who
changed it last."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Input, Static

from monotui.engine.flag_plan import FlagPlan
from monotui.names import canonical
from monotui.render.flags import plan_rows
from monotui.render.text import join, plain
from monotui.ui.screens.confirm import Confirmation
from monotui.ui.screens.dialog import CancelFirstDialog


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


class ConfirmFlagScreen(CancelFirstDialog[Confirmation]):
    """`recheck` is called by the app at every refresh; once the flag is no longer as the dialog shows it, the
    confirm button stays disabled and nothing can be sent from this dialog."""

    def __init__(self, plan: FlagPlan) -> None:
        super().__init__()
        self.plan = plan
        self.changed: str | None = None

    def compose(self) -> ComposeResult:
        flag = self.plan.flag
        with Vertical(id="dialog"):
            title = join(Text(verb(self.plan.enabled), style="bold"), plain(flag.name, style="bold", limit=40),
                         Text("in PRODUCTION?", style="bold"))
            yield Static(title, id="confirm-title", markup=False)
            yield Static(flag_plan_text(self.plan), id="confirm-plan", markup=False)
            changed = Static("", id="target-changed", markup=False)
            changed.display = False  # shown by `recheck` only
            yield changed
            yield Input(placeholder="Reason (optional, goes to the audit log)", id="reason", compact=True)
            if self.plan.protected:
                warn = join(Text("Protected flag: type", style="bold yellow"),
                            plain(flag.name, style="bold", limit=120), Text("to confirm", style="bold yellow"))
                yield Static(warn, id="protected-hint", markup=False)
                yield Input(placeholder="type the flag name here", id="typed-name", compact=True)
            yield from self.buttons("Turn on" if self.plan.enabled else "Turn off")

    def recheck(self, changed: str | None) -> None:
        """How the flag differs from the plan now (None: it does not)."""
        if changed is None or self.changed is not None:
            return
        self.changed = changed
        notice = Text.assemble(("TARGET CHANGED: ", "bold reverse"), f"{changed}.",
                               " Nothing will be sent — press Escape and open the kill switch again.")
        shown = self.query_one("#target-changed", Static)
        shown.update(notice)
        shown.display = True
        self.query_one("#confirm", Button).disabled = True
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        if self.changed is not None:
            return
        if self.plan.protected:
            typed = self.query_one("#typed-name", Input).value.strip()
            if canonical(typed) != canonical(self.plan.flag.name):
                self.notify("Type the flag name exactly to confirm.", severity="warning", markup=False)
                self.query_one("#typed-name", Input).focus()
                return
        reason = self.query_one("#reason", Input).value.strip()
        self.dismiss(Confirmation(reason or None, "typed-name" if self.plan.protected else "dialog"))
