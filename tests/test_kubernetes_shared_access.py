"""Kubernetes access lives in one module, monotui/providers/kubernetes.py: the Argo Rollouts
source uses it, any other kind (pods, ReplicaSets, for Flagger or pod logs later) can list and watch through it,
and kr8s is imported only when a client first connects, so a base install can leave it out."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from monotui.providers import kubernetes
from monotui.providers.argo_rollouts import kube as argo_kube
from monotui.providers.base import ProviderError
from monotui.simulator.kube_api import KubeStandin, StandinOptions, load_fixtures

from .argo_fixtures import fixtures_dir

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def kube() -> Iterator[KubeStandin]:
    with KubeStandin(load_fixtures(fixtures_dir() / "canary"), options=StandinOptions(bookmark_interval=0.2)) as k:
        yield k


def client(kube: KubeStandin, tmp_path: Path) -> kubernetes.KubeClient:
    return kubernetes.KubeClient(kubeconfig=kube.kubeconfig(tmp_path / "kubeconfig"), context="standin",
                                 in_cluster=False, timeout=5)


def test_the_argo_source_uses_the_shared_client() -> None:
    assert argo_kube.KubeClient is kubernetes.KubeClient and argo_kube.REPLICA_SETS is kubernetes.REPLICA_SETS


async def test_pods_are_listed_and_watched_through_the_shared_client(kube: KubeStandin, tmp_path: Path) -> None:
    shared = client(kube, tmp_path)
    try:
        pods, version = await shared.list(kubernetes.PODS, "jesse-test")
        assert sorted(p["metadata"]["name"] for p in pods)[:1] == ["canary-demo-65fb5ffc84-9wf5r"]
        assert len(pods) == 6 and version
        kube.store.modify("Pod", "jesse-test", "canary-demo-65fb5ffc84-9wf5r",
                          lambda o: o["metadata"].setdefault("labels", {}).update(seen="yes"))
        async for event in shared.watch(kubernetes.PODS, "jesse-test", version, server_timeout=5):
            assert (event["type"], event["object"]["metadata"]["labels"]["seen"]) == ("MODIFIED", "yes")
            break
    finally:
        await shared.aclose()


def run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def test_kr8s_is_imported_only_when_a_client_connects(kube: KubeStandin, tmp_path: Path) -> None:
    kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig")
    code = f"""
import asyncio, json, sys
from monotui.config import ArgoRolloutsSourceConfig
from monotui.providers.argo_rollouts.provider import ArgoRolloutsProvider
loaded = ["kr8s" in sys.modules]
provider = ArgoRolloutsProvider(ArgoRolloutsSourceConfig(name="k", kind="argo-rollouts", context="standin",
                                                         kubeconfig={str(kubeconfig)!r}, timeout=5))
loaded.append("kr8s" in sys.modules)
async def main():
    result = await provider.poll()
    await provider.aclose()
    return len(result.rollouts)
rows = asyncio.run(main())
print(json.dumps([*loaded, "kr8s" in sys.modules, rows]))
"""
    assert json.loads(run(code)) == [False, False, True, 6]


def test_without_kr8s_a_kubernetes_source_says_so(tmp_path: Path) -> None:
    code = """
import asyncio, sys
sys.modules["kr8s"] = None  # not installed
from monotui.providers.kubernetes import KubeClient
from monotui.providers.base import ProviderError
async def main():
    try:
        await KubeClient(kubeconfig=None, context=None, in_cluster=False, timeout=5).api()
    except ProviderError as e:
        return f"{e.kind}: {e.message}"
print(asyncio.run(main()))
"""
    assert run(code) == "connection: Kubernetes sources need kr8s, which is not installed (pip install kr8s)"
    assert issubclass(kubernetes.MissingKubernetesSupport, ProviderError)
