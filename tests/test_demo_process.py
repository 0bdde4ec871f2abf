"""`monotui demo` runs its simulated production in a child process (`monotui simulate`), which is gone when the
demo ends — after `q`, when the demo is killed outright, when the configuration is bad, when the simulator cannot
start — and the app on the terminal shows the child's production."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from monotui.simulator.process import SimulatorProcess
from monotui.simulator.world import SimConfig, World

from .terminal import Terminal

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MONOTUI_")}
    return {**clean, "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"), "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
            "HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def simulators(seed: int) -> dict[int, int]:
    """Running `monotui simulate` processes with this seed (the test's marker): pid → parent pid. A zombie (exited,
    not yet reaped by whoever inherited it) does not run and is not listed."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if b"simulate" in argv and b"--seed" in argv and argv[argv.index(b"--seed") + 1] == str(seed).encode() \
                and state != "Z":
            found[int(entry.name)] = int(ppid)
    return found


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g}s: {what}")
        time.sleep(0.05)


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def first_service(seed: int) -> str:
    return World(SimConfig(services=12, seed=seed)).rollouts()[0].service


def test_the_demo_shows_the_production_of_its_child_simulator_which_is_gone_after_quit(env: dict[str, str]) -> None:
    port, seed = free_port(), 7301
    url = f"http://127.0.0.1:{port}"
    with Terminal(["demo", "--port", str(port), "--seed", str(seed)], env, cwd=ROOT) as term:
        term.wait_for(f"monotui demo: the simulated production listens on {url}", "PRODUCTION", first_service(seed),
                      timeout=90)
        [(child, parent)] = simulators(seed).items()
        assert parent == term.proc.pid and child != term.proc.pid  # its own process, the demo's child
        assert answers(url)
        term.type("q")
        assert term.wait_exit() == 0
        assert term.text.count(f"listens on {url}") == 2  # also said after quitting, on the plain terminal
    assert simulators(seed) == {}
    assert not answers(url)


def test_a_demo_killed_outright_takes_its_simulator_with_it(env: dict[str, str]) -> None:
    seed = 7302
    with Terminal(["demo", "--seed", str(seed)], env, cwd=ROOT) as term:
        term.wait_for("PRODUCTION", first_service(seed), timeout=90)
        assert len(simulators(seed)) == 1
        term.proc.send_signal(signal.SIGKILL)  # no cleanup runs in the demo: the child sees its stdin close
        term.proc.wait(timeout=30)
        wait_until(lambda: simulators(seed) == {}, "the simulator stops after its demo was killed")


def test_a_bad_config_stops_the_demo_and_its_simulator(tmp_path: Path, env: dict[str, str]) -> None:
    seed = 7303
    config = tmp_path / "config.toml"
    config.write_text('nonsense_key = 1\n')
    out = subprocess.run([sys.executable, "-m", "monotui", "demo", "--config", str(config), "--seed", str(seed)],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, stdin=subprocess.DEVNULL)
    assert out.returncode == 2
    assert "nonsense_key: unknown key" in out.stderr and "Traceback" not in out.stderr
    assert simulators(seed) == {}


def test_a_simulator_that_cannot_start_is_said_in_one_line(env: dict[str, str]) -> None:
    seed = 7304
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "monotui", "demo", "--port", str(port), "--seed", str(seed)],
                             capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
                             stdin=subprocess.DEVNULL)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == ("monotui: the simulated production did not start: cannot listen "
                                                   f"on 127.0.0.1:{port}: Address already in use")
    assert simulators(seed) == {}


def test_the_simulator_process_is_stopped_and_reaped_on_ctrl_c() -> None:
    seed = 7305
    with pytest.raises(KeyboardInterrupt), SimulatorProcess(["--port", "0", "--seed", str(seed)]) as sim:
        url = sim.wait_ready()
        assert sim.process is not None
        pid = sim.process.pid
        assert answers(url) and list(simulators(seed)) == [pid]
        raise KeyboardInterrupt
    with pytest.raises(ChildProcessError):  # reaped already: no zombie left behind
        os.waitpid(pid, os.WNOHANG)
    assert simulators(seed) == {} and not answers(url)
