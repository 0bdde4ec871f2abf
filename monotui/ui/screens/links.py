"""The links of the selected rollout (`u`): each label with its whole URL printed (the fallback where the terminal
shows no hyperlinks) and made a hyperlink — these URLs come from the operator's own templates only (monotui/links.py).
Enter or `o` opens the highlighted one in the browser, `c` copies it (OSC 52), Escape closes."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static

from monotui.links import Link
from monotui.render.links import link_entry
from monotui.render.text import join, plain


class LinksScreen(ModalScreen[None]):
    DEFAULT_CSS: ClassVar[str] = """
    LinksScreen { align: center middle; }
    LinksScreen #links-dialog { width: 90%; max-width: 120; height: auto; max-height: 90%;
                                border: round $primary; background: $surface; padding: 0 1; }
    LinksScreen #links { height: auto; max-height: 16; border: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="links.close"),
        Binding("enter,o", "open", "Open", id="links.open", priority=True),
        Binding("c", "copy", "Copy", id="links.copy"),
    ]

    def __init__(self, service: str, links: list[Link]) -> None:
        super().__init__()
        self.service = service
        self.links = links

    @property
    def follow_title(self) -> str:
        """How observers who follow the operator see this dialog named (ui/pairing.py)."""
        return f"Links of {self.service}"

    def compose(self) -> ComposeResult:
        with Vertical(id="links-dialog"):
            yield Static(join(Text("Links for", style="bold"), plain(self.service, style="bold", limit=60)),
                         markup=False)
            self.options = OptionList(*[link_entry(link) for link in self.links], id="links", markup=False)
            yield self.options
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.options.highlighted = 0
        self.options.focus()

    @property
    def selected(self) -> Link | None:
        index = self.options.highlighted
        return self.links[index] if index is not None and 0 <= index < len(self.links) else None

    def action_close(self) -> None:
        self.dismiss(None)

    def action_open(self) -> None:
        link = self.selected
        if link is not None:
            self.app.open_url(link.url)
            self.notify(f"Opened {link.label}: {link.url}", markup=False, timeout=6)

    def action_copy(self) -> None:
        link = self.selected
        if link is not None:
            self.app.copy_to_clipboard(link.url)
            self.notify(f"Copied {link.label}: {link.url}", markup=False, timeout=6)
