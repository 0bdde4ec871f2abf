"""`--help` lists each command with its whole first sentence, wrapped to the terminal (never inside a hyphenated
word), where click would cut it at the width with "..." (80 columns cut most of them)."""

from __future__ import annotations

import textwrap

import click

WHOLE = 10_000  # no limit: click's short help stops at the first sentence, and the rows are wrapped here
NAME_WIDTH_MAX = 30


class WholeHelpGroup(click.Group):
    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=WHOLE)))
        if not rows:
            return
        with formatter.section("Commands"):
            indent = " " * formatter.current_indent
            first = min(max(len(name) for name, _ in rows), NAME_WIDTH_MAX) + 2
            width = max((formatter.width or 80) - formatter.current_indent - first, 20)
            for name, text in rows:
                lines = textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False) or [""]
                if len(name) + 2 > first:  # a name longer than the column: its text starts on the next line
                    formatter.write(f"{indent}{name}\n")
                    formatter.write("".join(f"{indent}{' ' * first}{line}\n" for line in lines))
                    continue
                formatter.write(f"{indent}{name:<{first}}{lines[0]}\n")
                formatter.write("".join(f"{indent}{' ' * first}{line}\n" for line in lines[1:]))
