"""Read-only may be added by any layer — the file, a source, the environment, a command-line flag — and removed by
none: the environment wins over the file for every other setting, never to turn read-only off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monotui.cli import main
from monotui.config import ConfigError, load_settings
from monotui.simulator.server import SimulatorServer

from .test_action_safety import canary

SOURCE = '[[sources]]\nname = "prod"\nkind = "http"\nurl = "{url}"\ntimeout = 2\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("value", ["false", "0", "FALSE", "no", "off"])
def test_the_environment_cannot_turn_off_the_files_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             value: str) -> None:
    path = write(tmp_path, "read_only = true\n" + SOURCE.format(url="http://127.0.0.1:9"))
    monkeypatch.setenv("MONOTUI_READ_ONLY", value)
    monkeypatch.setenv("MONOTUI_ACTOR", "bob@laptop")  # the environment still wins for everything else
    settings = load_settings(path)
    assert settings.actor == "bob@laptop"
    assert settings.read_only is True and settings.is_read_only("prod")


def test_the_environment_adds_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "read_only = false\n" + SOURCE.format(url="http://127.0.0.1:9"))
    monkeypatch.setenv("MONOTUI_READ_ONLY", "true")
    assert load_settings(path).read_only is True


def test_a_flag_override_of_false_does_not_turn_off_the_files_read_only(tmp_path: Path) -> None:
    path = write(tmp_path, "read_only = true\n" + SOURCE.format(url="http://127.0.0.1:9"))
    assert load_settings(path, read_only=False).read_only is True
    assert load_settings(write(tmp_path, SOURCE.format(url="http://x")), read_only=True).read_only is True


def test_the_environment_cannot_turn_off_a_sources_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, SOURCE.format(url="http://127.0.0.1:9") + "read_only = true\n")
    # the environment's list of sources replaces the file's, the same source without read_only
    monkeypatch.setenv("MONOTUI_SOURCES", json.dumps(
        [{"name": "prod", "kind": "http", "url": "http://127.0.0.1:9", "read_only": False}]))
    settings = load_settings(path)
    assert settings.sources[0].read_only is True and settings.is_read_only("prod")


def test_an_invalid_read_only_in_the_file_is_reported_even_when_the_environment_sets_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, 'read_only = "sometimes"\n' + SOURCE.format(url="http://127.0.0.1:9"))
    monkeypatch.setenv("MONOTUI_READ_ONLY", "false")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in str(info.value) and ": read_only:" in str(info.value)


def test_a_pause_with_read_only_in_the_file_and_false_in_the_environment_sends_nothing(
        sim: SimulatorServer, tmp_path: Path, audit_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    canary(sim)
    path = write(tmp_path, f'read_only = true\nactor = "t@x"\naudit_log = "{audit_path}"\n' + SOURCE.format(
        url=sim.url))
    monkeypatch.setenv("MONOTUI_READ_ONLY", "false")
    assert main(["pause", "cart-api", "--yes", "--config", str(path)]) == 1
    assert "read-only" in capsys.readouterr().err
    assert sim.state.mutating_requests() == []
