"""One item nested more than a thousand levels deep is that item's problem alone: the JSON decoders
give up near 1,000 levels, which used to make the whole answer, so the whole source, unreadable."""

from __future__ import annotations

import json
import time
from typing import Any

from monotui.config import AlertmanagerSourceConfig, HttpSourceConfig, PrometheusSourceConfig
from monotui.models import Phase
from monotui.providers.alertmanager import AlertmanagerProvider
from monotui.providers.http_deploy import HttpDeployProvider
from monotui.providers.items import prune_deep
from monotui.providers.prometheus import PrometheusProvider
from monotui.providers.unleash import UnleashProvider

from .flag_hostile import FlagServer, feature
from .hostile import HostileServer, json_answer
from .test_hostile import deploy_api, http_source, real_answers

DEPTH = 1500


def deep_json(depth: int = DEPTH) -> str:
    """A JSON value nested `depth` levels deep (objects and arrays in turn)."""
    return '{"x":[' * (depth // 2) + '"bottom"' + "]}" * (depth // 2)


def with_deep_item(body: bytes, key: str, index: int, field: str) -> bytes:
    """`body` (a JSON object listing items under `key`) with item `index` given a `field` nested DEPTH deep."""
    data = json.loads(body)
    data[key][index][field] = "@DEEP@"
    text = json.dumps(data).replace('"@DEEP@"', deep_json())
    return text.encode()


async def test_a_rollout_nested_too_deep_is_one_unreadable_row() -> None:
    answers = real_answers()
    listed = json.loads(answers["/v1/rollouts"])["rollouts"]
    assert len(listed) >= 3
    for field in ("steps", "labels_nobody_reads"):
        body = with_deep_item(answers["/v1/rollouts"], "rollouts", 1, field)
        with HostileServer(deploy_api(answers, rollouts=json_answer(body))) as server:
            provider = HttpDeployProvider(HttpSourceConfig(**http_source(server.url)))
            try:
                result = await provider.poll()
            finally:
                await provider.aclose()
        assert result.rollouts is not None and len(result.rollouts) == len(listed)
        by_id = {r.id: r for r in result.rollouts}
        bad = by_id[listed[1]["id"]]
        assert bad.phase is Phase.DEGRADED and "nested more than" in bad.message
        assert all(not r.errors for r in result.rollouts if r.id != listed[1]["id"])


async def test_a_flag_nested_too_deep_is_unreadable_and_the_others_stay() -> None:
    with FlagServer() as server:
        for name in ("checkout-v2", "search-boost", "cart-fast"):
            server.features[name] = feature(name)
        listing = {"features": list(server.features.values()), "total": 3}
        server.listing_body = with_deep_item(json.dumps(listing).encode(), "features", 1, "description")
        provider = UnleashProvider(server.config())
        try:
            await provider.poll()
            flags = {f.name: f for f in provider.flags}
            assert set(flags) == {"checkout-v2", "search-boost", "cart-fast"}
            assert "nested more than" in flags["search-boost"].unreadable
            assert not flags["checkout-v2"].unreadable and flags["checkout-v2"].strategies == ["rollout 25%"]
            # the flag's own answer nested too deep: that flag alone again
            server.listing_body = None
            own = json.loads(json.dumps(server.features["cart-fast"]))
            own["environments"][0]["strategies"][0]["parameters"]["x"] = "@DEEP@"
            text = json.dumps(own).replace('"@DEEP@"', deep_json()).encode()
            server.own_answer["cart-fast"] = lambda: json_answer(text)(None)  # type: ignore[arg-type]
            provider._strategies.pop(("default", "cart-fast"))  # read its own answer again
            await provider.poll()
            flags = {f.name: f for f in provider.flags}
            assert "nested more than" in flags["cart-fast"].unreadable
            assert not flags["search-boost"].unreadable and not flags["checkout-v2"].unreadable
        finally:
            await provider.aclose()


async def test_an_alert_nested_too_deep_is_left_out_and_the_others_stay() -> None:
    def alert(name: str) -> dict[str, Any]:
        return {"fingerprint": name, "labels": {"alertname": "HighErrorRate", "service": name, "severity": "page"},
                "annotations": {"summary": "errors"}, "startsAt": "2026-11-26T09:00:00Z",
                "endsAt": "2026-11-26T10:00:00Z", "updatedAt": "2026-11-26T09:00:00Z",
                "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}, "receivers": [],
                "generatorURL": ""}

    alerts = [alert("cart-api"), alert("search-api"), alert("pay-api")]
    alerts[1]["annotations"]["runbook"] = "@DEEP@"
    body = json.dumps(alerts).replace('"@DEEP@"', deep_json()).encode()
    with HostileServer({"/api/v2/alerts": json_answer(body)}) as server:
        provider = AlertmanagerProvider(AlertmanagerSourceConfig(name="am", kind="alertmanager", url=server.url))
        try:
            result = await provider.poll()
        finally:
            await provider.aclose()
    assert result.alerts is not None and {a.service for a in result.alerts} == {"cart-api", "pay-api"}


async def test_a_prometheus_series_nested_too_deep_is_left_out_and_the_others_stay() -> None:
    def vector(extra: bool = False) -> bytes:
        result: list[dict[str, Any]] = [{"metric": {"service": s}, "value": [time.time(), "0.01"]}
                                        for s in ("cart-api", "search-api", "pay-api")]
        if extra:
            result[1]["metric"] = "@DEEP@"
        text = json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}})
        return text.replace('"@DEEP@"', deep_json()).encode()

    body = vector(True)
    with HostileServer({"/api/v1/query": json_answer(body)}) as server:
        provider = PrometheusProvider(PrometheusSourceConfig(name="prom", kind="prometheus", url=server.url))
        try:
            result = await provider.poll()
        finally:
            await provider.aclose()
    assert {h.service for h in result.health} == {"cart-api", "pay-api"}


def test_pruning_keeps_strings_and_shallow_values_as_they_are() -> None:
    shallow = b'{"a": "[[[{{{", "b": [1, {"c": "]]}}"}]}'
    assert prune_deep(shallow, 3) == shallow
    # the object is level 1: the third array down is level 4, replaced
    assert json.loads(prune_deep(b'{"a": [[[[1]]]], "b": 2}', 3)) == {"a": [["\x00monotui: nested too deep"]],
                                                                        "b": 2}
