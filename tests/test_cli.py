"""Non-interactive commands: status (text and JSON), one-shot actions through the same engine and audit log."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from monotui.cli import main
from monotui.engine.audit import AuditLog
from monotui.models import Phase, Strategy
from monotui.simulator.server import SimulatorServer

from .conftest import ACTOR


def config(tmp_path: Path, url: str, audit_path: Path, extra: str = "") -> str:
    path = tmp_path / "monotui.toml"
    path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n{extra}\n'
                    f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{url}"\ntimeout = 2\n')
    return str(path)


def test_status_prints_every_rollout(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--config", config(tmp_path, sim.url, audit_path)]) == 0
    out = capsys.readouterr().out
    assert "prod: ok" in out
    for rollout in sim.world.rollouts():
        assert rollout.service in out


def test_status_json(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                     capsys: pytest.CaptureFixture[str]) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    assert main(["status", "--json", "--config", config(tmp_path, sim.url, audit_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sources"] == [{"name": "prod", "state": "ok", "error": None, "read_only": False}]
    by_service = {r["service"]: r for r in data["rollouts"]}
    assert set(by_service) == {r.service for r in sim.world.rollouts()}
    assert by_service["cart-api"]["phase"] == "Progressing" and by_service["cart-api"]["source"] == "prod"
    assert by_service["cart-api"]["health"]["error_ratio"] >= 0


def test_status_exits_non_zero_when_a_source_is_unreachable(tmp_path: Path, audit_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["status", "--config", config(tmp_path, f"http://127.0.0.1:{port}", audit_path)]) == 1
    assert "cannot connect" in capsys.readouterr().out


def test_action_with_yes_is_sent_and_audited(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    code = main(["pause", "cart-api", "--yes", "--reason", "spike", "--config",
                 config(tmp_path, sim.url, audit_path)])
    assert code == 0
    assert "Pause cart-api" in capsys.readouterr().out
    assert sim.world.rollout("cart-api").phase is Phase.PAUSED
    [record] = AuditLog(audit_path).outcomes()
    assert (record["action"], record["outcome"], record["reason"]) == ("pause", "done", "spike")


def test_rollback_to_revision(sim: SimulatorServer, tmp_path: Path, audit_path: Path) -> None:
    before = sim.world.rollout("cart-api").revision
    assert main(["rollback", "cart-api", "--revision", str(before - 2), "--yes", "--config",
                 config(tmp_path, sim.url, audit_path)]) == 0
    assert sim.world.rollout("cart-api").revision == before - 2
    assert AuditLog(audit_path).outcomes()[0]["to_revision"] == before - 2


def test_without_yes_and_without_a_terminal_it_refuses(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    path = config(tmp_path, sim.url, audit_path)
    proc = subprocess.run([sys.executable, "-m", "monotui", "pause", "cart-api", "--config", path],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "stdin is not a terminal" in proc.stderr
    assert sim.state.mutating_requests() == []
    assert AuditLog(audit_path).outcomes()[0]["outcome"] == "refused"


def test_interactive_confirmation(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    path = config(tmp_path, sim.url, audit_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("no\n"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert main(["pause", "cart-api", "--config", path]) == 1
    assert sim.state.mutating_requests() == []
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert main(["pause", "cart-api", "--config", path]) == 0
    assert len(sim.state.mutating_requests()) == 1


def test_protected_service_needs_its_name(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    path = config(tmp_path, sim.url, audit_path, 'protected_services = ["cart-api"]')
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert main(["pause", "cart-api", "--config", path]) == 1
    monkeypatch.setattr(sys, "stdin", io.StringIO("cart-api\n"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert main(["pause", "cart-api", "--config", path]) == 0


def test_read_only_flag_sends_nothing(sim: SimulatorServer, tmp_path: Path, audit_path: Path) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    assert main(["pause", "cart-api", "--yes", "--read-only", "--config",
                 config(tmp_path, sim.url, audit_path)]) == 1
    assert sim.state.mutating_requests() == []
    assert AuditLog(audit_path).outcomes()[0]["outcome"] == "refused"


def test_unknown_service(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pause", "nope", "--yes", "--config", config(tmp_path, sim.url, audit_path)]) == 1
    assert "no rollout for service 'nope'" in capsys.readouterr().err
