"""The Kubernetes API stand-in serves each kind in one API version, as kube-apiserver serves a list: the plugin's
fixtures hold `extensions/v1beta1` ReplicaSets, and an `apps/v1` list with those items inside made the real
`kubectl get replicasets -A -o json` exit 1."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from monotui.simulator.kube_api import KubeStandin, load_fixtures

from .argo_fixtures import fixtures_dir


@pytest.fixture
def kube() -> Iterator[KubeStandin]:
    with KubeStandin(load_fixtures(fixtures_dir())) as server:
        yield server


def kubectl(kube: KubeStandin, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert shutil.which("kubectl"), "kubectl is missing: .ci/run installs it (apt-get install kubernetes-client)"
    env = {"KUBECONFIG": str(kube.kubeconfig(tmp_path / "kubeconfig")), "HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin:/usr/local/bin"}
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, env=env, timeout=60)


def test_kubectl_lists_every_replicaset_as_json(kube: KubeStandin, tmp_path: Path) -> None:
    listed = kubectl(kube, tmp_path, "get", "replicasets", "-A", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    items = json.loads(listed.stdout)["items"]
    fixtures = [o for o in load_fixtures(fixtures_dir()) if o["kind"] == "ReplicaSet"]
    assert len(items) == len(fixtures) and {i["apiVersion"] for i in items} == {"apps/v1"}
    assert any(o["apiVersion"] == "extensions/v1beta1" for o in fixtures), "the fixtures still mix versions"


def test_every_list_get_and_watch_event_is_in_the_lists_version(kube: KubeStandin) -> None:
    with httpx.Client(base_url=kube.url, timeout=10) as client:
        for path in ("/apis/apps/v1/replicasets", "/apis/argoproj.io/v1alpha1/rollouts", "/api/v1/pods",
                     "/apis/argoproj.io/v1alpha1/analysisruns", "/apis/argoproj.io/v1alpha1/experiments"):
            listed = client.get(path).json()
            assert {i["apiVersion"] for i in listed["items"]} == {listed["apiVersion"]}, path
        one = client.get("/apis/apps/v1/namespaces/jesse-test/replicasets/bluegreen-demo-74b948fccb").json()
        assert one["apiVersion"] == "apps/v1"
        with client.stream("GET", "/apis/apps/v1/replicasets",
                           params={"watch": "1", "resourceVersion": "0", "timeoutSeconds": "1"}) as stream:
            events = [json.loads(line) for line in stream.iter_lines() if line.strip()]
    assert events and {e["object"]["apiVersion"] for e in events} == {"apps/v1"}
