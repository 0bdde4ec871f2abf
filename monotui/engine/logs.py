"""Logs of a rollout's instances, for the TUI's log view and `monotui logs`: the source streams them (a provider
with the LogStreamer capability), every line comes out cleaned (server text: monotui.text.clean, never markup)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from monotui.models import LogLine, Rollout
from monotui.providers import ProviderError, Source
from monotui.providers.log_stream import LogRequest, LogStreamer, Which
from monotui.text import clean

__all__ = ["LINE_LIMIT", "LogLine", "LogRequest", "ProviderError", "Which", "can_stream", "prefix", "stream"]

LINE_LIMIT = 4000  # characters of one line kept (the rest cut with an ellipsis)


def can_stream(providers: Mapping[str, Source], source: str) -> bool:
    return isinstance(providers.get(source), LogStreamer)


def prefix(line: LogLine) -> str:
    """`[pod/NAME/CONTAINER]` as `kubectl logs --prefix` writes it (the instance alone without a container)."""
    if line.container:
        return f"[pod/{line.instance}/{line.container}]"
    return f"[{line.instance}]" if line.instance else ""


async def stream(providers: Mapping[str, Source], source: str, rollout: Rollout,
                 request: LogRequest) -> AsyncIterator[LogLine]:
    """The lines, cleaned, until the source's streams end; raises ProviderError (a source without logs too)."""
    provider = providers.get(source)
    if not isinstance(provider, LogStreamer):
        raise ProviderError("not_found", f"source {clean(source, 40)} has no logs")
    names: dict[tuple[str, str], tuple[str, str]] = {}  # the few instance and container names, cleaned once
    async for line in provider.logs(rollout, request):
        name = names.get((line.instance, line.container))
        if name is None:
            if len(names) > 1000:
                names.clear()
            name = names[(line.instance, line.container)] = (clean(line.instance, 120), clean(line.container, 80))
        yield LogLine(time=line.time, instance=name[0], container=name[1], revision=line.revision,
                      message=clean(line.message, LINE_LIMIT))
