"""U+2028 and U+2029 (line and paragraph separator) from a server: `clean` promises one line of visible characters,
and let them through — `monotui status --json | jq -r` printed them raw, the TUI drew a character its cells count
as zero wide and a terminal draws as it likes. The audit log already escapes them (engine/audit.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monotui.cli import main
from monotui.models import Strategy
from monotui.simulator.server import SimulatorServer

from .conftest import make_world
from .test_cli import config


def test_a_servers_line_separators_are_shown_not_printed(tmp_path: Path, audit_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    world = make_world()
    world.deploy("cart-api", strategy=Strategy.CANARY)
    world.services["cart-api"].message = "step 1\u2028DONE\u2029ok"
    with SimulatorServer(world, tick_interval=None) as sim:
        assert main(["status", "--json", "--config", config(tmp_path, sim.url, audit_path)]) == 0
    out = capsys.readouterr().out
    message = next(r["message"] for r in json.loads(out)["rollouts"] if r["service"] == "cart-api")
    assert "DONE" in message, message
    assert "\u2028" not in message and "\u2029" not in message, repr(message)
    assert "<U+2028>" in message and "<U+2029>" in message
