"""Which flag the kill switch acts on, when the selected service has several and none is the suspect."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from monotui.models import Flag
from monotui.render.flags import flag_line
from monotui.render.text import join, plain


class FlagPickerScreen(ModalScreen[int | None]):
    """Dismisses with the index of the chosen flag in `flags`, or None (Escape)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="picker.cancel")]

    def __init__(self, service: str, flags: list[Flag], enabled: bool, now: datetime) -> None:
        super().__init__()
        self.service = service
        self.flags = flags
        self.enabled = enabled
        self.now = now

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            title = join(Text("Turn which flag of", style="bold"), plain(self.service, style="bold", limit=40),
                         Text("on?" if self.enabled else "off?", style="bold"))
            yield Static(title, id="picker-title", markup=False)
            yield OptionList(*(Option(flag_line(f, self.now), id=str(i)) for i, f in enumerate(self.flags)),
                             id="flag-options")
            yield Static(Text("Enter picks (a confirmation follows), Esc cancels", style="dim"), markup=False)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_cancel(self) -> None:
        self.dismiss(None)
