"""Data access: one module per backend kind. Nothing here imports textual."""

from monotui.providers.base import PollResult, ProviderError, Source
from monotui.providers.factory import build_provider

__all__ = ["PollResult", "ProviderError", "Source", "build_provider"]
