"""Links out as rich Text: a hyperlink (OSC 8, where the terminal has them) only for a `Link`, built from the
operator's own URL template (monotui/links.py) — never for a server's string — and always the URL itself printed
too where the terminal shows no hyperlinks (the links dialog)."""

from __future__ import annotations

import functools

from rich.style import Style
from rich.text import Text

from monotui.links import Link
from monotui.text import clean


def linked(link: Link, text: str | None = None, style: str = "") -> Text:
    """`text` (the link's label by default) as a hyperlink to the link's URL."""
    return Text(text if text is not None else link.label, style=Style.parse(style or "underline") + Style(
        link=link.url), no_wrap=True)


@functools.lru_cache(maxsize=64)
def links_line(links: tuple[Link, ...], key: str) -> Text:
    """The detail panel's line: each label a hyperlink, then the key that opens or copies them. The same links
    give the same Text (its hyperlinks keep their ids), so the panel does not draw the line again."""
    out = Text()
    for i, link in enumerate(links):
        if i:
            out.append(" · ", style="dim")
        out.append_text(linked(link))
    out.append(f"  ({clean(key, 20)}: open or copy)", style="dim")
    return out


def link_entry(link: Link) -> Text:
    """A line of the links dialog: the label, then the whole URL (printed: the fallback), as a hyperlink."""
    out = Text(f"{link.label:<10}", style="bold")
    out.append_text(linked(link, clean(link.url, 2000), "cyan"))
    out.no_wrap = False
    return out
