"""The README's commands against the demo work exactly as written: its config (printed by `monotui demo
--print-config`, or written by `--write-config PATH` once the demo listens) is the demo's own — the deploy API, the
flag source and the protected service — so `status`, `flags` and a protected rollback behave as in the demo's TUI.
The lines are read from README.md and run against a live simulator holding the demo's world."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monotui import cli
from monotui.cli import DEMO_PROTECTED, Globals, _world, demo_settings, main
from monotui.config import load_settings
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World

README = Path(__file__).resolve().parent.parent / "README.md"
README_PORT, README_CONFIG = "8700", "/tmp/demo.toml"


def readme_demo_lines() -> list[str]:
    """The shell block after "from a second terminal:" in the README."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"from a second terminal:\n\n```sh\n(.*?)```", text, re.S)
    assert block is not None, "the README's demo block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def command(line: str, port: int, config: Path) -> tuple[list[str], Path | None]:
    """A README line as arguments of `monotui` (and the file its stdout goes to), on this test's port and file."""
    words = shlex.split(line, comments=True)
    assert words[0] == ".venv/bin/monotui", line
    out = None
    if ">" in words:
        out = Path(words[words.index(">") + 1])
        words = words[:words.index(">")]
    words = [str(port) if w == README_PORT else str(config) if w == README_CONFIG else w for w in words[1:]]
    return words, (config if out is not None and str(out) == README_CONFIG else out)


@pytest.fixture
def world() -> World:
    return _world(services=12, seed=1, deploy_interval=5.0, bad_probability=0.2, auto_rollback=False, staged=True)


@pytest.fixture
def sim(world: World) -> Iterator[SimulatorServer]:
    with SimulatorServer(world, tick_interval=None) as server:
        yield server


def run(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "XDG_STATE_HOME": str(home / "state"),
           "XDG_CONFIG_HOME": str(home / "config")}
    env.pop("MONOTUI_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "monotui", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def test_the_readme_demo_commands_work_as_written(sim: SimulatorServer, tmp_path: Path) -> None:
    port = int(sim.url.rsplit(":", 1)[1])
    config = tmp_path / "demo.toml"
    lines = readme_demo_lines()
    assert len(lines) == 4
    results = []
    for line in lines:
        args, out = command(line, port, config)
        done = run(args, tmp_path)
        assert done.returncode == 0, (line, done.stderr)
        if out is not None:
            out.write_text(done.stdout, encoding="utf-8")
        results.append(done)
    status, flags = json.loads(results[1].stdout), json.loads(results[2].stdout)
    assert {r["service"] for r in status["rollouts"]} == set(sim.world.services)
    assert flags["flags"], "the flag source is in the config: `flags` lists the demo's flags"
    [rollback] = sim.state.mutating_requests()
    assert "payments-api" in rollback.path


def test_a_protected_rollback_through_the_demo_config_needs_the_name(sim: SimulatorServer, tmp_path: Path) -> None:
    port = int(sim.url.rsplit(":", 1)[1])
    config = tmp_path / "demo.toml"
    args, _ = command(readme_demo_lines()[0], port, config)
    config.write_text(run(args, tmp_path).stdout, encoding="utf-8")
    done = run(["rollback", "payments-api", "--config", str(config), "--yes"], tmp_path)
    assert done.returncode != 0 and "--confirm-name" in done.stderr, done.stderr
    assert sim.state.mutating_requests() == []


def test_write_config_writes_what_the_demo_uses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    used: list[Any] = []
    monkeypatch.setattr(cli, "_open_tui", lambda settings: used.append(settings) or 0)
    (tmp_path / "own.toml").write_text(f'audit_log = "{tmp_path / "audit.log"}"\n')
    written = tmp_path / "demo.toml"
    assert main(["demo", "--config", str(tmp_path / "own.toml"), "--write-config", str(written)]) == 0
    [settings] = used
    from_file = load_settings(written)
    assert [(s.name, s.kind, str(s.url)) for s in from_file.sources] == \
        [(s.name, s.kind, str(s.url)) for s in settings.sources]
    assert [s.kind for s in from_file.sources] == ["http", "unleash"]
    assert from_file.protected_services == settings.protected_services == DEMO_PROTECTED
    assert f"its config is in {written} (--config {written})" in capsys.readouterr().err


def test_print_config_is_the_demo_settings_for_that_port(capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path) -> None:
    own = tmp_path / "own.toml"
    own.write_text(f'audit_log = "{tmp_path / "audit.log"}"\nprotected_services = ["cart-api"]\n')
    assert main(["demo", "--port", "8712", "--print-config", "--config", str(own)]) == 0
    printed = tmp_path / "printed.toml"
    printed.write_text(capsys.readouterr().out)
    expected = demo_settings(Globals(config=str(own)), "http://127.0.0.1:8712")
    got = load_settings(printed)
    assert got.sources == expected.sources and got.protected_services == ["cart-api"]
    assert main(["demo", "--print-config"]) == 2
    assert "--port" in capsys.readouterr().err
