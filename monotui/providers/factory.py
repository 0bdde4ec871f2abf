"""Builds the provider for a configured source kind. Each kind's module (and its client library) loads when a
source of that kind is built, not before."""

from __future__ import annotations

from monotui.config import SourceConfig
from monotui.providers.base import Source


def build_provider(config: SourceConfig) -> Source:
    if config.kind == "http":
        from monotui.providers.http_deploy import HttpDeployProvider

        return HttpDeployProvider(config)
    if config.kind == "argo-rollouts":
        from monotui.providers.argo_rollouts.provider import ArgoRolloutsProvider  # kr8s loads only when used

        return ArgoRolloutsProvider(config)
    if config.kind == "alertmanager":
        from monotui.providers.alertmanager import AlertmanagerProvider

        return AlertmanagerProvider(config)
    if config.kind == "prometheus":
        from monotui.providers.prometheus import PrometheusProvider

        return PrometheusProvider(config)
    if config.kind == "unleash":
        from monotui.providers.unleash import UnleashProvider

        return UnleashProvider(config)
    raise ValueError(f"unknown source kind {config.kind!r}")  # config validation makes this unreachable
