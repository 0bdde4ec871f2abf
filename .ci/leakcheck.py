"""What a test leaves behind in its process, for the tests that run after it on the same pytest(-xdist) worker.

    PYTHONPATH=.ci:$PYTHONPATH python -m pytest -p leakcheck -n auto --dist loadgroup -m "not terminal"

After each test (its fixtures torn down) this compares the process with what it was before the test and appends
what changed to $LEAKCHECK_OUT (default leakcheck.txt): environment variables, working directory, umask, signal
dispositions and mask, resource limits (what a child process inherits), threads, child processes, open file
descriptors, the asyncio policy, the default socket timeout, the time zone, the cycle collector's state. Each
test's wall time, its process's CPU time and its waited children's CPU time go to $LEAKCHECK_OUT.cpu (tab
separated), for finding where a run's seconds go when the machine is shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import resource
import signal
import socket
import sys
import threading
import time
from collections.abc import Generator
from typing import Any

import pytest

OUT = os.environ.get("LEAKCHECK_OUT", "leakcheck.txt")
SIGNALS = [s for s in signal.Signals if s not in (signal.SIGKILL, signal.SIGSTOP)]
LIMITS = [getattr(resource, n) for n in dir(resource) if n.startswith("RLIMIT_")]
IGNORED_VARIABLES = {"PYTEST_CURRENT_TEST"}


def _children() -> set[tuple[int, str]]:
    me, found = os.getpid(), set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
            if parent == me:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    found.add((int(pid), f.read().replace(b"\0", b" ")[:120].decode("utf-8", "replace")))
        except (OSError, ValueError, IndexError):
            pass
    return found


def _fds() -> dict[int, str]:
    found = {}
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            found[int(fd)] = os.readlink(f"/proc/self/fd/{fd}")
    return found


def _state() -> dict[str, Any]:
    umask = os.umask(0o022)
    os.umask(umask)
    wakeup = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(wakeup)
    return {
        "environ": {k: v for k, v in os.environ.items() if k not in IGNORED_VARIABLES},
        "cwd": os.getcwd(), "umask": umask,
        "signals": {s.name: repr(signal.getsignal(s)) for s in SIGNALS},
        "sigmask": sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])),
        "rlimits": {r: resource.getrlimit(r) for r in LIMITS},
        "threads": sorted(t.name for t in threading.enumerate()),
        "children": _children(), "fds": _fds(),
        "policy": type(asyncio.get_event_loop_policy()).__name__,
        "socket timeout": socket.getdefaulttimeout(), "tzname": time.tzname, "stdin": repr(sys.stdin),
        "wakeup fd": wakeup, "gc": (gc.isenabled(), gc.get_threshold()),
    }


def _differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    lines = []
    for key, old in before.items():
        new = after[key]
        if key == "environ":
            added = {k: new[k] for k in new.keys() - old.keys()}
            changed = {k: (old[k], new[k]) for k in new.keys() & old.keys() if old[k] != new[k]}
            removed = sorted(old.keys() - new.keys())
            if added or changed or removed:
                lines.append(f"environ: added {added}, changed {changed}, removed {removed}")
        elif key == "children":
            if new - old:
                lines.append(f"child processes left running: {sorted(new - old)}")
        elif key == "fds":
            opened = {fd: what for fd, what in new.items() if old.get(fd) != what}
            if opened:
                lines.append(f"file descriptors left open: {opened}")
        elif old != new:
            lines.append(f"{key}: {old!r} -> {new!r}")
    return lines


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    before = _state()
    wall, cpu, kids = time.perf_counter(), time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    result = yield
    kids_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    children_cpu = (kids_after.ru_utime + kids_after.ru_stime) - (kids.ru_utime + kids.ru_stime)
    with open(OUT + ".cpu", "a") as f:
        f.write(f"{time.perf_counter() - wall:.2f}\t{time.process_time() - cpu:.2f}\t{children_cpu:.2f}\t{worker}\t"
                f"{item.nodeid}\n")
    lines = _differences(before, _state())
    if lines:
        with open(OUT, "a") as f:
            f.write(f"[{worker}] {item.nodeid}\n" + "".join(f"    {line}\n" for line in lines))
    return result
