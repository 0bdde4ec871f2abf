"""The `unleash` source kind in the config file: defaults, and clear one-line errors for what cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from monotui.config import ConfigError, UnleashSourceConfig, load_settings


def write(tmp_path: Path, body: str, url: str = "https://unleash.example.com") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[[sources]]\nname = "flags"\nkind = "unleash"\nurl = "{url}"\n' + body)
    return path


def test_defaults_read_production_flags_of_the_default_project_mapped_by_service_tag(tmp_path: Path) -> None:
    (source,) = load_settings(write(tmp_path, 'token_env = "UNLEASH_TOKEN"\n')).sources
    assert isinstance(source, UnleashSourceConfig)
    assert (source.projects, source.environment, source.service_from, source.service_tag_type) == (
        ["default"], "production", "tag", "service")
    assert source.poll_interval == 5.0 and source.history == 500


@pytest.mark.parametrize(("body", "url", "key", "problem"), [
    ('token = "*:*.abc"\n', "https://u.example.com", "sources[0]", "'token' must not be written in the config file"),
    ('service_from = "label"\n', "https://u.example.com", "sources[0].service_from",
     "Input should be 'tag' or 'prefix'"),
    ("projects = []\n", "https://u.example.com", "sources[0].projects", "at least 1 item"),
    ("", "unleash.example.com", "sources[0].url", "must start with http:// or https://"),
    ("", "https://admin:*:*.abc@u.example.com", "sources[0].url", "must not contain a user name or password"),
])
def test_a_bad_unleash_source_is_one_clear_line(tmp_path: Path, body: str, url: str, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, body, url))
    assert caught.value.key == key and problem in caught.value.problem
    assert "*:*.abc" not in str(caught.value)
