"""`monotui rollback SERVICE --revision N` names the chosen revision as the history lists it (its version), in the
plan it prints and in the audit record, as the history screen's confirmation does; a revision the source does not
list is still asked of the server, named "?", and the server's refusal is audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from monotui.cli import main
from monotui.engine.audit import AuditLog
from monotui.simulator.server import SimulatorServer

from .conftest import ACTOR
from .test_revision_history import SERVICE, staged_world


def test_the_plan_and_the_audit_name_the_chosen_revisions_version(tmp_path: Path, audit_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with SimulatorServer(staged_world(), tick_interval=None) as sim:
        r12 = next(r for r in sim.world.services[SERVICE].history if r.revision == 12)
        config = tmp_path / "monotui.toml"
        config.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n'
                          f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{sim.url}"\ntimeout = 5\n')
        assert main(["rollback", SERVICE, "--revision", "12", "--yes", "--config", str(config)]) == 0
        out = capsys.readouterr().out
        assert f"→ r12 ({r12.version})" in out and "r12 (?)" not in out
        assert sim.world.rollout(SERVICE).revision == 12
        records = AuditLog(audit_path).read()
        assert [r["outcome"] for r in records] == ["intent", "done"]
        assert all(r["shown"]["to_version"] == r12.version and r["target_revision"] == 12 for r in records)

        assert main(["rollback", SERVICE, "--revision", "99", "--yes", "--config", str(config)]) == 1
        assert "r99 (?)" in capsys.readouterr().out
        assert [r["outcome"] for r in AuditLog(audit_path).read()][2:] == ["intent", "refused"]
