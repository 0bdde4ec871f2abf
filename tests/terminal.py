"""Run `monotui` in a real pseudo-terminal, as a person would: read what it draws, type keys, wait for it to exit."""

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
from collections.abc import Sequence
from pathlib import Path

from bench.terminal import Screen

# CSI, OSC, DCS/APC strings and charset selections: what remains is the text on screen.
_ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[PX^_].*?\x1b\\"
                      rb"|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


class Terminal:
    """`with Terminal(["demo"], env) as term: term.wait_for("cart-api"); term.type("q"); term.wait_exit()`."""

    def __init__(self, args: Sequence[str], env: dict[str, str], cwd: Path | None = None,
                 size: tuple[int, int] = (120, 35), term: str = "xterm-256color") -> None:
        self._master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        self.proc = subprocess.Popen([sys.executable, "-m", "monotui", *args], stdin=slave, stdout=slave,
                                     stderr=slave, env={**env, "TERM": term}, cwd=cwd,
                                     close_fds=True, start_new_session=True)
        os.close(slave)
        self._raw = b""
        self._screen = Screen(*size)  # what the terminal shows now, fed up to `_shown`
        self._shown = 0

    @property
    def raw(self) -> bytes:
        """Every byte the app wrote so far, escape sequences and all."""
        return self._raw

    @property
    def text(self) -> str:
        return _ESCAPES.sub(b"", self._raw).decode("utf-8", "replace")

    @property
    def screen(self) -> str:
        """The characters on the terminal now (the text above holds everything ever drawn). Fed up to the last
        ESC read, so that no control sequence is cut in two."""
        end = self._raw.rfind(b"\x1b")
        if end > self._shown:
            self._screen.feed(self._raw[self._shown:end].decode("utf-8", "replace"))
            self._shown = end
        return "\n".join(self._screen.lines())

    def _drain(self, timeout: float) -> bool:
        """Read what is there (the child blocks if nobody reads); False once the terminal is closed."""
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self._master, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        self._raw += chunk
        return bool(chunk)

    def wait_for(self, *needles: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while not all(n in self.text for n in needles):
            if time.monotonic() > deadline or (not self._drain(0.1) and self.proc.poll() is not None):
                raise AssertionError(f"{needles} not shown within {timeout:g}s; screen:\n{self.text[-3000:]}")
        return self.text

    def type(self, keys: str) -> None:
        os.write(self._master, keys.encode())

    def wait_exit(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._drain(0.1)
        return self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        os.close(self._master)
