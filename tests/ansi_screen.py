"""What a real terminal shows for a byte stream, and in which colours: a small VT screen (cursor moves, SGR, text,
wide characters) and the colours of two common 16-colour palettes, with WCAG contrast.

The screen keeps the current grid (`rows()`) and every cell ever drawn (`drawn`), so a test sees what flashed by
between two reads as well as what stays.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# The 16 colours of xterm's default palette (xterm's XTerm-col.ad / charproc.c) and of Tango (GNOME Terminal).
XTERM = ["#000000", "#cd0000", "#00cd00", "#cdcd00", "#0000ee", "#cd00cd", "#00cdcd", "#e5e5e5",
         "#7f7f7f", "#ff0000", "#00ff00", "#ffff00", "#5c5cff", "#ff00ff", "#00ffff", "#ffffff"]
TANGO = ["#2e3436", "#cc0000", "#4e9a06", "#c4a000", "#3465a4", "#75507b", "#06989a", "#d3d7cf",
         "#555753", "#ef2929", "#8ae234", "#fce94f", "#729fcf", "#ad7fa8", "#34e2e2", "#eeeeec"]
PALETTES = {"xterm": XTERM, "tango": TANGO}

# A colour as the terminal was told it: ("ansi", 0-15), ("rgb", (r, g, b)) or ("default", "fg"/"bg").
Colour = tuple[str, object]
DEFAULT_FG: Colour = ("default", "fg")
DEFAULT_BG: Colour = ("default", "bg")


def _cube(index: int) -> tuple[int, int, int]:
    """xterm's 256-colour table above the first 16: a 6×6×6 cube, then 24 greys."""
    if index >= 232:
        grey = 8 + (index - 232) * 10
        return (grey, grey, grey)
    index -= 16
    steps = [0, 95, 135, 175, 215, 255]
    return (steps[index // 36], steps[(index // 6) % 6], steps[index % 6])


@dataclass(frozen=True)
class Pen:
    fg: Colour = DEFAULT_FG
    bg: Colour = DEFAULT_BG
    bold: bool = False
    dim: bool = False
    reverse: bool = False
    underline: bool = False


@dataclass
class Drawn:
    """One kind of cell drawn: its pen and an example of the line it was in (for the failure message)."""

    pen: Pen
    chars: str
    line: str


@dataclass
class Screen:
    width: int
    height: int
    grid: list[list[tuple[str, Pen]]] = field(default_factory=list)
    drawn: dict[tuple[Pen, str], Drawn] = field(default_factory=dict)  # (pen, char class) → an example
    sequences: set[bytes] = field(default_factory=set)  # every SGR parameter string seen

    def __post_init__(self) -> None:
        self.grid = [[(" ", Pen())] * self.width for _ in range(self.height)]
        self._row = self._col = 0
        self._pen = Pen()
        self._pending = b""
        self._touched: list[tuple[Pen, str]] = []

    _TOKEN = re.compile(rb"\x1b\[([0-9;?<>=$]*)([ -/]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
                        rb"|\x1b[P^_X].*?\x1b\\|\x1b[()][0-9A-Za-z]|\x1b[=>78]|(\r)|(\n)|([^\x1b\r\n]+)", re.DOTALL)

    def feed(self, data: bytes) -> None:
        data = self._pending + data
        position = 0
        for match in self._TOKEN.finditer(data):
            if match.start() != position:  # an incomplete sequence at the end: wait for the rest
                break
            if match.group(6) is not None and match.end() == len(data):
                # text at the very end may be a cut UTF-8 character: keep the incomplete tail
                text = match.group(6)
                cut = len(text)
                while cut > 0 and cut > len(text) - 4 and (text[cut - 1] & 0xC0) == 0x80:
                    cut -= 1
                if cut > 0 and text[cut - 1] >= 0xC0:
                    self._text(text[:cut - 1].decode("utf-8", "replace"))
                    position = match.start() + cut - 1
                    break
            self._token(match)
            position = match.end()
        self._pending = data[position:]

    def _token(self, match: re.Match[bytes]) -> None:
        if match.group(3) is not None:
            params, final = match.group(1), match.group(3)
            if final == b"m":
                self.sequences.add(params)
                self._sgr(params)
            elif final in (b"H", b"f") and not params.startswith((b"?", b">", b"<", b"=")):
                parts = [int(p) if p else 1 for p in params.split(b";")] if params else [1, 1]
                self._row = min(max(parts[0], 1), self.height) - 1
                self._col = min(max(parts[1] if len(parts) > 1 else 1, 1), self.width) - 1
            elif final == b"J" and params in (b"2", b"3"):
                self.grid = [[(" ", self._pen)] * self.width for _ in range(self.height)]
        elif match.group(4) is not None:
            self._col = 0
        elif match.group(5) is not None:
            self._row = min(self._row + 1, self.height - 1)
        elif match.group(6) is not None:
            self._text(match.group(6).decode("utf-8", "replace"))

    def _text(self, text: str) -> None:
        for char in text:
            if unicodedata.combining(char) or char in "\u200b\u200d\ufe0f":
                continue
            wide = unicodedata.east_asian_width(char) in ("W", "F")
            if self._col >= self.width or (wide and self._col >= self.width - 1):
                continue  # autowrap is off (Textual writes ?7l): the character is not drawn
            row = self.grid[self._row]
            row[self._col] = (char, self._pen)
            if wide:
                row[self._col + 1] = ("", self._pen)
            if not char.isspace():
                key = (self._pen, char_class(char))
                if key not in self.drawn:
                    self.drawn[key] = Drawn(self._pen, char, "")
                elif char not in self.drawn[key].chars and len(self.drawn[key].chars) < 40:
                    self.drawn[key].chars += char
                self._touched.append(key)
            self._col += 2 if wide else 1
        line = ""
        for key in self._touched:  # the line each new kind of cell was first drawn in, for the failure message
            if not self.drawn[key].line:
                line = line or self.line(self._row)
                self.drawn[key].line = line
        self._touched.clear()

    def line(self, row: int) -> str:
        return "".join(c for c, _ in self.grid[row]).rstrip()

    def rows(self) -> list[str]:
        return [self.line(r) for r in range(self.height)]

    def _sgr(self, params: bytes) -> None:
        codes = [int(p) if p else 0 for p in params.split(b";")] if params else [0]
        pen = self._pen
        i = 0
        while i < len(codes):
            code = codes[i]
            if code == 0:
                pen = Pen()
            elif code == 1:
                pen = _with(pen, bold=True)
            elif code == 2:
                pen = _with(pen, dim=True)
            elif code == 4:
                pen = _with(pen, underline=True)
            elif code == 7:
                pen = _with(pen, reverse=True)
            elif code == 22:
                pen = _with(pen, bold=False, dim=False)
            elif code == 24:
                pen = _with(pen, underline=False)
            elif code == 27:
                pen = _with(pen, reverse=False)
            elif 30 <= code <= 37:
                pen = _with(pen, fg=("ansi", code - 30))
            elif 90 <= code <= 97:
                pen = _with(pen, fg=("ansi", code - 90 + 8))
            elif 40 <= code <= 47:
                pen = _with(pen, bg=("ansi", code - 40))
            elif 100 <= code <= 107:
                pen = _with(pen, bg=("ansi", code - 100 + 8))
            elif code == 39:
                pen = _with(pen, fg=DEFAULT_FG)
            elif code == 49:
                pen = _with(pen, bg=DEFAULT_BG)
            elif code in (38, 48) and i + 1 < len(codes):
                colour: Colour
                if codes[i + 1] == 5 and i + 2 < len(codes):
                    n = codes[i + 2]
                    colour = ("ansi", n) if n < 16 else ("rgb", _cube(n))
                    i += 2
                elif codes[i + 1] == 2 and i + 4 < len(codes):
                    colour = ("rgb", tuple(codes[i + 2:i + 5]))
                    i += 4
                else:
                    colour = DEFAULT_FG if code == 38 else DEFAULT_BG
                pen = _with(pen, fg=colour) if code == 38 else _with(pen, bg=colour)
            i += 1
        self._pen = pen


def _with(pen: Pen, **changes: object) -> Pen:
    return Pen(**{**pen.__dict__, **changes})  # type: ignore[arg-type]


def char_class(char: str) -> str:
    """"text" (letters, digits, signs, icons), "graphic" (block elements: the sparklines' bars), or "border"
    (box drawing: the frames of panels and dialogs, decoration that carries no reading)."""
    code = ord(char)
    if 0x2500 <= code <= 0x257F:
        return "border"
    if 0x2580 <= code <= 0x259F:
        return "graphic"
    return "text"


def rgb(colour: Colour, palette: list[str], role: str) -> tuple[int, int, int]:
    kind, value = colour
    if kind == "rgb":
        return value  # type: ignore[return-value]
    if kind == "default":  # a dark terminal (monotui's 16-colour theme is ansi-dark): light grey on black
        value = 7 if value == "fg" else 0
    index = int(value)  # type: ignore[call-overload]
    if index >= 16:
        return _cube(index)
    h = palette[index]
    return (int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16))


def luminance(colour: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def cell_contrast(pen: Pen, palette: list[str]) -> float:
    """The contrast of a cell's text on its background as the terminal paints it: reverse swaps the two; dim text
    is drawn half-way to the background (as xterm and VTE do)."""
    fg, bg = rgb(pen.fg, palette, "fg"), rgb(pen.bg, palette, "bg")
    if pen.reverse:
        fg, bg = bg, fg
    if pen.dim:
        fg = (round((fg[0] + bg[0]) / 2), round((fg[1] + bg[1]) / 2), round((fg[2] + bg[2]) / 2))
    return contrast(fg, bg)


def describe(pen: Pen) -> str:
    def name(c: Colour) -> str:
        kind, value = c
        if kind == "ansi":
            names = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]
            index = int(value)  # type: ignore[call-overload]
            return names[index] if index < 8 else f"bright {names[index - 8]}" if index < 16 else f"colour {index}"
        return str(value)

    attrs = [a for a in ("bold", "dim", "reverse", "underline") if getattr(pen, a)]
    return f"{name(pen.fg)} on {name(pen.bg)}{' (' + ', '.join(attrs) + ')' if attrs else ''}"
