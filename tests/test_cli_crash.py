"""A bug anywhere in a command (outside the TUI too) exits 1 with one line naming the error's type and the log file;
the traceback goes to that file, never to the terminal, and the error's text (which may quote a secret) is not
printed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from monotui.simulator.server import SimulatorServer

TOKEN = "s3cr3t-token-in-a-bug"


def _config(tmp_path: Path, url: str) -> tuple[Path, Path]:
    config = tmp_path / "c.toml"
    log = tmp_path / "state" / "monotui.log"
    config.write_text(f'audit_log = "{log.parent / "audit.log"}"\n'
                      f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{url}"\n')
    return config, log


def _one_line(err: str, error_type: str, log: Path) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert error_type in lines[0] and str(log) in lines[0], lines[0]
    assert TOKEN not in err and "Traceback" not in err
    details = log.read_text()
    assert "Traceback" in details and error_type in details, "the details are in the log file"


def test_a_bug_in_status_is_one_line_and_the_log_path(sim: SimulatorServer, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from monotui.cli import main
    from monotui.engine.core import Engine

    async def broken(self: Engine) -> None:
        raise KeyError(f"a bug that quotes {TOKEN}")

    monkeypatch.setattr(Engine, "refresh_once", broken)
    config, log = _config(tmp_path, sim.url)
    assert main(["--config", str(config), "status"]) == 1
    _one_line(capsys.readouterr().err, "KeyError", log)


def test_a_bug_before_any_config_is_read_names_the_default_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from monotui import cli, config

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError(TOKEN)

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(config, "load_settings", broken)  # the CLI loads the configuration module when it reads it
    assert cli.main(["status"]) == 1
    from monotui.config import default_audit_path

    _one_line(capsys.readouterr().err, "ZeroDivisionError", default_audit_path().parent / "monotui.log")


def test_a_bug_in_a_real_process_exits_1_without_a_traceback(sim: SimulatorServer, tmp_path: Path) -> None:
    config, log = _config(tmp_path, sim.url)
    code = textwrap.dedent(f"""
        import sys
        from monotui.engine import core
        def broken(*args, **kwargs):
            raise RuntimeError("a bug that quotes {TOKEN}")
        core.Engine.refresh_once = broken
        from monotui.cli import main
        sys.exit(main(["--config", {str(config)!r}, "status", "--json"]))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    _one_line(done.stderr, "RuntimeError", log)
