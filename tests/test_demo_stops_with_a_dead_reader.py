"""`monotui demo` (with `--prometheus` too) whose terminal's reader has gone (`monotui demo |
head -3`, a dead SSH session) still ends promptly on SIGTERM, and every process it started goes with it.

Once the reader has gone, Textual's output thread dies on the broken pipe and the app's next write blocks its event
loop for good: the quit the signal asks for never runs. The stop signals' watchdog stops the children and ends the
process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .test_demo_process import ROOT, env, simulators, wait_until  # noqa: F401  # env: a fixture

PROMPT_EXIT_S = 20.0  # the watchdog gives the orderly stop 5 s; the children stop within a second or two each


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if int(ppid) == pid and state != "Z":
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def blocked_for_good(pid: int) -> bool:
    """The demo's main thread waits on a lock (the full output queue), not on its event loop's epoll, for a second
    on end: the state the issue's hang was in."""
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        try:
            if not Path(f"/proc/{pid}/wchan").read_text().startswith("futex"):
                return False
        except OSError:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("extra", [[], ["--prometheus"]], ids=["demo", "prometheus"])
def test_a_demo_whose_reader_has_gone_ends_promptly_on_sigterm_with_its_children(
        env: dict[str, str], extra: list[str]) -> None:  # noqa: F811
    if extra and not Path("/usr/bin/prometheus").exists():
        pytest.fail("prometheus is missing: apt-get install prometheus (.ci/run does)")
    seed = 7316 + len(extra)
    reader, writer = os.pipe()
    demo = subprocess.Popen([sys.executable, "-m", "monotui", "demo", "--seed", str(seed), *extra],
                            stdin=subprocess.DEVNULL, stdout=writer, stderr=writer, env=env, cwd=ROOT,
                            start_new_session=True)
    os.close(writer)
    try:
        seen = b""
        while b"PRODUCTION" not in seen:  # the app draws on the pipe, as `| head -3` would read it
            chunk = os.read(reader, 65536)
            assert chunk, f"the demo ended before drawing: {seen[-2000:]!r}"
            seen += chunk
        started = children_of(demo.pid)
        assert len(started) == (3 if extra else 1), started  # simulator (+ Prometheus and Alertmanager)
        os.close(reader)  # the reader goes, as `head` does after its lines
        reader = -1
        wait_until(lambda: blocked_for_good(demo.pid), "the demo's writes block (the hang of the issue)")
        demo.send_signal(signal.SIGTERM)
        asked = time.monotonic()
        try:
            status = demo.wait(PROMPT_EXIT_S)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the demo ignored SIGTERM for {PROMPT_EXIT_S:g} s") from None
        print(f"exit status {status} {time.monotonic() - asked:.1f} s after SIGTERM")
        assert status in (0, 128 + signal.SIGTERM)
        assert not [pid for pid in started if alive(pid)], "a child of the demo outlived it"
        assert simulators(seed) == {}
    finally:
        if reader >= 0:
            os.close(reader)
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
