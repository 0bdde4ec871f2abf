"""The configuration file's keys are read exactly as written: a key in another case or a pydantic-settings
option is an unknown key, whatever the environment holds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monotui.config import ConfigError, load_settings

SOURCE = '[[sources]]\nname = "a"\nkind = "http"\nurl = "http://127.0.0.1:1"\n'


@pytest.mark.parametrize(("line", "key"), [
    ("READ_ONLY = true", "READ_ONLY"),  # pydantic-settings folds case: the file's keys would too
    ('Actor = "mallory"', "Actor"),
    ('_env_prefix = "OTHER_"', "_env_prefix"),  # pydantic-settings' own parameters, taken from the file
    ("_cli_parse_args = true", "_cli_parse_args"),
])
@pytest.mark.parametrize("environment", [False, True], ids=["no MONOTUI_ variable", "a MONOTUI_ setting"])
def test_a_file_key_is_unknown_with_or_without_a_monotui_variable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, key: str, environment: bool) -> None:
    """The same file gives the same verdict whether or not the environment holds a MONOTUI_* setting (then read
    through pydantic-settings): an unknown key, named, never a key read in another case or as a pydantic-settings
    option."""
    for name in [n for n in os.environ if n.upper().startswith("MONOTUI_")]:
        monkeypatch.delenv(name)
    if environment:
        monkeypatch.setenv("MONOTUI_AUDIT_LOG", str(tmp_path / "audit.log"))
    path = tmp_path / "config.toml"
    path.write_text(f"{line}\n{SOURCE}")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(info.value) == f"config error in {path}: {key}: unknown key"
