"""`monotui logs SERVICE`: the canary's (or --stable) lines from the deploy API's logs endpoint, each prefixed with
its instance; --follow keeps printing until Ctrl+C, which stops it quietly (exit 130, no traceback). The deploy API
serves `instances` and the logs endpoint as the OpenAPI document says."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import msgspec
import pytest

from monotui.cli import main
from monotui.cli_logs import duration
from monotui.models import LogLine, Rollout, Strategy
from monotui.simulator.instances import log_feed
from monotui.simulator.openapi import openapi_document
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World

from .conftest import make_world
from .test_cli import config

ROOT = Path(__file__).resolve().parent.parent


def bad_canary() -> tuple[World, str]:
    world = make_world(instances=True)
    service = next(iter(world.services))
    world.deploy(service, bad=True, strategy=Strategy.CANARY)
    return world, service


def test_logs_prints_the_canary_and_the_stable_lines(tmp_path: Path, audit_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    world, service = bad_canary()
    with SimulatorServer(world, tick_interval=None) as sim:
        path = config(tmp_path, sim.url, audit_path)
        rollout = sim.world.rollout(service)
        canary = [i.name for i in rollout.instances if i.revision == rollout.revision]
        assert main(["logs", service, "--config", path]) == 0
        out = capsys.readouterr().out.splitlines()
        assert out and all(any(line.startswith(f"[pod/{name}/app] ") for name in canary) for line in out)
        assert any("upstream returned 500" in line for line in out)  # the bad release's errors
        assert main(["logs", service, "--stable", "--tail", "1", "--config", path]) == 0
        stable = capsys.readouterr().out.splitlines()
        assert len(stable) == 1 and not any("ERROR" in line for line in stable)
        assert main(["logs", "no-such-service", "--config", path]) == 1
        assert "no rollout of no-such-service" in capsys.readouterr().err


def test_since_takes_durations() -> None:
    assert (duration("10m"), duration("30s"), duration("2h"), duration("45")) == (600, 30, 7200, 45)


def as_a_shell_starts_it() -> None:
    """Ctrl+C as a terminal gives it: SIGINT neither ignored nor blocked. A test runner's worker may hand its own
    signal disposition and mask down to its children (both survive exec), which a shell never does."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def sigint_state(pid: int) -> tuple[bool, bool]:
    """(blocked, ignored) of SIGINT in a running process, from /proc/PID/status."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    bit = 1 << (signal.SIGINT - 1)
    return bool(int(fields["SigBlk"], 16) & bit), bool(int(fields["SigIgn"], 16) & bit)


def test_logs_follow_stops_cleanly_on_ctrl_c(tmp_path: Path, audit_path: Path) -> None:
    world, service = bad_canary()
    with SimulatorServer(world, tick_interval=None) as sim:
        path = config(tmp_path, sim.url, audit_path)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen([sys.executable, "-m", "monotui", "logs", service, "--follow", "--since", "10m",
                                    "--config", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=env, preexec_fn=as_a_shell_starts_it)
        try:
            assert process.stdout is not None
            rollout = sim.world.rollout(service)
            log_feed(sim.world).write(service, rollout.instances[0].name, "ERROR followed-3318",
                                      revision=rollout.revision)
            while "followed-3318" not in (line := process.stdout.readline()):
                assert line, "the stream ended before the line came"
            assert sigint_state(process.pid) == (False, False)  # Ctrl+C reaches it as it does from a terminal
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 130
        assert "Traceback" not in err and "Error" not in err, err


def test_the_deploy_api_serves_instances_and_logs_as_documented() -> None:
    world, service = bad_canary()
    doc = openapi_document()
    assert "instances" in doc["components"]["schemas"]["Rollout"]["properties"]
    assert "/v1/rollouts/{rollout_id}/logs" in doc["paths"]
    with SimulatorServer(world, tick_interval=None) as sim, httpx.Client(base_url=sim.url) as client:
        rollout = msgspec.json.decode(client.get(f"/v1/rollouts/{service}").content, type=Rollout)
        assert rollout.stable is not None
        assert {i.revision for i in rollout.instances} == {rollout.revision, rollout.stable.revision}
        answer = client.get(f"/v1/rollouts/{service}/logs", params={"revision": "canary", "tail": "5"})
        assert answer.headers["content-type"].startswith("application/x-ndjson")
        lines = [msgspec.json.decode(raw, type=LogLine) for raw in answer.content.splitlines()]
        assert 0 < len(lines) <= 5 and {line.revision for line in lines} == {rollout.revision}
        assert client.get("/v1/rollouts/nope/logs").status_code == 404
