"""Configuration: the example loads, precedence (file < environment < flags), and one-line errors with exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from monotui.cli import main
from monotui.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent

GOOD = """
actor = "alice@bastion"
protected_services = ["payments-api"]

[[sources]]
name = "prod-eu"
kind = "http"
url = "http://127.0.0.1:8700"
token_env = "MONOTUI_PROD_EU_TOKEN"
poll_interval = 3
"""


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_example_config_loads_and_documents_every_key() -> None:
    example = ROOT / "config.example.toml"
    settings = load_settings(example)
    assert [s.name for s in settings.sources] == ["prod-eu", "prod-us"]
    assert settings.sources[0].kind == "http"
    text = example.read_text()
    for key in ("read_only", "protected_services", "actor", "audit_log", "theme", "events_limit", "max_rows",
                "error_ratio", "p99_ms", "poll_interval", "timeout", "token_env", "token_file", "verify_tls",
                "ca_bundle", "auto_pause_suspects", "service_label", "window"):
        assert f"{key} =" in text or f"# {key} =" in text, f"{key} is not documented in config.example.toml"


def test_file_values(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    source = settings.sources[0]
    assert (source.name, source.url, source.poll_interval, source.timeout) == (
        "prod-eu", "http://127.0.0.1:8700", 3.0, 5.0)
    assert settings.actor == "alice@bastion"
    assert settings.is_protected("payments-api") and not settings.is_protected("cart-api")


def test_environment_overrides_file_and_flags_override_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, GOOD + "\nread_only = false\n")
    monkeypatch.setenv("MONOTUI_ACTOR", "bob@laptop")
    monkeypatch.setenv("MONOTUI_READ_ONLY", "false")
    settings = load_settings(path)
    assert settings.actor == "bob@laptop"
    assert settings.read_only is False
    assert load_settings(path, read_only=True).read_only is True


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONOTUI_CONFIG", str(write(tmp_path, GOOD)))
    assert load_settings(None).sources[0].name == "prod-eu"


def test_default_path_in_user_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONOTUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "monotui").mkdir()
    write(tmp_path / "monotui", GOOD)
    assert load_settings(None).sources[0].name == "prod-eu"


def test_token_read_from_environment_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token_file = write(tmp_path, "file-secret\n", "token")
    path = write(tmp_path, GOOD + f'\n[[sources]]\nname = "b"\nkind = "http"\nurl = "http://x"\n'
                                  f'token_file = "{token_file}"\n')
    monkeypatch.setenv("MONOTUI_PROD_EU_TOKEN", "env-secret")
    settings = load_settings(path)
    assert settings.sources[0].token() == "env-secret"
    assert settings.sources[1].token() == "file-secret"


BROKEN = [
    ("bad toml", "sources = [", None, "invalid TOML"),
    ("unknown kind", '[[sources]]\nname = "a"\nkind = "ftp"\nurl = "http://x"\n', "sources[0].kind",
     "unknown source kind 'ftp'"),
    ("wrong type", '[[sources]]\nname = "a"\nkind = "http"\nurl = "http://x"\npoll_interval = "often"\n',
     "sources[0].poll_interval", "valid number"),
    ("unknown key", 'colour = "red"\n', "colour", "unknown key"),
    ("inline token", '[[sources]]\nname = "a"\nkind = "http"\nurl = "http://x"\ntoken = "hunter2"\n',
     "sources[0]", "token_env"),
    ("bad url", '[[sources]]\nname = "a"\nkind = "http"\nurl = "ftp://x"\n', "sources[0].url", "http:// or https://"),
    ("duplicate names", '[[sources]]\nname = "a"\nkind = "http"\nurl = "http://x"\n'
                        '[[sources]]\nname = "a"\nkind = "http"\nurl = "http://y"\n', None, "duplicate"),
]


@pytest.mark.parametrize(("label", "text", "key", "problem"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_config_names_file_and_key(tmp_path: Path, label: str, text: str, key: str | None,
                                          problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert str(path) in message
    if key:
        assert f": {key}:" in message
    assert problem in message
    assert "hunter2" not in message


def test_missing_named_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.toml")


def test_unreadable_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_settings(tmp_path)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00 not text")
    with pytest.raises(ConfigError, match=r"not UTF-8|invalid TOML"):
        load_settings(binary)


@pytest.mark.parametrize("command", [[], ["status"], ["demo"], ["pause", "x"]])
def test_cli_exits_2_with_one_line_and_no_traceback(tmp_path: Path, command: list[str]) -> None:
    # `demo` replaces the file's sources with the simulator, so the broken key is a global one
    path = write(tmp_path, 'read_only = "perhaps"\n[[sources]]\nname = "a"\nkind = "http"\nurl = "http://x"\n')
    argv = [sys.executable, "-m", "monotui", *(command[:1] or []), "--config", str(path), *command[1:]]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(path) in lines[0] and ": read_only:" in lines[0]
    assert "Traceback" not in proc.stderr


def test_no_config_at_all_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("MONOTUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert main([]) == 2
    assert "monotui demo" in capsys.readouterr().err
