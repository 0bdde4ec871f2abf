"""Data access: one module per backend kind, each described by one line of `registry.BACKENDS` (its config
model, provider, capabilities, refusal words, optional extra). Nothing here imports textual.

`build_provider` loads lazily: importing `providers.base` (as the engine's action planning does) does not load
the configuration and every backend's client; building a source imports only its own kind's module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from monotui.providers.base import PollResult, ProviderError, Source

if TYPE_CHECKING:
    from monotui.providers.factory import build_provider


def __getattr__(name: str) -> Any:
    if name != "build_provider":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from monotui.providers.factory import build_provider

    globals()[name] = build_provider
    return build_provider


__all__ = ["PollResult", "ProviderError", "Source", "build_provider"]
