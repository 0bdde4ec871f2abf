"""JSON for people's terminals and pipes: every string (keys too) passed through the one sanitiser, so a server's
text printed by `jq -r`, or pasted from a log, cannot act on a terminal (ESC, C1, bidi overrides, backspaces…)."""

from __future__ import annotations

import json
import math
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
# In msgspec's JSON, controls are escapes and DEL and non-ASCII characters are written as they are: those are
# the places the sanitiser has anything to do (printable ASCII it leaves as it is). Two patterns, each quick to
# scan for (one starts with a backslash; the other is needed only when the text is not all ASCII or holds DEL).
_MSGSPEC_ESCAPE = re.compile(r"\\(?:\\|u([0-9a-f]{4})|([nrtbf]))")
_RAW = re.compile(r"[^\x00-\x7e]")


def _escaped(char: str, written: str) -> str:
    """`char`, written in the text as `written`, as the sanitiser shows it, in ASCII JSON."""
    shown = clean(char, limit=None)
    return written if shown == char and written.isascii() else json.dumps(shown, ensure_ascii=True)[1:-1]


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
    return _escaped(char, match.group())


def _memoised(memo: dict[str, str], written: str, char: str) -> str:
    if (known := memo.get(written)) is None:
        known = memo[written] = _escaped(char, written)
    return known


def _msgspec_escape(match: re.Match[str], memo: dict[str, str]) -> str:
    code, short = match.groups()
    if not (code or short):
        return match.group()  # an escaped backslash
    return _memoised(memo, match.group(), chr(int(code, 16)) if code else _SHORT[short])


def inert_json(data: Any, indent: int | None = 2) -> str:
    """JSON of `data` for a terminal or a pipe: ASCII, every string (keys too) sanitised as `inert` sanitises it,
    without a Python call per value. msgspec writes the text and the indent in C; then each place in the text the
    sanitiser may change (an escape, DEL, a non-ASCII character) is written as `clean` shows that character, with
    ASCII escapes. Its values are `inert(data)`'s; NaN and infinities are null (JSON has neither; jq refuses
    them). With an indent, laid out as `json.dumps(…, indent=indent, ensure_ascii=True)` lays it out; without,
    on one line with no space (tests/test_render_inert.py, tests/test_inert_json_edges.py)."""
    try:
        encoded = msgspec.json.encode(data)
    except (UnicodeEncodeError, TypeError):  # a lone surrogate, which UTF-8 cannot carry
        return _inert_json_dumps(data, indent)
    memo: dict[str, str] = {}
    text = _MSGSPEC_ESCAPE.sub(lambda m: _msgspec_escape(m, memo), encoded.decode())
    if not encoded.isascii() or b"\x7f" in encoded:  # the escapes written above are ASCII: not matched again
        text = _RAW.sub(lambda m: _memoised(memo, m.group(), m.group()), text)
    return msgspec.json.format(text, indent=indent) if indent else text


def _finite(data: Any) -> Any:
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    return data


def _inert_json_dumps(data: Any, indent: int | None) -> str:
    """inert_json by json.dumps, which writes a lone surrogate as an escape (rare: slower, one walk of the data;
    models, times and enums made JSON-ready first, as msgspec would write them)."""
    data = _finite(msgspec.to_builtins(data))
    text = _ESCAPE.sub(_inert_escape, json.dumps(data, ensure_ascii=True, separators=(",", ":")))
    return msgspec.json.format(text, indent=indent) if indent else text
