"""The confirmation every mutating action goes through: it names the action, service, environment, source and
revisions (from → to); Cancel has the focus; a reason is optional; a protected service needs its name typed."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Input, Static

from monotui.engine.actions import ActionPlan
from monotui.models import Owner
from monotui.names import canonical
from monotui.render.owners import owner_text
from monotui.render.text import join, plain
from monotui.ui.screens.dialog import CancelFirstDialog


@dataclass(frozen=True)
class Confirmation:
    reason: str | None
    confirmed_by: str = "dialog"  # or "typed-name" for a protected service (goes to the audit record)


def plan_text(plan: ActionPlan) -> Text:
    r = plan.rollout
    rows = [
        ("Action", Text(plan.spec.label, style="bold")),
        ("Service", plain(r.service, style="bold", limit=120)),
        ("Where", join(plain(r.environment, limit=80), Text("· source"), plain(plan.source, limit=60))),
        ("Revision", join(plain(str(plan.from_revision), limit=80), Text("→", style="bold"),
                          plain(str(plan.to_revision), style="bold", limit=80))),
        ("Effect", plain(plan.effect, limit=200)),
    ]
    out = Text()
    for i, (label, value) in enumerate(rows):
        if i:
            out.append("\n")
        out.append(f"{label:<9}", style="bold")
        out.append_text(value)
    return out


class PinnedConfirmation(CancelFirstDialog[Confirmation]):
    """What a rollout action's and a flag's confirmations share: re-checked by the app at every refresh (`recheck`):
    once the target is no longer what the dialog shows, it says so and the confirm button stays disabled — the
    operator re-opens the action to see the new target; a protected target needs its name typed."""

    changed: str | None = None
    protected: bool = False
    protected_name: str = ""  # the name to type when `protected`
    name_kind: str = "service"

    def recheck(self, changed: str | None, now_text: str | None = None) -> None:
        """Called at every refresh with how the target differs from the plan (None: it does not)."""
        if changed is None or self.changed is not None:
            return
        self.changed = changed
        notice = Text.assemble(("TARGET CHANGED: ", "bold reverse"), f"{changed}.",
                               f" Now: {now_text}." if now_text else "",
                               " Nothing will be sent — press Escape and open the action again.")
        shown = self.query_one("#target-changed", Static)
        shown.update(notice)
        shown.display = True
        self.query_one("#confirm", Button).disabled = True
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        if self.changed is not None:
            return
        if self.protected:
            typed = self.query_one("#typed-name", Input).value.strip()
            if canonical(typed) != canonical(self.protected_name):  # as it looks: no invisible characters
                self.notify(f"Type the {self.name_kind} name exactly to confirm.", severity="warning", markup=False)
                self.query_one("#typed-name", Input).focus()
                return
        reason = self.query_one("#reason", Input).value.strip()
        self.dismiss(Confirmation(reason or None, "typed-name" if self.protected else "dialog"))


def others_text(lines: list[str]) -> Text:
    """Someone else acted on this target in the last minutes: named with what they said, newest first."""
    out = Text("Someone else acted on this recently:", style="bold yellow")
    for line in lines:
        out.append("\n  ")
        out.append_text(plain(line, style="yellow", limit=200))
    return out


class ConfirmActionScreen(PinnedConfirmation):
    def __init__(self, plan: ActionPlan, why: Text | None = None, others: list[str] | None = None,
                 owner: Owner | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.owner = owner  # "owner: payments-team, on call: …" (engine.owner)
        self.why = why  # opened on a suspect (`s`): its rank and the evidence
        self.others = list(others or [])  # "alice@bastion-2 paused this 40 s ago: 'investigating'"
        self.protected = plan.protected
        self.protected_name = plan.rollout.service

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            title = join(Text(self.plan.spec.label, style="bold"),
                         plain(self.plan.rollout.service, style="bold", limit=40),
                         Text("in PRODUCTION?", style="bold"))
            yield Static(title, id="confirm-title", markup=False)
            yield Static(plan_text(self.plan), id="confirm-plan", markup=False)
            yield Static(owner_text(self.owner), id="confirm-owner", markup=False)
            if self.why is not None:
                yield Static(self.why, id="suspect-why", markup=False)
            if self.plan.resend:
                note = Text.assemble(
                    ("Sent before with an unknown outcome. ", "bold"),
                    f"This sends the same request again with the same Idempotency-Key "
                    f"({self.plan.idempotency_key[:12]}…): the server acts at most once.")
                yield Static(note, id="resend-note", markup=False)
            warning = Static(others_text(self.others), id="others-acted", markup=False)
            warning.display = bool(self.others)
            yield warning
            changed = Static("", id="target-changed", markup=False)
            changed.display = False  # shown by `recheck` only
            yield changed
            yield Input(placeholder="Reason (optional, goes to the audit log)", id="reason", compact=True,
                        disabled=self.plan.resend)
            if self.plan.protected:
                warn = join(Text("Protected service: type", style="bold yellow"),
                            plain(self.plan.rollout.service, style="bold", limit=120),
                            Text("to confirm", style="bold yellow"))
                yield Static(warn, id="protected-hint", markup=False)
                # a placeholder reading like the name would look filled in
                yield Input(placeholder="type the service name here", id="typed-name", compact=True)
            yield from self.buttons(self.plan.spec.label)

    @property
    def follow_title(self) -> str:
        """How observers who follow the operator see this dialog named (ui/pairing.py)."""
        return f"{self.plan.spec.label} {self.plan.rollout.service}?"

    def show_others(self, lines: list[str]) -> None:
        """At every refresh: a colleague who acts while the dialog is open is named at once."""
        if lines == self.others:
            return
        self.others = list(lines)
        for warning in self.query("#others-acted").results(Static):  # none yet before compose: it reads others
            warning.update(others_text(self.others))
            warning.display = bool(self.others)
