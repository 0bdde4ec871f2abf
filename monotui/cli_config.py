"""`monotui config init|check|schema`: write the example configuration (shipped inside the package), report every
problem of one (file or variable, key, why; exit 2), print the file's JSON Schema for editors.

Registered on the `monotui` group by monotui/cli.py. Nothing but click loads until a command runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from monotui.cli_help import WholeHelpGroup

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}
EXAMPLE = "config.example.toml"  # inside the package (monotui/config.example.toml), the repository root's twin


def example_text() -> str:
    """The example configuration, with its comments, as shipped inside the package."""
    from importlib.resources import files

    return files("monotui").joinpath(EXAMPLE).read_text(encoding="utf-8")


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    click.echo(f"monotui: {message}", err=True)
    return code


def _global_options(ctx: click.Context, config: str | None = None) -> tuple[str | None, bool]:
    """`--config` and `--read-only` as given before `config`, after it, or (`--config`) after the subcommand: one
    value, or a usage error when two differ."""
    chain: list[click.Context] = []
    at: click.Context | None = ctx
    while at is not None:
        chain.append(at)
        at = at.parent
    paths = [c.params.get("config") for c in reversed(chain)] + [config]
    given = [p for p in paths if p]
    if len({Path(p).expanduser().resolve() for p in given}) > 1:
        raise click.UsageError(f"--config given twice with different values: {', '.join(map(repr, given))}", ctx)
    return (given[0] if given else None), any(c.params.get("read_only") for c in chain)


def _refuse_global_options(ctx: click.Context, hint: str = "") -> None:
    """`monotui --read-only config init` (or a `--config` where it means nothing) is a usage error, never ignored."""
    config, read_only = _global_options(ctx)
    for given, flag in ((config, "--config"), (read_only, "--read-only")):
        if given:
            raise click.UsageError(f"{flag} does not apply to `monotui config {ctx.info_name}`{hint}", ctx)


def write_new(path: Path, text: str, force: bool) -> None:
    """Write `text` to `path` (mode 600, folders made 700): never over an existing file or through a symlink unless
    `force`, and then by an atomic rename (a reader sees the old file or the new one, never half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not force:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        return
    import tempfile

    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@click.group("config", cls=WholeHelpGroup, context_settings=CONTEXT)
@click.option("--config", metavar="PATH", type=click.Path(dir_okay=False),
              help="config file, for `check` (default: $MONOTUI_CONFIG, then config.toml in the user config dir)")
@click.option("--read-only", is_flag=True, hidden=True)  # accepted here as everywhere, refused by every subcommand
def config_group(config: str | None, read_only: bool) -> None:
    """Write, check, or describe the configuration file (`monotui config init`, then `monotui config check`)."""


@config_group.command("init", context_settings=CONTEXT)
@click.option("--path", "target", metavar="P", type=click.Path(dir_okay=False, allow_dash=True),
              help="where to write it (default: $MONOTUI_CONFIG, then config.toml in the user config dir, "
                   "~/.config/monotui on Linux); - prints it instead")
@click.option("--force", is_flag=True, help="replace an existing file")
@click.pass_context
def init(ctx: click.Context, target: str | None, force: bool) -> int:
    """Write the example configuration, every key explained in a comment, where monotui reads it."""
    _refuse_global_options(ctx, hint=" (pass --path P)")
    text = example_text()
    if target == "-":
        click.echo(text, nl=False)
        return EXIT_OK
    from monotui.config import resolve_config_path

    default, _ = resolve_config_path(None)
    path = Path(target).expanduser() if target else default
    try:
        write_new(path, text, force)
    except FileExistsError:
        return _fail(f"{path} already exists: not replaced (pass --force to replace it)", EXIT_FAILED)
    except OSError as e:
        return _fail(f"cannot write {path}: {e.strerror or e}", EXIT_FAILED)
    check = "monotui config check" + ("" if path == default else f" --config {path}")
    click.echo(f"wrote {path}\nnext: edit its [[sources]], then run `{check}`")
    return EXIT_OK


@config_group.command("check", context_settings=CONTEXT)
@click.option("--config", metavar="PATH", type=click.Path(dir_okay=False),
              help="the file to check (default: $MONOTUI_CONFIG, then config.toml in the user config dir)")
@click.pass_context
def check(ctx: click.Context, config: str | None) -> int:
    """Check the configuration as monotui would read it (file and MONOTUI_* variables) and report every problem,
    one line each: the file or variable, the key, why. Exit 2 when there is one, 0 when it is fine."""
    config, read_only = _global_options(ctx, config)
    if read_only:
        raise click.UsageError("--read-only does not apply to `monotui config check`", ctx)
    from monotui.config import ConfigError, check_config, resolve_config_path

    path, named = resolve_config_path(config)
    if not named and not path.exists():
        return _fail(f"no configuration: {path} does not exist; `monotui config init` writes one there")
    report = check_config(path)
    problems = [str(p) for p in report.problems]
    if report.sources:
        from monotui.providers.registry import backend

        for i, source in report.sources:
            line = backend(source.kind)
            problems += [str(ConfigError(path, f"sources[{i}].kind", f"{line.kind} needs {module}, which is not "
                                         f"installed: {line.install_hint()}")) for module in line.missing()]
    for warning in report.warnings:
        click.echo(f"monotui: warning: {warning}", err=True)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        click.echo(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} in {path}", err=True)
        return EXIT_USAGE
    names = ", ".join(f"{source.name} ({source.kind}{', read-only' if source.read_only else ''})"
                      for _, source in report.sources)
    click.echo(f"{path}: ok — {len(report.sources)} source{'s' if len(report.sources) > 1 else ''}: {names}")
    return EXIT_OK


@config_group.command("schema", context_settings=CONTEXT)
@click.pass_context
def schema(ctx: click.Context) -> int:
    """Print the configuration file's JSON Schema (draft 7), for editors.

    \b
    monotui config schema > ~/.config/monotui/config.schema.json
    then make this the first line of config.toml (taplo, Even Better TOML):
    #:schema ./config.schema.json
    """
    _refuse_global_options(ctx)
    from monotui.config import json_schema

    click.echo(json.dumps(json_schema(), indent=2))
    return EXIT_OK
