"""A `token_file` is read only when it is a regular file, and only up to a bound: a FIFO, a device, a folder or a
huge file is refused at once with an error naming the file and the key (exit 2), never waited on nor read whole."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monotui.config import ConfigError, load_settings

MAX_TOKEN_FILE_BYTES = 64 * 1024  # the documented bound (config.MAX_TOKEN_FILE_BYTES)

ROOT = Path(__file__).resolve().parent.parent


def config_with_token_file(tmp_path: Path, token_file: Path | str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "http://127.0.0.1:9"\n'
                    f'token_file = "{token_file}"\n')
    return path


def run_status(config: Path) -> subprocess.CompletedProcess[str]:
    """`monotui status` in its own process, bounded in time and memory: a hang or an endless read fails the test
    instead of stalling the suite."""
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
    return subprocess.run(
        [sys.executable, "-c", limit + "import sys; from monotui.cli import main; sys.exit(main(sys.argv[1:]))",
         "status", "--config", str(config)],
        capture_output=True, text=True, timeout=30, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_a_fifo_token_file_is_refused_at_once_naming_file_and_key(tmp_path: Path) -> None:
    fifo = tmp_path / "token"
    os.mkfifo(fifo)  # no writer ever opens it: reading it would wait forever
    result = run_status(config_with_token_file(tmp_path, fifo))
    assert result.returncode == 2, result.stderr
    assert "sources[0].token_file" in result.stderr and str(fifo) in result.stderr
    assert "not a regular file (a FIFO)" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_as_token_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    result = run_status(config_with_token_file(tmp_path, "/dev/zero"))
    assert result.returncode == 2, result.stderr
    assert "sources[0].token_file" in result.stderr and "/dev/zero" in result.stderr
    assert "character device" in result.stderr
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr


def test_a_token_file_larger_than_the_bound_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "token"
    big.write_bytes(b"a" * (MAX_TOKEN_FILE_BYTES + 1))
    with pytest.raises(ConfigError) as info:
        load_settings(config_with_token_file(tmp_path, big))
    assert "sources[0].token_file" in str(info.value) and str(big) in str(info.value)
    assert "larger than" in str(info.value)


def test_a_folder_as_token_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "tokens"
    folder.mkdir()
    with pytest.raises(ConfigError, match=r"sources\[0\]\.token_file: .*not a regular file \(a directory\)"):
        load_settings(config_with_token_file(tmp_path, folder))


def test_a_token_at_the_bound_is_read(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("t" * (MAX_TOKEN_FILE_BYTES - 1) + "\n")
    settings = load_settings(config_with_token_file(tmp_path, token))
    assert settings.sources[0].token() == "t" * (MAX_TOKEN_FILE_BYTES - 1)  # type: ignore[union-attr]


def test_a_missing_token_file_still_means_no_token(tmp_path: Path) -> None:
    settings = load_settings(config_with_token_file(tmp_path, tmp_path / "not-yet"))
    assert settings.sources[0].token() is None  # type: ignore[union-attr]


def test_the_bound_is_the_one_the_reader_uses() -> None:
    from monotui import config

    assert config.MAX_TOKEN_FILE_BYTES == MAX_TOKEN_FILE_BYTES
