"""JSON for people's terminals and pipes: every string (keys too) passed through the one sanitiser, so a server's
text printed by `jq -r`, or pasted from a log, cannot act on a terminal (ESC, C1, bidi overrides, backspaces…)."""

from __future__ import annotations

from typing import Any

from monotui.text import clean


def inert(data: Any) -> Any:
    """`data` (JSON-ready: dicts, lists, strings, numbers) with every string sanitised, none cut short."""
    if isinstance(data, str):
        return clean(data, limit=None)
    if isinstance(data, dict):
        return {inert(k): inert(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [inert(v) for v in data]
    return data
