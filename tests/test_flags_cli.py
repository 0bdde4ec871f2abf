"""`monotui flags` and `monotui flag off|on FLAG` end to end, against the simulator's Unleash Admin API and a real
Unleash: what is printed, the exit status, what the flag server has afterwards, what the audit log holds."""

from __future__ import annotations

import io
import json
import socket
import sys
from pathlib import Path

import pytest

from monotui.cli import main
from monotui.engine.audit import AuditLog
from tests.conftest import ACTOR
from tests.flag_servers import TOKEN, Setup, flag_sim, flag_world, setup_fixture  # noqa: F401  (fixtures)


@pytest.fixture
def config(setup: Setup, tmp_path: Path, audit_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MONOTUI_TEST_TOKEN", TOKEN)
    monkeypatch.setenv("MONOTUI_TEST_UNLEASH_TOKEN", setup.token)
    path = tmp_path / "monotui.toml"
    path.write_text(
        f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\nprotected_flags = ["{setup.flag}-guarded"]\n'
        f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{setup.sim.url}"\ntoken_env = "MONOTUI_TEST_TOKEN"\n'
        f'[[sources]]\nname = "flags"\nkind = "unleash"\nurl = "{setup.flags_url}"\n'
        f'token_env = "MONOTUI_TEST_UNLEASH_TOKEN"\ntimeout = 30\n')
    return path


def test_flags_json_lists_every_flag_with_state_and_last_change(
        setup: Setup, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    setup.admin.create_flag(f"{setup.flag}-orphan")  # mapped to no service: listed too
    setup.admin.toggle(setup.flag, True)
    setup.admin.mark_stale(f"{setup.flag}-orphan")
    assert main(["flags", "--json", "--config", str(config)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sources"] == [{"name": "flags", "state": "ok", "error": None, "read_only": False}]
    flags = {f["name"]: f for f in data["flags"]}
    mine = flags[setup.flag]
    assert (mine["service"], mine["project"], mine["enabled"], mine["strategies"], mine["rollout"]) == (
        setup.service, "default", True, ["rollout 25%"], 25)
    assert mine["last_change"]["actor"] == "admin" and mine["last_change"]["kind"] == "enabled"
    assert mine["source"] == "flags" and not mine["protected"]
    orphan = flags[f"{setup.flag}-orphan"]
    assert (orphan["service"], orphan["enabled"], orphan["stale"]) == (None, False, True)


def test_flags_prints_a_table_and_global_options_go_either_side(
        setup: Setup, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    setup.admin.toggle(setup.flag, True)
    for argv in (["flags", "--config", str(config)], ["--config", str(config), "flags"]):
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert "flags: ok" in out
        line = next(line for line in out.splitlines() if setup.flag in line)
        assert setup.service in line and " on " in line and "rollout 25%" in line and "by admin" in line


def test_flags_exits_1_when_the_flag_source_is_unreachable(
        setup: Setup, tmp_path: Path, audit_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = tmp_path / "down.toml"
    path.write_text(f'audit_log = "{audit_path}"\n[[sources]]\nname = "flags"\nkind = "unleash"\n'
                    f'url = "http://127.0.0.1:{port}"\ntimeout = 2\n')
    assert main(["flags", "--config", str(path)]) == 1
    assert "cannot connect" in capsys.readouterr().out


def test_flag_off_with_yes_is_sent_and_audited(
        setup: Setup, config: Path, audit_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    setup.admin.toggle(setup.flag, True)
    assert main(["flag", "off", setup.flag, "--yes", "--reason", "error spike", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"Turn off flag {setup.flag} (project default, environment production, source flags)" in out
    assert "on (rollout 25%) → off" in out and "last changed: by admin" in out and ": done" in out
    assert not setup.admin.enabled(setup.flag, "production")
    records = AuditLog(audit_path).read()
    assert [r["outcome"] for r in records] == ["intent", "done"]
    assert (records[0]["action"], records[0]["confirmed_by"], records[0]["reason"]) == (
        "flag-off", "yes-flag", "error spike")
    # already off: refused, nothing sent, exit 1
    assert main(["flag", "off", setup.flag, "--yes", "--config", str(config)]) == 1
    assert "already off" in capsys.readouterr().err
    assert AuditLog(audit_path).read()[-1]["outcome"] == "refused"


def test_read_only_refuses_the_flag_command_and_sends_nothing(
        setup: Setup, config: Path, audit_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    setup.admin.toggle(setup.flag, True)
    events = setup.admin.event_ids(setup.flag)
    for argv in (["--read-only", "flag", "off", setup.flag, "--yes"], ["flag", "off", setup.flag, "--read-only"]):
        assert main([*argv, "--config", str(config)]) == 1
        assert "read-only" in capsys.readouterr().err
    assert setup.admin.enabled(setup.flag, "production") and setup.admin.event_ids(setup.flag) == events
    assert [r["outcome"] for r in AuditLog(audit_path).read()] == ["refused", "refused"]


def test_a_protected_flag_needs_its_name(
        setup: Setup, config: Path, audit_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    guarded = f"{setup.flag}-guarded"
    setup.admin.create_flag(guarded, service=setup.service, rollout=100, enabled=True)
    assert main(["flag", "off", guarded, "--yes", "--config", str(config)]) == 2
    assert f"{guarded} is a protected flag: with --yes, also pass --confirm-name {guarded}" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert main(["flag", "off", guarded, "--config", str(config)]) == 1  # "yes" is not the name
    assert setup.admin.enabled(guarded, "production")
    assert main(["flag", "off", guarded, "--yes", "--confirm-name", guarded, "--config", str(config)]) == 0
    assert not setup.admin.enabled(guarded, "production")
    assert AuditLog(audit_path).read()[-1]["confirmed_by"] == "yes-flag+confirm-name"


def test_the_prompt_names_the_flag_and_a_no_sends_nothing(
        setup: Setup, config: Path, audit_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("no\n"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert main(["flag", "on", setup.flag, "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert f"Type 'yes' to turn on flag {setup.flag}" in out and "Cancelled. Nothing was sent." in out
    assert not setup.admin.enabled(setup.flag, "production")
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert main(["flag", "on", setup.flag, "--config", str(config)]) == 0
    assert setup.admin.enabled(setup.flag, "production")
    assert AuditLog(audit_path).read()[-1]["confirmed_by"] == "prompt"


def test_no_such_flag_and_no_terminal(setup: Setup, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flag", "off", f"{setup.flag}-nope", "--yes", "--config", str(config)]) == 1
    assert f"no flag named '{setup.flag}-nope'" in capsys.readouterr().err
    setup.admin.toggle(setup.flag, True)
    assert main(["flag", "off", setup.flag, "--config", str(config)]) == 2  # stdin is not a terminal
    assert "pass --yes" in capsys.readouterr().err
    assert setup.admin.enabled(setup.flag, "production")


def test_a_name_in_two_flag_sources_is_listed_not_guessed(
        setup: Setup, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = config.read_text()
    config.write_text(text + text[text.index('[[sources]]\nname = "flags"'):].replace('"flags"', '"flags-b"'))
    setup.admin.toggle(setup.flag, True)
    assert main(["flag", "off", setup.flag, "--yes", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"'{setup.flag}' matches 2 flags:" in err and "source flags-b" in err and "--source" in err
    assert setup.admin.enabled(setup.flag, "production")
    assert main(["flag", "off", setup.flag, "--yes", "--source", "flags-b", "--config", str(config)]) == 0
    assert not setup.admin.enabled(setup.flag, "production")
