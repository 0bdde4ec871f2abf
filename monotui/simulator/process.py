"""`monotui demo`'s simulated production in its own process: `monotui simulate --port P --for-parent`.

Started before the app's heavy imports, so the two start side by side on two cores, and the app never shares its
GIL with the simulator. The child writes its URL on its stdout once it serves, and stops when its stdin closes —
so it also goes when the parent is killed outright. Nothing here imports the simulator itself (starlette, uvicorn).
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import IO, Self

READY_TIMEOUT_S = 120.0  # a generous bound: a loaded 2-core machine can take seconds to import and build the world


class SimulatorFailed(Exception):
    """The child did not start serving; `str()` says why in one line (its last line of output, if any)."""


class SimulatorProcess:
    """`with SimulatorProcess(["--port", "0", ...]) as sim: ...; sim.wait_ready()` → the URL it serves on.

    `args` are `monotui simulate` options. Leaving the block (normally, on an exception or on Ctrl-C) stops the
    child and reaps it.
    """

    def __init__(self, args: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.args = list(args)
        self.env = env
        self.url: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._errors: IO[bytes] | None = None

    def start(self) -> Self:
        # its warnings go to an unnamed file, not to the terminal the TUI draws on (nor to a pipe nobody drains)
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115  # closed by stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monotui", "simulate", *self.args, "--for-parent"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._errors, env=self.env,
            start_new_session=True)  # the terminal's Ctrl-C and Ctrl-Z reach the app; the app stops the child
        return self

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> str:
        """Block until the child serves (it writes its URL then) and return the URL; SimulatorFailed if it exits
        first or stays silent for `timeout` seconds."""
        if self.url is not None:
            return self.url
        assert self.process is not None and self.process.stdout is not None, "not started"
        out = self.process.stdout
        line = b""
        deadline = time.monotonic() + timeout
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise SimulatorFailed(f"the simulated production did not start within {timeout:g} s")
            ready, _, _ = select.select([out], [], [], left)
            if not ready:
                continue
            chunk = os.read(out.fileno(), 4096)
            if not chunk:  # the child exited without serving
                raise SimulatorFailed(self._why())
            line += chunk
        self.url = line.decode("ascii", "replace").strip()
        return self.url

    def _why(self) -> str:
        assert self.process is not None and self._errors is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self._errors.seek(0)
        lines = [line.strip() for line in self._errors.read().decode("utf-8", "replace").splitlines()
                 if line.strip()]
        last = lines[-1].removeprefix("monotui: ") if lines else f"exit status {self.process.returncode}"
        return f"the simulated production did not start: {last}"

    def stop(self) -> None:
        """SIGTERM (the simulator's server shuts down cleanly), then SIGKILL if it lingers; always reaped."""
        process, self.process = self.process, None
        if process is not None:
            if process.stdin is not None:
                process.stdin.close()
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()
        if self._errors is not None:
            self._errors.close()
            self._errors = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
