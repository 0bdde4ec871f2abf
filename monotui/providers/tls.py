"""Whether a source talks to its backend without verifying TLS (shown as TLS NOT VERIFIED next to it): the
`verify_tls = false` of an HTTP source, or `insecure-skip-tls-verify` in the kubeconfig an Argo Rollouts source
uses (read here without loading kr8s, so the engine can tell before the first connection)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from monotui.config import ArgoRolloutsSourceConfig, SourceConfig


def _kubeconfig_files(config: ArgoRolloutsSourceConfig) -> list[Path]:
    if config.kubeconfig:
        return [config.kubeconfig.expanduser()]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path("~/.kube/config").expanduser()]


def _named(items: Any, name: Any) -> dict[str, Any]:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("name") == name:
            return item
    return {}


def kubeconfig_skips_tls(config: ArgoRolloutsSourceConfig) -> bool:
    if config.in_cluster:
        return False  # the service account's CA is always used
    import yaml  # only Kubernetes sources read a kubeconfig: the first screen of the others never loads it

    docs = []
    for path in _kubeconfig_files(config):
        try:
            doc = yaml.safe_load(path.read_text())
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(doc, dict):
            docs.append(doc)
    if not docs:
        return False
    context_name = config.context or next((d.get("current-context") for d in docs if d.get("current-context")),
                                          None)
    context = next((c for d in docs if (c := _named(d.get("contexts"), context_name))), {})
    cluster_name = (context.get("context") or {}).get("cluster") if isinstance(context.get("context"), dict) else None
    cluster = next((c for d in docs if (c := _named(d.get("clusters"), cluster_name))), {})
    details = cluster.get("cluster")
    return isinstance(details, dict) and details.get("insecure-skip-tls-verify") is True


def tls_unverified(config: SourceConfig) -> bool:
    if isinstance(config, ArgoRolloutsSourceConfig):
        return kubeconfig_skips_tls(config)
    return getattr(config, "verify_tls", True) is False
