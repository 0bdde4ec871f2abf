"""`monotui logs SERVICE [--canary|--stable] [--since 10m] [--tail N] [--container C] [--follow]`: the log lines of a
rollout's canary (its current revision's instances) or of its stable revision, each prefixed with the instance (and
container) that wrote it as `kubectl logs --prefix` does. With --follow it keeps printing until Ctrl+C, which stops
it quietly (exit 130, no traceback)."""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from monotui.config import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
HELP = ("Print the log lines of a service's canary (or --stable revision), each with the instance that wrote it "
        "(--follow: keep printing until Ctrl+C).\n\nSERVICE is a service name, or a rollout id (e.g. prod/cart-api) "
        "when a name matches several rollouts.")


def duration(text: str) -> float:
    """`10m`, `30s`, `2h`, `1d` or plain seconds."""
    match = _DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise click.BadParameter(f"{text!r} is not a duration like 30s, 10m or 2h")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    return duration(value) if value is not None else None


def params() -> list[click.Parameter]:
    return [
        click.Argument(["service"]),
        click.Option(["--canary", "which"], flag_value="canary", default=True,
                     help="the canary's instances: the revision being rolled out (default)"),
        click.Option(["--stable", "which"], flag_value="stable", help="the stable revision's instances"),
        click.Option(["--since"], metavar="DURATION", callback=_duration,
                     help="only lines written in the last DURATION (30s, 10m, 2h)"),
        click.Option(["--tail"], type=click.IntRange(min=0), metavar="N", help="only the last N lines (of each pod "
                     "on Kubernetes)"),
        click.Option(["--container", "-c"], metavar="NAME", help="only this container (default: all)"),
        click.Option(["--follow", "-f"], is_flag=True, help="keep printing new lines until Ctrl+C"),
        click.Option(["--source"], metavar="NAME", help="the source the service is in, when several have it"),
    ]


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"monotui: {message}", file=sys.stderr)
    return code


async def run_logs(settings: Settings, service: str, which: str = "canary", since: float | None = None,
                   tail: int | None = None, container: str | None = None, follow: bool = False,
                   source: str | None = None, out: Any = None) -> int:
    from monotui.engine.core import Engine
    from monotui.engine.logs import LogRequest, prefix
    from monotui.providers import ProviderError
    from monotui.text import clean

    out = out or sys.stdout
    engine = Engine(settings)
    try:
        await engine.refresh_once([source] if source else None)
        found = engine.find(service, source)
        if not found:
            return _fail(f"no rollout of {clean(service, 80)}" + (f" in source {clean(source, 40)}" if source else ""))
        if len(found) > 1:
            ids = ", ".join(f"{clean(s, 40)}:{clean(r.id, 80)}" for s, r in found)
            return _fail(f"{clean(service, 80)} matches several rollouts ({ids}): name one by its id or --source",
                         EXIT_USAGE)
        name, rollout = found[0]
        if not engine.can_stream_logs(name):
            return _fail(f"source {clean(name, 40)} has no logs")
        request = LogRequest(which="stable" if which == "stable" else "canary", container=container, since_s=since,
                             tail=tail, follow=follow)
        try:
            async for line in engine.logs(name, rollout, request):
                head = prefix(line)
                out.write(f"{head} {line.message}\n" if head else f"{line.message}\n")
                if follow:
                    out.flush()
        except ProviderError as e:
            return _fail(clean(e.message, 400))
        except BrokenPipeError:  # `monotui logs … | head`: the reader is gone, nothing more to say
            return EXIT_OK
        return EXIT_OK
    finally:
        await engine.aclose()
