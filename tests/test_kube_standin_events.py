"""The Kubernetes stand-in serves core/v1 Events as kube-apiserver does for what monotui and kubectl ask: create
(201, 409 for a name taken, 422 without a name), list and watch with field selectors, and the table
`kubectl get events` prints."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from monotui.simulator.kube_api import KubeStandin

EVENTS = "/api/v1/namespaces/shop/events"


def event(name: str | None, reason: str = "MonotuiPause", component: str = "monotui",
          kind: str = "Rollout") -> dict[str, object]:
    meta: dict[str, object] = {"namespace": "shop"}
    if name:
        meta["name"] = name
    return {"apiVersion": "v1", "kind": "Event", "metadata": meta, "reason": reason, "type": "Normal",
            "involvedObject": {"kind": kind, "name": "cart-api", "namespace": "shop"},
            "source": {"component": component}, "message": "paused by alice: investigating",
            "lastTimestamp": "2026-12-07T11:00:00Z"}


@pytest.fixture
def kube() -> Iterator[KubeStandin]:
    with KubeStandin() as server:
        yield server


def test_events_are_created_once_by_name_and_need_one(kube: KubeStandin) -> None:
    with httpx.Client(base_url=kube.url) as client:
        created = client.post(EVENTS, json=event("cart-api.1"))
        assert created.status_code == 201
        body = created.json()
        assert body["metadata"]["resourceVersion"] and body["metadata"]["uid"]
        assert body["metadata"]["creationTimestamp"].endswith("Z")
        again = client.post(EVENTS, json=event("cart-api.1"))
        assert again.status_code == 409 and again.json()["reason"] == "AlreadyExists"
        nameless = client.post(EVENTS, json=event(None))
        assert nameless.status_code == 422 and nameless.json()["kind"] == "Status"
        other = client.post("/api/v1/namespaces/other/events", json=event("cart-api.2"))
        assert other.status_code == 400, "the namespace in the body must be the one in the path"


def test_field_selectors_pick_events_in_lists_and_watches(kube: KubeStandin) -> None:
    with httpx.Client(base_url=kube.url) as client:
        for name, component, kind in (("a", "monotui", "Rollout"), ("b", "rollouts-controller", "Rollout"),
                                      ("c", "monotui", "Pod")):
            assert client.post(EVENTS, json=event(name, component=component, kind=kind)).status_code == 201
        selector = {"fieldSelector": "involvedObject.kind=Rollout,source=monotui"}
        listed = client.get("/api/v1/events", params=selector).json()
        assert [i["metadata"]["name"] for i in listed["items"]] == ["a"]
        watched = []
        with client.stream("GET", EVENTS, params={**selector, "watch": "1", "resourceVersion": "0",
                                                  "timeoutSeconds": "1"}) as stream:
            for line in stream.iter_lines():
                if line.strip():
                    watched.append(json.loads(line))
        assert [(e["type"], e["object"]["metadata"]["name"]) for e in watched
                if e["type"] != "BOOKMARK"] == [("ADDED", "a")]
        table = client.get(EVENTS, headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}).json()
        assert table["kind"] == "Table"
        assert [c["name"] for c in table["columnDefinitions"] if c["priority"] == 0] == [
            "Last Seen", "Type", "Reason", "Object", "Message"]
        assert table["rows"][0]["cells"][2:4] == ["MonotuiPause", "rollout/cart-api"]
