"""Names as a person sees them: `canonical` for comparing (protected services, typed confirmations), `visible` for
showing a name whose invisible characters would otherwise make it look like another.

`payments-api` followed by a zero-width space looks exactly like `payments-api`; both have the same canonical form,
so the protection of one covers the other, and `visible` shows the impostor as `payments-api<U+200B>`.
"""

from __future__ import annotations

import unicodedata

# Invisible characters that are not in category Cf (format): fillers, joiners and variation selectors.
_INVISIBLE_EXTRA = frozenset(
    {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x2800, 0x3164, 0xFFA0}
    | set(range(0xFE00, 0xFE10))  # variation selectors
    | set(range(0xE0100, 0xE01F0))  # variation selectors supplement
)


def invisible(char: str) -> bool:
    """Format characters (zero-width spaces and joiners, bidi controls, soft hyphen…), controls, and the few
    other characters that draw nothing."""
    return unicodedata.category(char) in ("Cf", "Cc") or ord(char) in _INVISIBLE_EXTRA


def canonical(name: str) -> str:
    """The form two names are compared in: NFKC (full-width and compatibility forms folded), invisible characters
    removed, surrounding whitespace dropped."""
    folded = unicodedata.normalize("NFKC", name)
    return "".join(c for c in folded if not invisible(c)).strip()


def visible(name: str) -> str:
    """The name with each invisible character shown as <U+XXXX>."""
    return "".join(f"<U+{ord(c):04X}>" if invisible(c) else c for c in name)
