"""Builds the provider for a configured source, from its kind's line in the backend registry. Each kind's module
(and its client library) loads when a source of that kind is built, not before; a client library that is not
installed is a MissingExtra naming the pip command (exit 2), never a traceback."""

from __future__ import annotations

from typing import cast

from monotui.config import SourceConfig
from monotui.providers.base import Source
from monotui.providers.registry import backend


def build_provider(config: SourceConfig) -> Source:
    return cast(Source, backend(config.kind).provider_class(config.name)(config))
