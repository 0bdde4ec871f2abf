"""`monotui --help` (and `monotui config --help`) at 80 columns lists every command with its whole first sentence,
wrapped, where click would cut it with "..."; no line is wider than the terminal."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from monotui.cli import cli
from monotui.cli_config import config_group


@pytest.mark.parametrize("args", [["--help"], ["config", "--help"]], ids=["monotui", "config"])
def test_command_descriptions_are_whole_at_80_columns(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args, terminal_width=80, prog_name="monotui")
    assert result.exit_code == 0, result.output
    listing = result.output.split("Commands:", 1)[1]
    assert "..." not in listing
    assert all(len(line) <= 80 for line in result.output.splitlines())
    flat = re.sub(r"\s+", " ", listing)
    group: click.Group = config_group if args[0] == "config" else cli
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if command.hidden:
            continue
        sentence = re.sub(r"\s+", " ", command.get_short_help_str(limit=10_000))
        assert sentence.rstrip(".") in flat, (name, sentence)
