"""Untrusted strings (from servers and config) become inert, visible text here — never markup, never escapes.

Pure Python (no rich, no textual): the engine, the CLI and the renderers all pass server text through `clean`."""

from __future__ import annotations

import re

from monotui.names import PRINTABLE_INVISIBLE_PATTERN, invisible

# C0/C1 controls, DEL, the bidirectional overrides/isolates that can reorder what the eye sees, and the line and
# paragraph separators (a line break to some readers of the text).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_PRINTABLE_INVISIBLE = re.compile(PRINTABLE_INVISIBLE_PATTERN)
DEFAULT_LIMIT = 200


def _visible(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode control pictures: ␛ for ESC, ␊ for LF
    if code == 0x7F:
        return "␡"
    return f"<U+{code:04X}>"


def clean(value: object, limit: int | None = DEFAULT_LIMIT) -> str:
    """A single line of visible characters: controls shown as symbols, invisible characters (zero-width space,
    joiners, soft hyphen, variation selectors…) as <U+XXXX> so a look-alike name never passes for another, long
    values cut with an ellipsis."""
    s = str(value)
    if limit is not None and len(s) > limit:
        s = s[: limit - 1] + "…"
    if s.isascii() and s.isprintable():
        return s  # most text: no control (the only unsafe ASCII), nothing invisible; both checks run in C
    s = _UNSAFE.sub(_visible, s)
    if s.isascii() or (s.isprintable() and not _PRINTABLE_INVISIBLE.search(s)):
        return s  # invisible characters are either not printable (Cf, Cc) or among the few listed
    return "".join(f"<U+{ord(c):04X}>" if invisible(c) else c for c in s)
