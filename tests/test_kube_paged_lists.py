"""Kubernetes lists in pages (`limit` + `continue`): the stand-in serves them as kube-apiserver does (checked with
the real `kubectl get rollouts -A --chunk-size=N`), and monotui's Kubernetes client reads every list in pages,
listing again from the first page when a continue token expired (410)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from monotui.providers import kubernetes, paging
from monotui.providers.argo_rollouts.kube import ROLLOUTS
from monotui.simulator.kube_api import KubeStandin, synthetic


@pytest.fixture
def kube() -> Iterator[KubeStandin]:
    with KubeStandin(synthetic(23, 4)) as server:
        yield server


def kubectl(kube: KubeStandin, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert shutil.which("kubectl"), "kubectl is missing: .ci/run installs it (apt-get install kubernetes-client)"
    env = {"KUBECONFIG": str(kube.kubeconfig(tmp_path / "kubeconfig")), "HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin:/usr/local/bin"}
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, env=env, timeout=60)


def rollout_lists(kube: KubeStandin) -> list[dict[str, list[str]]]:
    return [parse_qs(c.query) for c in kube.store.calls
            if c.method == "GET" and c.path.endswith("/rollouts")]


@pytest.mark.parametrize("chunk", [5, 23, 500])
def test_kubectl_reads_every_rollout_once_in_chunks(kube: KubeStandin, tmp_path: Path, chunk: int) -> None:
    listed = kubectl(kube, tmp_path, "get", "rollouts", "-A", f"--chunk-size={chunk}", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    names = [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in json.loads(listed.stdout)["items"]]
    assert len(names) == len(set(names)) == 23
    asked = rollout_lists(kube)
    assert len(asked) == -(-23 // chunk)
    assert all(q["limit"] == [str(chunk)] for q in asked)
    assert sum("continue" in q for q in asked) == len(asked) - 1


def test_an_expired_continue_token_is_410_expired(kube: KubeStandin, tmp_path: Path) -> None:
    import httpx

    base = f"{kube.url}/apis/argoproj.io/v1alpha1/rollouts"
    first = httpx.get(base, params={"limit": 5}).json()
    assert first["metadata"]["remainingItemCount"] == 18
    kube.pager.forget()
    answer = httpx.get(base, params={"limit": 5, "continue": first["metadata"]["continue"]})
    assert answer.status_code == 410 and answer.json()["reason"] == "Expired"


async def test_the_client_lists_in_pages_and_again_after_an_expired_token(
        kube: KubeStandin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paging, "FIRST_PAGE", 4)
    monkeypatch.setattr(paging, "PAGE_SIZE", 6)
    client = kubernetes.KubeClient(kubeconfig=kube.kubeconfig(tmp_path / "kubeconfig"), context="standin",
                                   in_cluster=False, timeout=5)
    try:
        items, version = await client.list(ROLLOUTS, None)
        assert len({(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items}) == len(items) == 23
        assert version == str(kube.store.rv)
        assert [q["limit"] for q in rollout_lists(kube)] == [["4"], ["6"], ["6"], ["6"], ["6"]]

        kube.store.calls.clear()
        original = kube.pager.page
        pages = {"n": 0}

        def expiring(*args: object, **kwargs: object) -> object:
            pages["n"] += 1
            if pages["n"] == 2:  # the listing's snapshot is gone before its second page
                kube.pager.forget()
            return original(*args, **kwargs)  # type: ignore[arg-type]

        kube.pager.page = expiring  # type: ignore[method-assign,assignment]
        items, _ = await client.list(ROLLOUTS, None)
        assert len(items) == 23
        assert len(rollout_lists(kube)) == 1 + 1 + 5  # a first page, the expired one, the listing again
    finally:
        await client.aclose()
