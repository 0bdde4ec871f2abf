"""What every mutating dialog shares: Cancel has the focus, Escape cancels, and Enter in a field only moves to the
confirm button — confirming is always a separate, deliberate key press."""

from __future__ import annotations

from typing import TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Button, Input

T = TypeVar("T")


class CancelFirstDialog(ModalScreen[T | None]):
    """Subclasses yield `self.buttons(label)` and handle `Button.Pressed` on `#confirm`."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    @staticmethod
    def buttons(confirm_label: str) -> ComposeResult:
        with Horizontal(id="confirm-buttons"):
            yield Button("Cancel", id="cancel")  # not "primary": only the focused button stands out
            yield Button(confirm_label, id="confirm", variant="error")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _input_done(self, event: Input.Submitted) -> None:
        event.stop()
        confirm = self.query_one("#confirm", Button)
        confirm.focus()
        self.notify(f"Enter in a field does not confirm: now on {confirm.label}; Enter again confirms, Esc cancels.",
                    markup=False, timeout=4)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
