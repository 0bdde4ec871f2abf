"""JSON for people's terminals and pipes: every string (keys too) passed through the one sanitiser, so a server's
text printed by `jq -r`, or pasted from a log, cannot act on a terminal (ESC, C1, bidi overrides, backspaces…)."""

from __future__ import annotations

import json
import re
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


# In JSON written with ensure_ascii, every control, DEL and non-ASCII character of a string is an escape: the
# escapes are the only places the sanitiser has anything to do. An escaped backslash is matched as a pair, so the
# `u0041` of a string's literal `\\u0041` is never read as an escape.
_ESCAPE = re.compile(r"\\\\|\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})|\\u([0-9a-f]{4})|\\([nrtbf])")
_SHORT = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


def _inert_escape(match: re.Match[str]) -> str:
    high, low, code, short = match.groups()
    if high:
        char = chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + int(low, 16) - 0xDC00)
    elif code:
        char = chr(int(code, 16))
    elif short:
        char = _SHORT[short]
    else:
        return match.group()  # an escaped backslash
    shown = clean(char, limit=None)
    return match.group() if shown == char else json.dumps(shown, ensure_ascii=True)[1:-1]


def inert_json(data: Any, indent: int | None = 2) -> str:
    """`json.dumps(inert(data), indent=indent, ensure_ascii=True)`, the same text, without a Python call per
    value: the encoding and the indent in C, then each escape in the text (a character `clean` may change)
    sanitised as `clean` sanitises that character (tests/test_render_inert.py holds the two to the same text)."""
    text = _ESCAPE.sub(_inert_escape, json.dumps(data, ensure_ascii=True))
    if not indent:
        return text
    try:
        return msgspec.json.format(text.encode(), indent=indent).decode()
    except msgspec.DecodeError:  # NaN or Infinity, which json.dumps writes and the C formatter refuses
        return json.dumps(json.loads(text), indent=indent, ensure_ascii=True)
