"""A demo ended by a signal (SIGTERM, or SIGHUP when the pane or SSH session closes) ends as after `q`: its
simulator, Prometheus and Alertmanager stop with it."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from .terminal import Terminal
from .test_demo_process import ROOT, env, first_service  # noqa: F401  # env: the fixture
from .test_demo_process import wait_until as wait_sync


def _children(pid: int) -> dict[int, str]:
    """The running processes whose parent is `pid`: pid → command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if entry.name.isdigit() and int(ppid) == pid and state != "Z":
            found[int(entry.name)] = command
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_demo_ended_by_sigterm_or_sighup_stops_prometheus_and_alertmanager_too(
        sig: signal.Signals, env: dict[str, str]) -> None:  # noqa: F811
    """`kill PID`, or the tmux pane / SSH session closed (SIGHUP): the demo ends as with `q`, and Prometheus (and
    Alertmanager) stop with the simulator — no orphans."""
    from monotui.simulator.prometheus import find_prometheus

    if find_prometheus() is None:
        pytest.skip("prometheus is not installed (.ci/run installs it)")
    seed = 7391
    with Terminal(["demo", "--prometheus", "--seed", str(seed)], env, cwd=ROOT) as term:
        term.wait_for("PRODUCTION", first_service(seed), timeout=120)
        children = _children(term.proc.pid)
        assert any("prometheus" in c for c in children.values()), children
        term.proc.send_signal(sig)
        term.wait_exit(timeout=60)
        wait_sync(lambda: not any(Path(f"/proc/{pid}/cmdline").exists()
                                   and Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children),
                   "every child of the demo stopped", timeout=30)
        assert term.text.count("the simulated production listens on") == 2, "ended as after q"
