"""Data access: one module per backend kind. Nothing here imports textual."""

from monotui.providers.base import DeployProvider, PollResult, ProviderError
from monotui.providers.factory import build_provider

__all__ = ["DeployProvider", "PollResult", "ProviderError", "build_provider"]
