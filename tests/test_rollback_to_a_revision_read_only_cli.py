"""`monotui rollback SERVICE --revision N` in read-only mode (`--read-only` before or after the command) sends no
request to the server and writes one refusal naming the revision asked for; the same command without it sends
exactly that revision pinned to the revision the rollout was at."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monotui.cli import main
from monotui.engine.audit import AuditLog
from monotui.simulator.server import SimulatorServer

from .conftest import ACTOR
from .test_revision_history import SERVICE, staged_world


@pytest.mark.parametrize("args", [
    ["--read-only", "rollback", SERVICE, "--revision", "12", "--yes"],
    ["rollback", SERVICE, "--revision", "12", "--yes", "--read-only"],
    ["rollback", "--read-only", SERVICE, "--revision", "12", "--yes", "--confirm-name", SERVICE],
])
def test_read_only_refuses_a_rollback_to_a_chosen_revision(args: list[str], tmp_path: Path, audit_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    with SimulatorServer(staged_world(), tick_interval=None) as sim:
        config = tmp_path / "monotui.toml"
        config.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n'
                          f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{sim.url}"\ntimeout = 2\n')
        assert main([*args, "--config", str(config)]) == 1
        assert not sim.state.mutating_requests()
        assert sim.world.rollout(SERVICE).revision == 14
        assert "read-only" in capsys.readouterr().err
        [record] = AuditLog(audit_path).read()
        assert record["outcome"] == "refused" and record["target_revision"] == 12 and record["actor"] == ACTOR

        assert main(["rollback", SERVICE, "--revision", "12", "--yes", "--config", str(config)]) == 0
        [posted] = sim.state.mutating_requests()
        assert json.loads(posted.body) == {"actor": ACTOR, "revision": 12, "expected_revision": 14}
        assert sim.world.rollout(SERVICE).revision == 12
