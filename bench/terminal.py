"""`monotui` in a real pseudo-terminal, timed as a person sees it: each frame Textual paints is read off the terminal
when it is complete, into a small screen model, with the time it arrived.

The terminal answers Textual's query for synchronized output, so every frame comes wrapped in `ESC[?2026h` …
`ESC[?2026l`: the end marker is the moment the frame is on the terminal, whole. The screen model knows cursor
moves, text, erasing; colours and other sequences are dropped (the benchmarks read names and layout, not colour).
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Self

from rich.cells import get_character_cell_size

SYNC_QUERY = b"\x1b[?2026$p"
SYNC_SUPPORTED = b"\x1b[?2026;2$y"  # DECRPM: mode 2026 known, reset (Textual then wraps each frame in it)
SYNC_END = b"\x1b[?2026l"
KEYS = {"down": b"\x1b[B", "up": b"\x1b[A", "pagedown": b"\x1b[6~", "pageup": b"\x1b[5~", "end": b"\x1b[F",
        "home": b"\x1b[H"}

_TOKEN = re.compile(r"\x1b\[([0-9;?<>=]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[PX^_].*?\x1b\\"
                    r"|\x1b[()][0-9A-Za-z]|\x1b.|[\r\n\x08]|[^\x1b\r\n\x08]+", re.S)


class Screen:
    """The characters on a terminal of `width` × `height` cells."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.cells = [[" "] * width for _ in range(height)]
        self.x = self.y = 0

    def lines(self) -> list[str]:
        return ["".join(row).rstrip() for row in self.cells]

    def _put(self, text: str) -> None:
        for char in text:
            if char < " ":
                continue
            size = get_character_cell_size(char)
            if size == 0 or not (0 <= self.y < self.height):
                continue
            if self.x + size <= self.width:
                self.cells[self.y][self.x] = char
                if size == 2:
                    self.cells[self.y][self.x + 1] = ""
            self.x += size

    def feed(self, text: str) -> None:
        for match in _TOKEN.finditer(text):
            token = match.group(0)
            final = match.group(2)
            if final is None:
                if token == "\r":
                    self.x = 0
                elif token == "\n":
                    self.y = min(self.height - 1, self.y + 1)
                elif token == "\x08":
                    self.x = max(0, self.x - 1)
                elif not token.startswith("\x1b"):
                    self._put(token)
                continue
            params = [int(p) if p.isdigit() else 0 for p in (match.group(1) or "").split(";")]
            n = params[0] or 1
            if final in "Hf":
                row = params[0] or 1
                col = params[1] if len(params) > 1 and params[1] else 1
                self.y, self.x = min(self.height, row) - 1, min(self.width, col) - 1
            elif final == "A":
                self.y = max(0, self.y - n)
            elif final == "B":
                self.y = min(self.height - 1, self.y + n)
            elif final == "C":
                self.x = min(self.width - 1, self.x + n)
            elif final == "D":
                self.x = max(0, self.x - n)
            elif final == "G":
                self.x = min(self.width, n) - 1
            elif final == "K" and 0 <= self.y < self.height:
                mode = params[0]
                start, end = {0: (self.x, self.width), 1: (0, self.x + 1), 2: (0, self.width)}.get(mode, (0, 0))
                self.cells[self.y][start:end] = [" "] * (end - start)
            elif final == "J" and params[0] == 2:
                self.cells = [[" "] * self.width for _ in range(self.height)]


class Frame:
    def __init__(self, at: float, lines: list[str]) -> None:
        self.at = at  # time.perf_counter() when its end marker was read
        self.lines = lines

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class PtyApp:
    """`monotui ARGS` in a pseudo-terminal: `with PtyApp(["--config", path]) as app: app.press("down")`.

    `started` is the time just before the process was started; `frames` every complete frame so far."""

    def __init__(self, args: Sequence[str], env: dict[str, str] | None = None, *, cwd: Path | None = None,
                 size: tuple[int, int] = (160, 50)) -> None:
        self.size = size
        self.screen = Screen(*size)
        self.frames: list[Frame] = []
        self._pending = b""
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        self._master = master
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-m", "monotui", *args], stdin=slave, stdout=slave,
                                     stderr=slave, env={**(env or os.environ), "TERM": "xterm-256color"}, cwd=cwd,
                                     close_fds=True, start_new_session=True)
        os.close(slave)

    def pump(self, timeout: float) -> bool:
        """Read what the terminal holds (waiting up to `timeout`), cut into frames; False once it is closed."""
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self._master, 1 << 20)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not chunk:
            return False
        now = time.perf_counter()
        if SYNC_QUERY in self._pending[-16:] + chunk:
            os.write(self._master, SYNC_SUPPORTED)
        self._pending += chunk
        while (end := self._pending.find(SYNC_END)) >= 0:
            cut = end + len(SYNC_END)
            self.screen.feed(self._pending[:cut].decode("utf-8", "replace"))
            self._pending = self._pending[cut:]
            self.frames.append(Frame(now, self.screen.lines()))
            del self.frames[:-200]
        return True

    def press(self, key: str) -> float:
        """Type one key (a name of KEYS, or text); the time it was written."""
        t0 = time.perf_counter()
        os.write(self._master, KEYS.get(key, key.encode()))
        return t0

    def frame_after(self, t0: float, shows: Callable[[Frame], bool], timeout: float = 60.0,
                    what: str = "a frame") -> Frame:
        """The first complete frame that ends after `t0` and `shows` what is awaited."""
        deadline = time.perf_counter() + timeout
        seen = 0
        while True:
            for frame in self.frames[seen:]:
                if frame.at >= t0 and shows(frame):
                    return frame
            seen = len(self.frames)
            if time.perf_counter() > deadline:
                last = self.frames[-1].text if self.frames else self._pending[-2000:].decode("utf-8", "replace")
                raise TimeoutError(f"{what} not painted within {timeout:g} s; last frame:\n{last}")
            if not self.pump(0.05) and self.proc.poll() is not None:
                raise RuntimeError(f"monotui exited ({self.proc.returncode}) before {what}")
            seen = min(seen, len(self.frames))

    def settle(self, quiet: float = 0.3, timeout: float = 30.0) -> None:
        """Read until no frame came for `quiet` seconds."""
        deadline = time.perf_counter() + timeout
        last = time.perf_counter()
        while time.perf_counter() - last < quiet and time.perf_counter() < deadline:
            count = len(self.frames)
            self.pump(0.05)
            if len(self.frames) != count:
                last = time.perf_counter()

    def quit(self, timeout: float = 30.0) -> int | None:
        self.press("q")
        deadline = time.perf_counter() + timeout
        while self.proc.poll() is None and time.perf_counter() < deadline:
            self.pump(0.1)
        return self.proc.poll()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        os.close(self._master)


def table_rows(frame: Frame, names: set[str]) -> list[str]:
    """The table's rows shown in `frame`, top to bottom: the lines that start with a known name, above the first
    panel (its top border)."""
    rows = []
    for line in frame.lines:
        text = line.strip()
        if text.startswith("╭"):
            break
        first = text.split(" ", 1)[0]
        if first in names:
            rows.append(first)
    return rows


def config_file(folder: Path, sources: Sequence[dict[str, object]]) -> Path:
    """A configuration with `sources` (name, kind, url, …) and its audit log in `folder`."""
    lines = ['actor = "bench@local"', f'audit_log = "{folder / "audit.log"}"']
    for source in sources:
        lines.append("[[sources]]")
        for key, value in source.items():
            shown = f'"{value}"' if isinstance(value, str) else str(value).lower() if isinstance(value, bool) \
                else repr(value)
            lines.append(f"{key} = {shown}")
    path = folder / "monotui.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def bench_env(folder: Path) -> dict[str, str]:
    """The environment without the user's own monotui settings, state or configuration."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MONOTUI_")}
    return {**clean, "XDG_STATE_HOME": str(folder / "state"), "XDG_CONFIG_HOME": str(folder / "config")}


def key_to_painted_frame(app: PtyApp, names: set[str], presses: int, *, pause: float = 0.05,
                         timeout: float = 60.0, seconds: float | None = None) -> list[float]:
    """Seconds from each key written to the terminal to the complete frame on the terminal that shows its effect.

    The keys are `G` and `g` in turn (the last row, then the first): each press scrolls the table by (nearly) a
    whole page, so the frame awaited is one where at most half of the rows shown before the key are still shown.
    The table needs more than two pages of rows. Stops after `presses`, or (with at least two presses) once
    `seconds` have passed since the first."""
    app.settle(0.2)
    latencies: list[float] = []
    start = time.perf_counter()
    for i in range(presses):
        if seconds is not None and len(latencies) >= 2 and time.perf_counter() - start > seconds:
            break
        before = set(table_rows(app.frames[-1], names))
        t0 = app.press("G" if i % 2 == 0 else "g")

        def scrolled(frame: Frame, before: set[str] = before) -> bool:
            rows = table_rows(frame, names)
            return bool(rows) and len(before & set(rows)) <= len(before) // 2

        frame = app.frame_after(t0, scrolled, timeout, what=f"the table scrolled by key {i + 1}")
        latencies.append(frame.at - t0)
        end = time.perf_counter() + pause
        while time.perf_counter() < end:
            app.pump(max(0.0, end - time.perf_counter()))
    return latencies
