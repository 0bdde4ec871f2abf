"""`monotui config init` writes the example configuration shipped inside the package; `monotui config check`
reports every problem of a configuration (file or variable, key, why) with exit 2, or exit 0; `monotui config
schema` prints a JSON Schema (draft 7) that editors validate the file with."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from monotui.cli import main
from monotui.cli_config import example_text
from monotui.config import SOURCE_KINDS, load_settings

ROOT = Path(__file__).resolve().parent.parent

# the command lines the README documents for these commands
DOCUMENTED = ["monotui config init", "monotui config init --path P", "monotui config check",
              "monotui config check --config P", "monotui config schema"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user config dir in tmp_path, no $MONOTUI_CONFIG, no MONOTUI_* setting."""
    for name in list(os.environ):
        if name.upper().startswith("MONOTUI_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "monotui"


# ---- the example, shipped inside the package ----------------------------------------------------------------


def test_the_packaged_example_is_the_repository_roots_example() -> None:
    # the root's is a symlink to the package's (one text to edit); a copy would have to stay identical
    assert (ROOT / "monotui" / "config.example.toml").read_text() == (ROOT / "config.example.toml").read_text()
    assert example_text() == (ROOT / "config.example.toml").read_text()


def test_the_wheel_ships_the_example() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "config.example.toml" in pyproject["tool"]["setuptools"]["package-data"]["monotui"]


# ---- init -----------------------------------------------------------------------------------------------------


def test_init_writes_the_example_where_monotui_reads_it_and_check_passes(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "init"]) == 0
    path = home / "config.toml"
    assert path.read_text() == example_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert f"wrote {path}" in capsys.readouterr().out
    assert [s.name for s in load_settings(None).sources] == ["prod-eu", "prod-us"]  # what the TUI reads
    assert main(["config", "check"]) == 0
    assert f"{path}: ok" in capsys.readouterr().out


def test_init_path_writes_there_with_its_folders(home: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "new" / "folder" / "monotui.toml"
    assert main(["config", "init", "--path", str(path)]) == 0
    assert path.read_text() == example_text()
    assert f"monotui config check --config {path}" in capsys.readouterr().out
    assert main(["config", "check", "--config", str(path)]) == 0


def test_init_follows_monotui_config(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONOTUI_CONFIG", str(tmp_path / "named.toml"))
    assert main(["config", "init"]) == 0
    assert (tmp_path / "named.toml").read_text() == example_text()
    assert not (home / "config.toml").exists()


def test_init_never_replaces_a_file_unless_forced(home: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text("# mine\n")
    assert main(["config", "init", "--path", str(path)]) == 1
    assert "already exists" in capsys.readouterr().err and path.read_text() == "# mine\n"
    assert main(["config", "init", "--path", str(path), "--force"]) == 0
    assert path.read_text() == example_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]  # no temporary file left


def test_init_writes_nothing_through_a_symlink(home: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    (tmp_path / "c.toml").symlink_to(victim)
    assert main(["config", "init", "--path", str(tmp_path / "c.toml")]) == 1
    assert victim.read_text() == "keep\n"
    assert main(["config", "init", "--path", str(tmp_path / "c.toml"), "--force"]) == 0  # replaces the link
    assert victim.read_text() == "keep\n" and not (tmp_path / "c.toml").is_symlink()


def test_init_to_standard_output(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "init", "--path", "-"]) == 0
    assert capsys.readouterr().out == example_text()
    assert not home.exists()


def test_init_refuses_the_global_options(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--read-only", "config", "init"]) == 2
    assert main(["--config", "x.toml", "config", "init"]) == 2
    assert "--path" in capsys.readouterr().err
    assert not home.exists()


# ---- check ----------------------------------------------------------------------------------------------------

BROKEN = """\
colour = "red"
events_limit = 3
[thresholds]
error_ratio = 2
[[sources]]
name = "a"
kind = "http"
url = "ftp://x"
poll_interval = "often"
[[sources]]
name = "a"
kind = "ftp"
[[sources]]
name = "b"
url = "http://x"
[[sources]]
name = "c"
kind = "http"
url = "http://x"
token = "hunter2"
[[sources]]
name = "d"
kind = "prometheus"
url = "http://x"
token_file = "/dev/zero"
"""

EVERY_PROBLEM = [
    ("colour", "unknown key"),
    ("events_limit", "greater than or equal to 10"),
    ("thresholds.error_ratio", "less than or equal to 1"),
    ("sources[0].url", "http:// or https://"),
    ("sources[0].poll_interval", "valid number"),
    ("sources[1].kind", "unknown source kind 'ftp'"),
    ("sources[1].name", "duplicate source name 'a'"),
    ("sources[2].kind", "missing"),
    ("sources[3]", "token_env"),
    ("sources[4].token_file", "not a regular file"),
]


def test_check_reports_every_problem_naming_file_and_key(home: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text(BROKEN)
    assert main(["config", "check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    for key, why in EVERY_PROBLEM:
        assert any(line.startswith(f"config error in {path}: {key}: ") and why in line for line in lines), (key, err)
    assert lines[-1] == f"{len(EVERY_PROBLEM)} problems in {path}"
    assert "hunter2" not in err


def test_check_names_the_environment_variable_a_bad_value_came_from(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text(example_text())
    monkeypatch.setenv("MONOTUI_EVENTS_LIMIT", "3")
    assert main(["config", "check", "--config", str(path)]) == 2
    assert "config error in environment variable MONOTUI_EVENTS_LIMIT: " in capsys.readouterr().err


def test_check_of_invalid_toml(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text("sources = [\n")
    assert main(["config", "check", "--config", str(path)]) == 2
    assert f"config error in {path}: invalid TOML" in capsys.readouterr().err


def test_check_of_a_file_without_sources(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text('actor = "a@b"\n')
    assert main(["config", "check", "--config", str(path)]) == 2
    assert f"config error in {path}: sources: no source configured" in capsys.readouterr().err


def test_check_without_a_configuration_says_how_to_write_one(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check"]) == 2
    assert "monotui config init" in capsys.readouterr().err


def test_check_takes_config_before_or_after(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(example_text())
    assert main(["--config", str(path), "config", "check"]) == 0
    assert main(["config", "--config", str(path), "check"]) == 0
    assert main(["--read-only", "config", "check", "--config", str(path)]) == 2
    assert main(["--config", str(tmp_path / "other.toml"), "config", "check", "--config", str(path)]) == 2


def test_check_names_a_missing_client_library(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[sources]]\nname = "eks"\nkind = "argo-rollouts"\n')
    code = "import sys; sys.modules['kr8s'] = None; from monotui.cli import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run([sys.executable, "-c", code, "config", "check", "--config", str(path)],
                            capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2, result.stderr
    assert (f"config error in {path}: sources[0].kind: argo-rollouts needs kr8s, which is not installed: "
            "pip install 'monotui[k8s]'") in result.stderr


# ---- schema ---------------------------------------------------------------------------------------------------


def printed_schema(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["config", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert isinstance(schema, dict)
    return schema


def test_the_schema_accepts_the_example_and_refuses_what_check_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    schema = printed_schema(capsys)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    validator = jsonschema_rs.Draft7Validator(schema)
    example = tomllib.loads(example_text())
    assert validator.is_valid(example), list(validator.iter_errors(example))
    source = {"name": "s", "kind": "http", "url": "http://x"}
    assert validator.is_valid({"sources": [source]})
    for bad in ({"colour": "red"}, {"events_limit": 3}, {"sources": [{**source, "kind": "ftp"}]},
                {"sources": [{**source, "poll_interval": "often"}]}, {"sources": [{**source, "poll_interval": 0}]},
                {"sources": [{**source, "namespaces": ["x"]}]}, {"thresholds": {"error_ratio": 2}}):
        assert not validator.is_valid(bad), bad


def test_the_schema_tells_every_source_kind_apart_by_kind(capsys: pytest.CaptureFixture[str]) -> None:
    schema = printed_schema(capsys)
    definitions = schema["definitions"]
    assert isinstance(definitions, dict)
    kinds = {d["properties"]["kind"]["const"] for d in definitions.values() if "kind" in d.get("properties", {})}
    assert kinds == set(SOURCE_KINDS)
    assert "$defs" not in json.dumps(schema)  # draft 7: editors' validators resolve #/definitions


def test_the_documented_forms_run(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.toml"
    for form in DOCUMENTED:
        argv = [str(path) if arg == "P" else arg for arg in form.split()[1:]]
        assert main(argv) == 0, (form, capsys.readouterr().err)


def test_check_warns_of_a_token_file_others_can_read_and_passes(home: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    token = tmp_path / "token"
    token.write_text("abc\n")
    token.chmod(0o644)
    path = tmp_path / "c.toml"
    path.write_text(f'[[sources]]\nname = "a"\nkind = "http"\nurl = "http://x"\ntoken_file = "{token}"\n')
    assert main(["config", "check", "--config", str(path)]) == 0
    assert f"warning: source a: token_file {token} can be read by other users" in capsys.readouterr().err


def test_the_tui_without_a_configuration_points_at_config_init(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "`monotui config init`" in capsys.readouterr().err
