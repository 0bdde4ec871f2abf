"""Who owns an Argo Rollout: the `monotui.dev/team`, `monotui.dev/on-call`, `monotui.dev/runbook` and
`monotui.dev/dashboard` annotations (else labels) by default, other keys when the source names them. A fixture
rollout served by the Kubernetes API stand-in carries them; the real kubectl reads them back as monotui does."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monotui.config import build_settings
from monotui.engine.core import Engine
from monotui.models import Owner
from monotui.simulator.kube_api import KubeStandin, load_fixtures

from .argo_fixtures import fixtures_dir
from .conftest import ACTOR

ANNOTATIONS = {
    "monotui.dev/team": "payments-team",
    "monotui.dev/on-call": "payments-primary",
    "monotui.dev/runbook": "https://runbooks.example.com/canary-demo",
    "monotui.dev/dashboard": "https://grafana.example.com/d/canary-demo",
}


def owned_fixtures() -> list[dict[str, Any]]:
    """The canary fixtures; `canary-demo` annotated with its owner, `canary-demo-pingpong` labelled with the
    owner under a company's own keys (and a team annotation under the default key, which loses to the config's
    keys), `canary-demo-weights` with a team label under the default key and an on-call annotation."""
    objects = copy.deepcopy(load_fixtures(fixtures_dir() / "canary"))
    for obj in objects:
        if obj["kind"] != "Rollout":
            continue
        meta = obj["metadata"]
        if meta["name"] == "canary-demo":
            meta.setdefault("annotations", {}).update(ANNOTATIONS)
        elif meta["name"] == "canary-demo-pingpong":
            meta.setdefault("labels", {}).update({"example.com/squad": "checkout-squad"})
            meta.setdefault("annotations", {}).update({"example.com/pager": "checkout-rota"})
        elif meta["name"] == "canary-demo-weights":
            meta.setdefault("labels", {})["monotui.dev/team"] = "label-team"
            meta.setdefault("annotations", {})["monotui.dev/team"] = "annotation-team"
    return objects


@pytest.fixture
def kube() -> Iterator[KubeStandin]:
    with KubeStandin(owned_fixtures()) as server:
        yield server


def kubectl(kube: KubeStandin, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert shutil.which("kubectl"), "kubectl is missing: .ci/run installs it (apt-get install kubernetes-client)"
    env = {"KUBECONFIG": str(kube.kubeconfig(tmp_path / "kubeconfig")), "HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin:/usr/local/bin"}
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, env=env, timeout=60)


def engine(kube: KubeStandin, tmp_path: Path, **source: Any) -> Engine:
    return Engine(build_settings({
        "sources": [{"name": "k8s", "kind": "argo-rollouts", "kubeconfig": str(kube.kubeconfig(tmp_path / "kc")),
                     "timeout": 5.0, **source}],
        "actor": ACTOR, "audit_log": str(tmp_path / "audit.log")}))


def test_kubectl_reads_the_owner_annotations_the_stand_in_serves(kube: KubeStandin, tmp_path: Path) -> None:
    shown = kubectl(kube, tmp_path, "get", "rollouts.argoproj.io", "canary-demo", "-n", "jesse-test", "-o", "json")
    assert shown.returncode == 0, shown.stderr
    annotations = json.loads(shown.stdout)["metadata"]["annotations"]
    assert {k: annotations[k] for k in ANNOTATIONS} == ANNOTATIONS


async def test_the_default_annotations_name_the_owner(kube: KubeStandin, tmp_path: Path) -> None:
    async with engine(kube, tmp_path) as e:
        await e.refresh_once()
        assert e.owner("canary-demo") == Owner(team="payments-team", on_call="payments-primary",
                                               runbook=ANNOTATIONS["monotui.dev/runbook"],
                                               dashboard=ANNOTATIONS["monotui.dev/dashboard"])
        assert e.owner("canary-demo-weights") == Owner(team="annotation-team")  # the annotation wins over the label
        assert e.owner("canary-demo-workloadRef") is None  # says nothing
        [view] = [v for v in e.state.views() if v.rollout.service == "canary-demo"]
        assert view.owner is not None and view.owner.team == "payments-team"


async def test_the_source_chooses_its_own_keys(kube: KubeStandin, tmp_path: Path) -> None:
    keys = {"team": "example.com/squad", "on_call": "example.com/pager"}
    async with engine(kube, tmp_path, owner_keys=keys) as e:
        await e.refresh_once()
        assert e.owner("canary-demo-pingpong") == Owner(team="checkout-squad", on_call="checkout-rota")
        # keys not named keep their defaults: the runbook is still read from monotui.dev/runbook
        owner = e.owner("canary-demo")
        assert owner is not None and owner.team == "" and owner.runbook == ANNOTATIONS["monotui.dev/runbook"]


async def test_the_config_wins_over_the_annotations(kube: KubeStandin, tmp_path: Path) -> None:
    settings = build_settings({
        "sources": [{"name": "k8s", "kind": "argo-rollouts", "kubeconfig": str(kube.kubeconfig(tmp_path / "kc")),
                     "timeout": 5.0}],
        "actor": ACTOR, "audit_log": str(tmp_path / "audit.log"),
        "services": {"canary-demo": {"on_call": "alice"}}})
    async with Engine(settings) as e:
        await e.refresh_once()
        owner = e.owner("canary-demo")
        assert owner is not None and (owner.team, owner.on_call) == ("payments-team", "alice")
