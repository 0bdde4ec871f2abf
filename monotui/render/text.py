"""Untrusted text as rich `Text`: what `monotui.text.clean` made visible, styled — never markup."""

from __future__ import annotations

from rich.text import Text

from monotui.text import DEFAULT_LIMIT, clean


def plain(value: object, style: str = "", limit: int | None = DEFAULT_LIMIT) -> Text:
    """Untrusted text as a rich Text: square brackets and all shown exactly as typed."""
    return Text(clean(value, limit), style=style, no_wrap=True, overflow="ellipsis")


def join(*parts: Text | str, sep: str = " ") -> Text:
    """Join pieces; plain `str` parts are our own literals (never untrusted), Text parts keep their styles."""
    out = Text()
    for i, part in enumerate(parts):
        if i:
            out.append(sep)
        out.append_text(part) if isinstance(part, Text) else out.append(part)
    return out
