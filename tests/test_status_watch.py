"""`monotui status --watch`: polls again until no rollout is progressing, then exits 0; on a terminal it redraws
the table in place; with --json it writes one document per poll, one per line; --timeout gives up with 3."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from monotui.cli import main
from monotui.models import Phase, Strategy
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World

from .conftest import make_world
from .terminal import Terminal


def config_for(url: str, tmp_path: Path) -> Path:
    config = tmp_path / "c.toml"
    config.write_text(f'audit_log = "{tmp_path / "audit.log"}"\n\n[[sources]]\nname = "prod"\nkind = "http"\n'
                      f'url = "{url}"\ntimeout = 10.0\n')
    return config


def deploying() -> World:
    world = make_world(initial_deploys=0)
    world.deploy("cart-api", strategy=Strategy.CANARY)  # about 35 simulated seconds of steps
    return world


@pytest.fixture
def moving_sim() -> Iterator[SimulatorServer]:
    """A world with a canary in progress, moving 5 times faster than real time: it ends in about 7 s."""
    with SimulatorServer(deploying(), tick_interval=0.1) as server:
        yield server


def test_watch_json_is_one_document_per_poll_until_nothing_progresses(
        moving_sim: SimulatorServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = config_for(moving_sim.url, tmp_path)
    assert main(["status", "--watch", "--json", "--interval", "0.2", "--timeout", "120", "--config", str(config)]) == 0
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(documents) >= 2
    phases = [{r["service"]: r["phase"] for r in d["rollouts"]} for d in documents]
    assert phases[0]["cart-api"] == Phase.PROGRESSING.value
    assert Phase.PROGRESSING.value not in phases[-1].values()
    assert moving_sim.world.rollout("cart-api").phase is not Phase.PROGRESSING


def test_watch_gives_up_after_the_timeout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with SimulatorServer(deploying(), tick_interval=None) as still:  # time stands still: it never ends
        config = config_for(still.url, tmp_path)
        assert main(["status", "--watch", "--interval", "0.1", "--timeout", "0.5", "--config", str(config)]) == 3
    captured = capsys.readouterr()
    assert "still progressing after 0.5 s: prod/cart-api" in captured.err
    assert "cart-api" in captured.out  # piped: the last poll's table, printed once


def test_watch_without_anything_progressing_exits_at_once(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    with SimulatorServer(make_world(initial_deploys=0), tick_interval=None) as quiet:
        config = config_for(quiet.url, tmp_path)
        assert main(["status", "--watch", "--json", "--timeout", "60", "--config", str(config)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


@pytest.mark.terminal
def test_watch_redraws_in_place_on_a_terminal(tmp_path: Path) -> None:
    world = deploying()
    with SimulatorServer(world, tick_interval=None) as still:  # the test moves time
        config = config_for(still.url, tmp_path)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        args = ["status", "--watch", "--interval", "0.2", "--timeout", "300", "--config", str(config)]
        with Terminal(args, env, size=(80, 24)) as term:
            term.wait_for("1 progressing — again every 0.2 s", timeout=120)
            for _ in range(200):  # 100 simulated seconds: the canary completes
                world.step()
            assert term.wait_exit(timeout=120) == 0
            raw = term._raw.decode("utf-8", "replace")
    assert "nothing progressing" in term.text
    assert len(re.findall(r"\x1b\[\d*A", raw)) >= 2, "the cursor goes back up: the table is drawn over itself"
