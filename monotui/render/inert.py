"""JSON for people's terminals and pipes: every string (keys too) passed through the one sanitiser, so a server's
text printed by `jq -r`, or pasted from a log, cannot act on a terminal (ESC, C1, bidi overrides, backspaces…)."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from monotui.text import clean


_PLAIN = (int, float, bool, type(None))


def inert(data: Any) -> Any:
    """`data` (JSON-ready: dicts, lists, strings, numbers) with every string sanitised, none cut short."""
    keys: dict[str, str] = {}  # the same few field names, thousands of times
    return _inert(data, keys)


def _inert(data: Any, keys: dict[str, str]) -> Any:
    if isinstance(data, str):
        return clean(data, limit=None)
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            if isinstance(k, str):
                key = keys.get(k)
                if key is None:
                    key = keys[k] = clean(k, limit=None)
            else:
                key = _inert(k, keys)
            # leaves here, without a call each: a production of 10,000 services holds millions of them
            out[key] = v if type(v) in _PLAIN else clean(v, limit=None) if type(v) is str else _inert(v, keys)
        return out
    if isinstance(data, list | tuple):
        return [v if type(v) in _PLAIN else clean(v, limit=None) if type(v) is str else _inert(v, keys)
                for v in data]
    return data


def pretty(data: Any) -> str:
    """`json.dumps(data, indent=2, ensure_ascii=True)`, the same text, in C: Python's encoder falls back to its
    pure-Python code whenever an indent is asked for (seconds for a production of 10,000 services)."""
    return msgspec.json.format(json.dumps(data, ensure_ascii=True).encode(), indent=2).decode()
