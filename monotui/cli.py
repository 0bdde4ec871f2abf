"""The `monotui` command (click): the TUI, `demo`, `simulate`, `kube-standin`, `status`, `flags`, one-shot actions
(`flag off|on` too), `completion`, and `config init|check|schema` (monotui/cli_config.py).

Global options (`--config`, `--read-only`) may come before or after the command with the same effect; given in both
places with different values, or to a command they do not apply to, they are a usage error — never ignored.
Exit status: 0 ok; 1 an action failed or was refused, or a source is unreachable; 2 bad configuration or usage.
Heavy modules (textual, kr8s, the simulator) are imported only by the command that needs them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from monotui import __version__, cli_logs
from monotui.action_kinds import ROLLOUT_ACTIONS, ActionKind, ActionSpec
from monotui.cli_config import config_group
from monotui.cli_help import WholeHelpGroup
from monotui.cli_status import fail as _fail
from monotui.cli_status import print_status, sources_problem, status_json

if TYPE_CHECKING:  # the configuration (pydantic) loads when a command reads it: `demo` starts its simulator first
    from monotui.config import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEMO_PROTECTED = ["payments-api"]
DEMO_LINKS = {"dashboard_url": "https://grafana.example.com/d/{service}?from={from_ms}&to={to_ms}",
              "commit_url": "https://git.example.com/shop/{service}/commit/{commit}"}
SHELLS = ("bash", "zsh", "fish")
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}




# ---- global options -----------------------------------------------------------------------------------------


class _Once(click.Option):
    """An option that may be repeated only with the same value: `--config A --config B` (or two `--revision`s) is a
    usage error, where click would silently keep the last one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["multiple"] = True
        super().__init__(*args, **kwargs)

    def process_value(self, ctx: click.Context, value: Any) -> Any:
        values = super().process_value(ctx, value) or ()
        if len(set(values)) > 1:
            raise click.BadParameter(f"given twice with different values ({', '.join(map(repr, values))})",
                                     ctx=ctx, param=self)
        return values[0] if values else None


def _global_params() -> list[click.Parameter]:
    return [
        _Once(["--config"], metavar="PATH", type=click.Path(dir_okay=False),
              help="config file (default: $MONOTUI_CONFIG, then monotui/config.toml in the user config dir, "
                   "~/.config on Linux)"),
        click.Option(["--read-only"], is_flag=True, default=False,
                     help="offer no mutating action and send no mutating request"),
    ]


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"monotui {__version__}")
        ctx.exit()


def _version_param() -> click.Option:
    return click.Option(["--version"], is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
                        help="Show the version and exit.")


@dataclass(frozen=True)
class Globals:
    config: str | None = None
    read_only: bool = False


def _same_file(a: str, b: str) -> bool:
    return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def global_options(ctx: click.Context) -> Globals:
    """The global options given before the command merged with those given after it."""
    before = ctx.find_root().params
    after = ctx.params if ctx.parent is not None else {}
    config_before, config_after = before.get("config"), after.get("config")
    if config_before and config_after and not _same_file(config_before, config_after):
        raise click.UsageError(f"--config given twice with different values: {config_before!r} before "
                               f"{ctx.info_name}, {config_after!r} after it", ctx)
    return Globals(config_after or config_before, bool(before.get("read_only") or after.get("read_only")))


def _no_globals(ctx: click.Context) -> None:
    """Commands that read no config refuse the global options instead of ignoring them."""
    given = ctx.find_root().params
    for name, flag in (("config", "--config"), ("read_only", "--read-only")):
        if given.get(name):
            raise click.UsageError(f"{flag} does not apply to `monotui {ctx.info_name}` (it reads no config)", ctx)


def _settings(g: Globals, **extra: Any) -> Settings:
    global _state_dir
    overrides: dict[str, Any] = dict(extra)
    if g.read_only:
        overrides["read_only"] = True
    from monotui.config import load_settings

    settings = load_settings(g.config, **overrides)
    _state_dir = settings.audit_log.expanduser().parent  # where a crash's details go
    return settings


_state_dir: Path | None = None  # the configured audit log's folder, once a command has loaded the settings


def _crashed(error: BaseException) -> int:
    """A bug anywhere in a command: one line on the terminal (the error's type and where the details are, never its
    text, which may quote a secret), the traceback in `monotui.log` next to the audit log."""
    from monotui.config import default_audit_path

    path = (_state_dir or default_audit_path().parent) / "monotui.log"
    _log_to(path)
    logging.getLogger("monotui").error("monotui stopped on an unexpected error", exc_info=error)
    return _fail(f"stopped by an unexpected error ({type(error).__name__}); the details are in {path}",
                 EXIT_FAILED)


# ---- the command tree ---------------------------------------------------------------------------------------


class _Group(WholeHelpGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order defined: the TUI commands, status, then the actions


@click.group(cls=_Group, invoke_without_command=True, context_settings=CONTEXT,
             subcommand_metavar="[COMMAND] [ARGS]...",  # optional (the TUI), in every click of the range
             params=[*_global_params(), _version_param(),
                     # a browser session of `serve --follow`: follow the operator's view on this socket
                     click.Option(["--follow"], metavar="SOCKET", type=click.Path(dir_okay=False), hidden=True)],
             epilog="With no command, monotui opens the TUI on the configured sources. Global options may come "
                    "before or after the command. Shell completion: `monotui completion bash|zsh|fish`.")
@click.pass_context
def cli(ctx: click.Context, config: str | None, read_only: bool, follow: str | None) -> int:
    """The terminal control room for production."""
    if ctx.invoked_subcommand is None:
        with _no_cycle_collection_until_first_rows():
            return run_tui(global_options(ctx), Path(follow) if follow else None)
    return EXIT_OK


def _sim_params(deploy_interval: float) -> list[click.Parameter]:
    return [
        click.Option(["--services"], type=click.IntRange(min=1), default=12, show_default=True,
                     help="number of services"),
        click.Option(["--seed"], type=int, default=1, show_default=True,
                     help="random seed: the same seed, the same production"),
        click.Option(["--deploy-interval"], type=click.FloatRange(min=0), default=deploy_interval, show_default=True,
                     help="mean seconds between new deploys (0: none)"),
        click.Option(["--bad-probability"], type=click.FloatRange(0, 1), default=0.2, show_default=True,
                     help="chance that a release is bad"),
        click.Option(["--auto-rollback"], is_flag=True, help="roll bad releases back automatically"),
    ]


def _command(name: str, help: str, params: list[click.Parameter],
             callback: Callable[..., int]) -> click.Command:
    def invoke(ctx: click.Context, **options: Any) -> int:
        options.pop("config", None)  # read through global_options(ctx), merged with those before the command
        options.pop("read_only", None)
        return callback(ctx, **options)

    command = click.Command(name, params=[*params, _version_param()], callback=click.pass_context(invoke),
                            help=help, context_settings=CONTEXT)
    cli.add_command(command)
    return command


def _demo(ctx: click.Context, prometheus: bool, unleash: bool, port: int, print_config: bool,
          write_config: str | None, **sim: Any) -> int:
    if print_config:
        return print_demo_config(global_options(ctx), port, prometheus or unleash)
    with _no_cycle_collection_until_first_rows():
        return run_demo(global_options(ctx), prometheus=prometheus, unleash=unleash, port=port,
                        write_config=Path(write_config) if write_config else None, **sim)


_command("demo", "Open monotui on a simulated production (`monotui simulate`, started and stopped with the demo).",
         [*_global_params(),
          click.Option(["--prometheus"], is_flag=True,
                       help="also start a real Prometheus scraping the simulator (the health source) and an "
                            "Alertmanager receiving its alerts"),
          click.Option(["--unleash"], is_flag=True,
                       help="serve the demo's feature flags from a real Unleash (on PostgreSQL; node and "
                            "unleash-server needed) instead of the simulator"),
          click.Option(["--port"], type=click.IntRange(0, 65535), default=0,
                       help="port of the simulator on 127.0.0.1 (default: any free one; printed either "
                            "way)"),
          click.Option(["--print-config"], is_flag=True,
                       help="print the config the demo uses with this --port (sources, flag source, protected "
                            "services) and exit"),
          click.Option(["--write-config"], metavar="PATH", type=click.Path(dir_okay=False),
                       help="write the config the demo uses here once its servers listen, for monotui status, "
                            "flags and the actions from another terminal"),
          *_sim_params(deploy_interval=5.0)], _demo)


def _simulate(ctx: click.Context, port: int, token_env: str | None, **options: Any) -> int:
    _no_globals(ctx)
    return run_simulate(port, token_env, **options)


_command("simulate", "Run the simulated production alone (an HTTP server on 127.0.0.1).",
         [click.Option(["--port"], type=click.IntRange(0, 65535), default=8700, show_default=True,
                       help="port on 127.0.0.1 (0: any free one; printed either way)"),
          click.Option(["--token-env"], metavar="VAR", help="require the bearer token held in this environment "
                       "variable"),
          # `monotui demo`'s own: print the URL on stdout once serving, stop when stdin closes
          click.Option(["--for-parent"], is_flag=True, hidden=True),
          # `monotui demo --unleash`: keep this real Unleash in step with the world's flags (admin token in
          # $MONOTUI_DEMO_UNLEASH_TOKEN)
          click.Option(["--unleash-mirror"], metavar="URL", hidden=True),
          *_sim_params(deploy_interval=5.0)], _simulate)


def _kube_standin(ctx: click.Context, **options: Any) -> int:
    _no_globals(ctx)
    return run_kube_standin(**options)


_command("kube-standin", "Serve Argo Rollouts objects on a loopback Kubernetes API stand-in (no cluster needed).",
         [click.Option(["--port"], type=click.IntRange(0, 65535), default=8701, show_default=True,
                       help="port on 127.0.0.1 (0: any free one; the kubeconfig names it)"),
          click.Option(["--fixtures"], metavar="DIR", help="folder of Kubernetes YAML (e.g. the Argo Rollouts "
                       "fixtures in shared/fixtures/argo-rollouts)"),
          click.Option(["--synthetic"], type=click.IntRange(min=0), default=0, metavar="N",
                       help="also serve N generated rollouts"),
          click.Option(["--namespaces"], type=click.IntRange(min=1), default=10, show_default=True,
                       help="spread generated rollouts over this many namespaces"),
          click.Option(["--kubeconfig-out"], metavar="PATH", default="standin.kubeconfig", show_default=True,
                       help="write a kubeconfig pointing at the stand-in here")], _kube_standin)


def _serve(ctx: click.Context, host: str, port: int, allow_remote: bool, token_file: str | None,
           max_sessions: int, follow: bool) -> int:
    return run_serve(global_options(ctx), host, port, allow_remote=allow_remote, token_file=token_file,
                     max_sessions=max_sessions, follow=follow)


_command("serve", "Share the control room in a browser, read-only (textual-serve); reach it through an SSH "
         "port-forward. The address printed holds the session's token: only those who have it see the room.",
         [*_global_params(),
          click.Option(["--host"], default="127.0.0.1", show_default=True,
                       help="address to listen on (loopback only unless --allow-remote)"),
          click.Option(["--port"], type=click.IntRange(1, 65535), default=8703, show_default=True, help="port"),
          click.Option(["--allow-remote"], is_flag=True,
                       help="allow a --host that is not loopback (plain HTTP: the token travels in clear)"),
          click.Option(["--token-file"], metavar="PATH", type=click.Path(dir_okay=False),
                       help="keep the session token in this file (created with a new token if missing) instead "
                            "of a new one at each start"),
          click.Option(["--max-sessions"], type=click.IntRange(1, 64), default=4, show_default=True,
                       help="browser tabs served at once (each runs its own monotui)"),
          click.Option(["--follow"], is_flag=True,
                       help="each browser tab follows the operator's monotui (its selection, filter and dialog) "
                            "once they press w to share; f in a tab follows again after browsing")],
         _serve)


def _status(ctx: click.Context, json_output: bool, source: str | None, watch: bool, interval: float,
            timeout: float | None) -> int:
    if watch:
        from monotui.cli_watch import run_watch

        return asyncio.run(run_watch(_settings(global_options(ctx)), json_output, source, interval, timeout))
    return asyncio.run(run_status(global_options(ctx), json_output, source))


_command("status", "Print every rollout once and exit (1 if a source is unreachable).\n\nWith --watch: again "
         "every --interval, redrawn in place on a terminal (with --json: one document per line), until no rollout "
         "is progressing.",
         [*_global_params(),
          click.Option(["--json", "json_output"], is_flag=True, help="machine-readable output"),
          _Once(["--source"], metavar="NAME", help="only this source"),
          click.Option(["--watch", "-w"], is_flag=True,
                       help="poll again until no rollout is progressing; exit 0 then (1 if a source is "
                            "unreachable at the last poll, 3 when --timeout passed first)"),
          click.Option(["--interval"], type=click.FloatRange(min=0.1), default=2.0, show_default=True,
                       metavar="SECONDS", help="with --watch: seconds between polls"),
          click.Option(["--timeout"], type=click.FloatRange(min=0), default=None, metavar="SECONDS",
                       help="with --watch: give up after this long")], _status)


def _flags(ctx: click.Context, json_output: bool, source: str | None) -> int:
    from monotui.cli_flags import run_flags

    return asyncio.run(run_flags(_settings(global_options(ctx)), json_output, source))


_command("flags", "Print every feature flag of the flag sources once and exit (1 if a flag source is "
         "unreachable).",
         [*_global_params(),
          click.Option(["--json", "json_output"], is_flag=True, help="machine-readable output"),
          _Once(["--source"], metavar="NAME", help="only this flag source")], _flags)


def _flag(ctx: click.Context, state: str, flag: str, source: str | None, project: str | None, reason: str | None,
          yes: bool, confirm_name: str | None) -> int:
    from monotui.cli_flags import FlagRequest, run_flag

    request = FlagRequest(state == "on", flag, source, reason, yes, confirm_name, project=project)
    return asyncio.run(run_flag(_settings(global_options(ctx)), request))


_command("flag", "Turn a feature flag off (the kill switch) or on in production.\n\nFLAG is the flag's name; the "
         "flag is read again just before the request, and nothing is sent if it changed since it was shown.",
         [click.Argument(["state"], type=click.Choice(["off", "on"])),
          click.Argument(["flag"]),
          *_global_params(),
          _Once(["--source"], metavar="NAME", help="the flag source, when several have this flag"),
          _Once(["--project"], metavar="NAME", help="the flag's Unleash project, when several have this flag"),
          _Once(["--reason"], metavar="TEXT", help="why: goes to the audit log"),
          click.Option(["--yes", "-y"], is_flag=True, help="do not ask for confirmation"),
          _Once(["--confirm-name"], metavar="NAME",
                help="with --yes on a protected flag: its name, typed out, to confirm without a prompt")], _flag)


def _complete_service(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from monotui.cli_complete import complete_service  # loaded only when a shell asks

    return complete_service(ctx, param, incomplete)


def _action_command(spec: ActionSpec) -> None:
    def run(ctx: click.Context, service: str, source: str | None, reason: str | None, yes: bool,
            confirm_name: str | None, revision: int | None = None) -> int:
        from monotui.cli_actions import ActionRequest, run_action

        request = ActionRequest(spec.kind, service, source, reason, yes, confirm_name, revision)
        return asyncio.run(run_action(_settings(global_options(ctx)), request))

    params: list[click.Parameter] = [
        click.Argument(["service"], shell_complete=_complete_service),
        *_global_params(),
        _Once(["--source"], metavar="NAME", help="the source, when several have this service"),
        _Once(["--reason"], metavar="TEXT", help="why: goes to the audit log"),
        click.Option(["--yes", "-y"], is_flag=True, help="do not ask for confirmation"),
        _Once(["--confirm-name"], metavar="NAME",
                     help="with --yes on a protected service: its name, typed out, to confirm without a prompt"),
    ]
    if spec.kind is ActionKind.ROLLBACK:
        params.append(_Once(["--revision"], type=click.IntRange(min=1), metavar="N",
                                   help="target revision (default: the previous good one)"))
    description = spec.description.rstrip(".")
    _command(spec.kind.value, f"{description}.\n\nSERVICE is a service name, or a rollout id (e.g. "
             "prod/cart-api) when a name matches several rollouts.", params, run)


for _spec in ROLLOUT_ACTIONS:
    _action_command(_spec)


def _freeze(ctx: click.Context, service: tuple[str, ...], source: str | None, reason: str | None,
            yes: bool) -> int:
    from monotui.cli_freeze import FreezeRequest, run_freeze

    request = FreezeRequest(False, tuple(service), source, reason, yes)
    return asyncio.run(run_freeze(_settings(global_options(ctx)), request))


_command("freeze", "Stop the line: pause every progressing rollout (of every source, --source, or each --service), "
         "and refuse promote, promote-full and resume until `monotui unfreeze` (rollback and abort stay allowed). "
         "A deploy API with a freeze holds it itself: no new deploy, every client held.",
         [*_global_params(),
          click.Option(["--service"], multiple=True, metavar="NAME", help="only this service (repeatable)",
                       shell_complete=_complete_service),
          _Once(["--source"], metavar="NAME", help="only this source"),
          _Once(["--reason"], metavar="TEXT", help="why: goes to the audit log and is shown to every operator"),
          click.Option(["--yes", "-y"], is_flag=True, help="do not ask for confirmation")], _freeze)


def _unfreeze(ctx: click.Context, source: str | None, yes: bool) -> int:
    from monotui.cli_freeze import FreezeRequest, run_freeze

    return asyncio.run(run_freeze(_settings(global_options(ctx)), FreezeRequest(True, source=source, yes=yes)))


_command("unfreeze", "Lift the freeze and resume only what it paused (each still paused at the same revision).",
         [*_global_params(),
          _Once(["--source"], metavar="NAME", help="only this source"),
          click.Option(["--yes", "-y"], is_flag=True, help="do not ask for confirmation")], _unfreeze)


def _timeline(ctx: click.Context, output: str | None, **options: Any) -> int:
    from monotui.cli_timeline import TimelineRequest, run_timeline

    request = TimelineRequest(format=output or "text", **options)
    return asyncio.run(run_timeline(_settings(global_options(ctx)), request))


_command("timeline", "What happened, in order: deploys, pauses, rollbacks (automatic ones with why), flag flips, "
         "alerts, breaches, freezes and every action of the audit log with its actor and outcome (one poll of the "
         "sources and the audit log). --format markdown is a postmortem draft, the suspects at the top.",
         [*_global_params(),
          _Once(["--since"], metavar="DURATION", help="the last 30m, 2h, 1h30m… (default: 1h)"),
          _Once(["--from", "start"], metavar="TIME", help="from this time (10:42 today, or ISO 8601)"),
          _Once(["--to", "end"], metavar="TIME", help="up to this time (default: now)"),
          _Once(["--service"], metavar="NAME", help="only this service (and what held all of production)"),
          _Once(["--source"], metavar="NAME", help="only this source"),
          _Once(["--format", "output"], type=click.Choice(["text", "markdown", "json"]),
                help="text (default), markdown (a postmortem draft) or json")], _timeline)


def _history(ctx: click.Context, service: str, source: str | None, json_output: bool) -> int:
    from monotui.cli_history import run_history

    return asyncio.run(run_history(_settings(global_options(ctx)), service, source, json_output))


_command("history", "A rollout's revisions, newest first: version, commit, author, when each was live and for how "
         "long, how it ended (promoted, aborted, rolled back, auto-rolled back, and why), which is stable.",
         [click.Argument(["service"]), *_global_params(),
          _Once(["--source"], metavar="NAME", help="the source, when several have this service"),
          click.Option(["--json", "json_output"], is_flag=True, help="machine-readable output")], _history)


def _diff(ctx: click.Context, service: str, old: str | None, new: str | None, source: str | None) -> int:
    from monotui.cli_history import run_diff

    return asyncio.run(run_diff(_settings(global_options(ctx)), service, old, new, source))


_command("diff", "What changed between two revisions (images, environment, args, resources, pod-template labels "
         "and annotations; or version, commits and config keys), unified-diff style. FROM and TO are revisions "
         "(12 or r12); without them, the stable revision against the current one; with FROM alone, FROM against "
         "the current one. Secret-looking values are never printed.",
         [click.Argument(["service"]), click.Argument(["old"], required=False, metavar="[FROM]"),
          click.Argument(["new"], required=False, metavar="[TO]"), *_global_params(),
          _Once(["--source"], metavar="NAME", help="the source, when several have this service")], _diff)


def _logs(ctx: click.Context, **options: Any) -> int:
    from monotui.cli_logs import run_logs

    return asyncio.run(run_logs(_settings(global_options(ctx)), **options))


_command("logs", cli_logs.HELP, [*_global_params(), *cli_logs.params()], _logs)


def _completion(ctx: click.Context, shell: str) -> int:
    from click.shell_completion import get_completion_class

    _no_globals(ctx)
    completer = get_completion_class(shell)
    assert completer is not None  # every name in SHELLS is one of click's
    click.echo(completer(cli, {}, "monotui", "_MONOTUI_COMPLETE").source())
    return EXIT_OK


_command("completion", """Print the shell completion script for bash, zsh or fish.

    \b
    bash: eval "$(monotui completion bash)"   (in ~/.bashrc)
    zsh:  eval "$(monotui completion zsh)"    (in ~/.zshrc)
    fish: monotui completion fish > ~/.config/fish/completions/monotui.fish
    """, [click.Argument(["shell"], type=click.Choice(SHELLS))], _completion)


cli.add_command(config_group)


def main(argv: Sequence[str] | None = None) -> int:
    global _state_dir
    _state_dir = None
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="monotui",
                          standalone_mode=False)
    except click.ClickException as e:  # usage errors (exit 2) and bad values
        e.show()
        return e.exit_code
    except click.Abort:  # Ctrl+C (click turns it into Abort)
        return 130
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        config = sys.modules.get("monotui.config")  # loaded by every command that reads a configuration
        if config is not None and isinstance(e, config.ConfigError):
            return _fail(str(e))
        return _crashed(e)
    return result if isinstance(result, int) else EXIT_OK


# ---- the TUI ------------------------------------------------------------------------------------------------


@contextmanager
def _no_cycle_collection_until_first_rows() -> Iterator[None]:
    """The app turns the collector back on at its first rows (`monotui.startup_gc`); this, whatever happens."""
    from monotui import startup_gc

    startup_gc.pause()
    try:
        yield
    finally:
        startup_gc.resume()


def _log_to_state_dir(settings: Settings) -> Path:
    # The terminal belongs to the TUI; warnings go to a file next to the audit log. No request headers are logged.
    path = settings.audit_log.expanduser().parent / "monotui.log"
    _log_to(path)
    return path


_log_files: dict[Path, logging.Handler] = {}


def _log_to(path: Path) -> None:
    """The `monotui` logger writes to `path` (once per path) and never to the terminal."""
    logger = logging.getLogger("monotui")
    logger.setLevel(logging.WARNING)
    logger.propagate = False  # never onto the terminal the TUI draws on
    if _log_files.get(path) in logger.handlers:
        return
    from monotui.engine.audit import AuditError, open_private

    try:  # as the audit log: no symlink followed, 0600
        stream = os.fdopen(open_private(path), "a", encoding="utf-8", errors="backslashreplace")
        handler: logging.Handler = logging.StreamHandler(stream)
    except AuditError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    _log_files[path] = handler


def _open_tui(settings: Settings, follow: Path | None = None) -> int:
    from monotui.engine.core import Engine
    from monotui.stop_signals import StopSignals
    from monotui.ui.app import MonotuiApp

    log_file = _log_to_state_dir(settings)
    app = MonotuiApp(Engine(settings), follow=follow)
    with StopSignals() as stop:
        stop.quit = app.exit
        app.run()
    if app.return_code:
        return _fail(f"stopped by an unexpected error ({app.crash or 'see the log'}); the details are in "
                     f"{log_file}", EXIT_FAILED)
    return EXIT_OK


def run_tui(g: Globals, follow: Path | None = None) -> int:
    from monotui.config import resolve_config_path

    path, named = resolve_config_path(g.config)
    if not named and not path.exists():
        return _fail(f"no configuration: {path} does not exist. Try `monotui demo`, or write one there with "
                     "`monotui config init` (or pass --config PATH).")
    settings = _settings(g)
    if not settings.sources:
        return _fail(f"config error in {path}: sources: no source configured")
    return _open_tui(settings, follow)


def _world(services: int, seed: int, deploy_interval: float, bad_probability: float, auto_rollback: bool,
           staged: bool = False) -> Any:
    """`staged`: the demo's world, with a past worth showing (an automatic rollback a few minutes ago) and its story
    (a bad deploy and a bad flag flip in the first minute: monotui/simulator/story.py)."""
    from monotui.simulator.world import SimConfig, World

    world = World(SimConfig(services=services, seed=seed, deploy_interval=deploy_interval,
                            bad_probability=bad_probability, auto_rollback=auto_rollback,
                            staged_auto_rollback=staged, instances=True))
    if staged and bad_probability > 0:
        from monotui.simulator import story

        story.tell(world, DEMO_PROTECTED)
    return world


DEMO_UNLEASH_TOKEN_ENV = "MONOTUI_DEMO_UNLEASH_TOKEN"  # `demo --unleash`: the real Unleash's admin token


def demo_settings(g: Globals, url: str, prometheus_url: str | None = None,
                  alertmanager_url: str | None = None, unleash_url: str | None = None) -> Settings:
    """The user's config (actor, audit log, theme…) if any, with the simulator as the only source of deploys and
    flags (its Unleash Admin API, or a real Unleash's: `unleash_url`)."""
    from monotui.config import build_settings, read_toml, resolve_config_path

    path, named = resolve_config_path(g.config)
    data = read_toml(path) if named or path.exists() else {}
    flags: dict[str, Any] = {"name": "flags", "kind": "unleash", "url": unleash_url or url, "poll_interval": 2.0}
    if unleash_url:
        flags["token_env"] = DEMO_UNLEASH_TOKEN_ENV
    sources: list[dict[str, Any]] = [{"name": "demo", "kind": "http", "url": url, "poll_interval": 1.0}, flags]
    if prometheus_url:
        sources.append({"name": "prometheus", "kind": "prometheus", "url": prometheus_url, "poll_interval": 2.0,
                        "window": "30s"})
    if alertmanager_url:
        sources.append({"name": "alertmanager", "kind": "alertmanager", "url": alertmanager_url,
                        "poll_interval": 2.0})
    data = {**data, "sources": sources}
    data.setdefault("protected_services", DEMO_PROTECTED)
    data.setdefault("links", DEMO_LINKS)  # `u` shows how links out work (the URLs lead nowhere real)
    overrides = {"read_only": True} if g.read_only else {}
    return build_settings(data, path if (named or path.exists()) else None, **overrides)


def run_serve(g: Globals, host: str, port: int, *, allow_remote: bool = False, token_file: str | None = None,
              max_sessions: int = 4, follow: bool = False) -> int:
    from monotui.extras import missing

    if problem := missing("serve", "`monotui serve`"):
        return _fail(problem)
    # the same checks as the TUI, before any browser connects: a bad config fails here, once, with exit 2
    from monotui.config import resolve_config_path
    from monotui.serve import ServeError, is_loopback, new_token, serve, session_url, token_from_file

    path, named = resolve_config_path(g.config)
    if not named and not path.exists():
        return _fail(f"no configuration: {path} does not exist (pass --config PATH).")
    if not _settings(g).sources:
        return _fail(f"config error in {path}: sources: no source configured")
    if not is_loopback(host):
        if not allow_remote:
            return _fail(f"--host {host} is not a loopback address: anyone who reaches it and has the token sees "
                         "the control room, over plain HTTP. Prefer an SSH port-forward to 127.0.0.1; pass "
                         "--allow-remote to listen there anyway.")
        print(f"monotui serve: WARNING: listening on {host}, beyond this machine, over plain HTTP (the token "
              "travels in clear)", file=sys.stderr)
    try:
        token = token_from_file(Path(token_file).expanduser()) if token_file else new_token()
    except ServeError as e:
        return _fail(str(e))
    print(f"monotui serve: browser sessions are read-only, {max_sessions} at most; open "
          f"{session_url(host, port, token)}", file=sys.stderr, flush=True)
    if follow:
        from monotui.follow import socket_path

        print(f"monotui serve: tabs follow the operator's view on {socket_path()} (press w in monotui to share)",
              file=sys.stderr, flush=True)
    serve(str(path) if named else None, host, port, token, max_sessions, follow=follow)
    return EXIT_OK


def _sim_args(port: int, services: int, seed: int, deploy_interval: float, bad_probability: float,
              auto_rollback: bool) -> list[str]:
    """`monotui simulate` options for the demo's simulator."""
    args = ["--port", str(port), "--services", str(services), "--seed", str(seed), "--deploy-interval",
            repr(deploy_interval), "--bad-probability", repr(bad_probability)]
    return [*args, "--auto-rollback"] if auto_rollback else args


def _import_tui() -> None:
    """Load the app's modules (most of the start-up time): the demo does it while its simulator starts."""
    import monotui.engine.core
    import monotui.ui.app  # noqa: F401


def print_demo_config(g: Globals, port: int, started_servers: bool) -> int:
    """`demo --print-config`: the demo's config for a fixed port, without starting anything."""
    if started_servers:
        return _fail("--print-config: with --prometheus or --unleash the ports are chosen at start; use "
                     "--write-config PATH")
    if not port:
        return _fail("--print-config needs the port the demo will listen on: --port 8700, say")
    from monotui.cli_demo import config_text

    url = f"http://127.0.0.1:{port}"
    click.echo(config_text(demo_settings(g, url), url), nl=False)
    return EXIT_OK


def run_demo(g: Globals, *, prometheus: bool = False, unleash: bool = False, port: int = 0,
             write_config: Path | None = None, **sim: Any) -> int:
    from monotui.simulator.process import SimulatorFailed, SimulatorProcess

    sim_args = _sim_args(port, **sim)
    prometheus_url = alertmanager_url = unleash_url = None
    from monotui.stop_signals import StopSignals

    with ExitStack() as stack:
        # the children, stopped last-started first when the demo ends — or by the stop signals' watchdog when the
        # demo's own stop is stuck (a terminal whose reader has gone blocks the app's writes for good)
        children = ExitStack()
        stack.enter_context(StopSignals(emergency=children.close))  # a kill while the children start unwinds too
        stack.enter_context(children)
        if unleash:
            demo_settings(g, "http://127.0.0.1:1")  # a config error is reported before Unleash starts
            from monotui.simulator import unleash_server

            problem = unleash_server.missing()
            if problem:
                return _fail(f"--unleash: a real Unleash cannot start here: {problem}")
            unleash_url = _start_unleash(children)
            sim_args += ["--unleash-mirror", unleash_url]  # the simulator keeps Unleash in step with its flags
        # its own process, started first: it starts while this one loads the app, and never shares its GIL
        simulator = children.enter_context(SimulatorProcess(sim_args))
        demo_settings(g, "http://127.0.0.1:1")  # a config error is reported before the TUI starts
        if prometheus:
            from monotui.simulator import prometheus as prom

            if prom.find_prometheus() is None:
                return _fail(f"--prometheus: prometheus is not installed: {prom.INSTALL_HINT}")
        _import_tui()
        try:
            url = simulator.wait_ready()
        except SimulatorFailed as e:
            return _fail(str(e), EXIT_FAILED)
        if prometheus:
            from urllib.parse import urlparse

            address = None
            if prom.find_alertmanager() is not None:
                print("starting Alertmanager…", file=sys.stderr)
                alertmanager = children.enter_context(prom.AlertmanagerServer())
                alertmanager_url, address = alertmanager.url, alertmanager.address
            else:
                print("Alertmanager not found (apt-get install prometheus-alertmanager): no alerts", file=sys.stderr)
            print("starting Prometheus…", file=sys.stderr)
            prometheus_url = children.enter_context(prom.PrometheusServer(
                [urlparse(url).netloc], alertmanager=address, rules=prom.DEMO_RULES)).url
        settings = demo_settings(g, url, prometheus_url, alertmanager_url, unleash_url)
        # where the demo's production listens, for `monotui status` or curl from another terminal (also after quit)
        from urllib.parse import urlsplit

        where = f"monotui demo: the simulated production listens on {url}"
        if write_config is not None:
            from monotui.cli_demo import config_text
            from monotui.cli_demo import write_config as write

            try:
                write(write_config, config_text(settings, url))
            except OSError as e:
                return _fail(f"--write-config: cannot write {write_config}: {e.strerror or e}")
            where += f"; its config is in {write_config} (--config {write_config})"
        elif not (prometheus or unleash):  # their ports are chosen at start: only --write-config says them
            where += f" (`monotui demo --port {urlsplit(url).port} --print-config` prints the config it uses)"
        print(where, file=sys.stderr)
        stack.callback(print, where, file=sys.stderr)
        return _open_tui(settings)


def _start_unleash(stack: ExitStack) -> str:
    """A real Unleash, for the simulator to seed with the world's flags and keep in step (unleash_mirror.py)."""
    from monotui.simulator.unleash_server import RealUnleash

    print("starting PostgreSQL and Unleash (10-20 s)…", file=sys.stderr)
    real = stack.enter_context(RealUnleash())
    # read by the flag source and by the simulator's mirror (inherited), never written to a file nor an argument
    os.environ[DEMO_UNLEASH_TOKEN_ENV] = real.admin_token
    print(f"monotui demo: Unleash listens on {real.url}", file=sys.stderr)
    return str(real.url)


def _stdin_closed() -> None:
    sys.stdin.buffer.read()  # returns at end of file


def run_simulate(port: int, token_env: str | None, for_parent: bool = False, unleash_mirror: str | None = None,
                 **sim: Any) -> int:
    from monotui.simulator.server import serve_forever

    token = None
    if token_env:
        token = os.environ.get(token_env)
        if not token:
            return _fail(f"--token-env: environment variable {token_env} is empty or unset")

    def serving(bound: int) -> None:
        print(f"monotui simulator: http://127.0.0.1:{bound}  ({sim['services']} services, seed {sim['seed']})",
              file=sys.stderr)
        if for_parent:  # the demo waits for this line: the simulator serves now
            print(f"http://127.0.0.1:{bound}", flush=True)

    world = _world(**sim, staged=for_parent)  # the demo's simulator: with its staged past
    with ExitStack() as stack:
        if unleash_mirror:
            from monotui.simulator.unleash_mirror import UnleashMirror

            admin_token = os.environ.get(DEMO_UNLEASH_TOKEN_ENV)
            if not admin_token:
                return _fail(f"--unleash-mirror: environment variable {DEMO_UNLEASH_TOKEN_ENV} is empty or unset")
            stack.enter_context(UnleashMirror(world.flags, unleash_mirror, admin_token))
        # for the demo: stop when the demo closes stdin — however it ended, even killed outright
        try:
            serve_forever(world, port, token=token, on_serving=serving,
                          stop_when=_stdin_closed if for_parent else None)
        except OSError as e:
            return _fail(f"cannot listen on 127.0.0.1:{port}: {e.strerror or e}", EXIT_FAILED)
    return EXIT_OK


def run_kube_standin(port: int, fixtures: str | None, synthetic: int, namespaces: int,
                     kubeconfig_out: str) -> int:
    import time

    from monotui.extras import missing

    if problem := missing("k8s", "`monotui kube-standin`"):
        return _fail(problem)
    from monotui.simulator import kube_api
    from monotui.simulator.kube_pods import with_pods

    objects = []
    if fixtures:
        folder = Path(fixtures)
        if not folder.is_dir():
            return _fail(f"--fixtures: {folder} is not a folder")
        objects += with_pods(kube_api.load_fixtures(folder))  # each ReplicaSet's pods
    if synthetic:
        objects += kube_api.synthetic(synthetic, namespaces)
    if not objects:
        return _fail("nothing to serve: pass --fixtures DIR and/or --synthetic N")
    with kube_api.KubeStandin(objects, port=port) as kube:
        kubeconfig = kube.kubeconfig(Path(kubeconfig_out).resolve())
        rollouts = sum(1 for o in objects if o.get("kind") == "Rollout")
        print(f"Kubernetes API stand-in on {kube.url}: {rollouts} rollouts. Kubeconfig: {kubeconfig}\n"
              "Try it with a config like:\n\n"
              f'  [[sources]]\n  name = "standin"\n  kind = "argo-rollouts"\n  kubeconfig = "{kubeconfig}"\n\n'
              "Ctrl+C stops it.", file=sys.stderr)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return EXIT_OK


# ---- status -------------------------------------------------------------------------------------------------


async def run_status(g: Globals, json_output: bool = False, source: str | None = None) -> int:
    from monotui.engine.core import Engine

    settings = _settings(g)
    settings, problem = sources_problem(settings, source)
    if problem:
        return _fail(problem)
    engine = Engine(settings)
    try:
        updates = await engine.refresh_once()
    finally:
        await engine.aclose()
    now = datetime.now(UTC)
    if json_output:
        from monotui.render.inert import inert_json

        print(inert_json(status_json(engine, now)))
    else:
        print_status(engine, now)
    return EXIT_OK if all(u.ok for u in updates) else EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
