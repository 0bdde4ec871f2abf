"""Names as a person sees them: `canonical` for comparing (protected services, typed confirmations), `visible` for
showing a name whose invisible characters would otherwise make it look like another.

`payments-api` followed by a zero-width space looks exactly like `payments-api`; both have the same canonical form,
so the protection of one covers the other, and `visible` shows the impostor as `payments-api<U+200B>`.
"""

from __future__ import annotations

import unicodedata

# Invisible characters that are not in category Cf (format): Unicode's Default_Ignorable_Code_Point (fillers,
# joiners, variation selectors, reserved ignorables) plus the braille blank.
_INVISIBLE_EXTRA = frozenset(
    {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180E, 0x180F, 0x2800, 0x3164, 0xFFA0,
     0x16FE4}
    | set(range(0x2060, 0x2070))  # word joiner … nominal digit shapes, and the reserved ones between
    | set(range(0xFE00, 0xFE10))  # variation selectors
    | set(range(0xFFF0, 0xFFF9))  # reserved default ignorables
    | set(range(0x1BCA0, 0x1BCA4))  # shorthand format controls
    | set(range(0x1D173, 0x1D17B))  # musical formatting
    | set(range(0xE0000, 0xE1000))  # tags, variation selectors supplement, reserved
)



def _char_class(points: frozenset[int]) -> str:
    """A regular-expression class matching exactly `points` (consecutive code points as ranges)."""
    parts, ordered = [], sorted(points)
    start = prev = ordered[0]
    for point in [*ordered[1:], -1]:
        if point != prev + 1:
            parts.append(f"\\U{start:08x}" + (f"-\\U{prev:08x}" if prev != start else ""))
            start = point
        prev = point
    return "[" + "".join(parts) + "]"


# matches the invisible characters that str.isprintable() accepts (the rest are Cf or Cc, which it refuses)
PRINTABLE_INVISIBLE_PATTERN = _char_class(_INVISIBLE_EXTRA)

# Characters that look like ASCII ones in a service name: dashes and the Cyrillic and Greek letters drawn like
# Latin ones (a subset of Unicode's confusables, for the characters a name is made of).
_LOOK_ALIKE = str.maketrans({
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2043": "-", "\ufe58": "-", "\u02d7": "-",
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l",
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "ϲ": "c", "ɡ": "g", "ı": "i", "ℓ": "l",
})


def invisible(char: str) -> bool:
    """Format characters (zero-width spaces and joiners, bidi controls, soft hyphen…), controls, and the few
    other characters that draw nothing; a lone surrogate too (no terminal can be sent one)."""
    return unicodedata.category(char) in ("Cf", "Cc", "Cs") or ord(char) in _INVISIBLE_EXTRA


def canonical(name: str) -> str:
    """The form two names are compared in, a skeleton in the manner of Unicode TR39: NFKC (full-width and
    compatibility forms folded), case folded, combining marks dropped (`payments-api` followed by U+0307, or with
    a precomposed `ṗ`, reads as `payments-api`), invisible characters removed, look-alike dashes and
    Cyrillic/Greek letters mapped to the ASCII they imitate, surrounding whitespace dropped."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name).casefold())
    bare = "".join(c for c in folded if not unicodedata.category(c).startswith("M") and not invisible(c))
    return unicodedata.normalize("NFC", bare.translate(_LOOK_ALIKE)).strip()


def visible(name: str) -> str:
    """The name with each invisible character shown as <U+XXXX>."""
    return "".join(f"<U+{ord(c):04X}>" if invisible(c) else c for c in name)
