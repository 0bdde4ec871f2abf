"""Property tests (hypothesis): whatever a backend or a config file holds, monotui answers with its own typed
error, never with a crash."""

from __future__ import annotations

import asyncio
import contextlib
import json
import string
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monotui.action_kinds import ActionKind
from monotui.config import ArgoRolloutsSourceConfig, ConfigError, HttpSourceConfig, load_settings
from monotui.providers.argo_rollouts import patches, status
from monotui.providers.argo_rollouts.provider import ArgoRolloutsProvider
from monotui.providers.base import PollResult, ProviderError
from monotui.providers.http_deploy import HttpDeployProvider

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=25,
)

ROLLOUT_KEYS = ["rollouts", "services", "events", "cursor", "id", "service", "environment", "strategy", "phase",
                "revision", "version", "started_at", "steps", "current_step", "set_weight", "actual_weight",
                "error_ratio", "p99_ms", "rps", "series", "time", "kind", "rollout_id"]
shaped = st.recursive(
    json_values,
    lambda children: st.dictionaries(st.sampled_from(ROLLOUT_KEYS), children, max_size=8) | st.lists(children,
                                                                                                      max_size=3),
    max_leaves=40,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=shaped | json_values, raw=st.booleans(), status_code=st.sampled_from([200, 200, 200, 304, 400, 500]))
def test_deploy_api_client_raises_only_its_typed_error(body: Any, raw: bool, status_code: int) -> None:
    content = json.dumps(body).encode()[: 200 if raw else None]  # raw: a truncated body

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status_code, content=content, headers={"ETag": '"x"'})

    async def poll() -> None:
        provider = HttpDeployProvider(HttpSourceConfig(name="p", kind="http", url="http://backend.invalid"),
                                      transport=httpx.MockTransport(answer))
        try:
            result = await provider.poll()
            assert isinstance(result, PollResult)
        except ProviderError:
            pass
        finally:
            await provider.aclose()

    asyncio.run(poll())


ARGO_KEYS = ["metadata", "spec", "status", "strategy", "canary", "blueGreen", "steps", "setWeight", "pause",
             "duration", "currentStepIndex", "stableRS", "currentPodHash", "phase", "message", "conditions", "type",
             "reason", "pauseConditions", "controllerPause", "observedGeneration", "generation", "replicas",
             "updatedReplicas", "availableReplicas", "trafficRouting", "weights", "weight", "abort", "paused",
             "annotations", "labels", "uid", "ownerReferences", "name", "namespace", "template", "containers",
             "image", "activeSelector", "previewSelector", "restartAt", "metricResults", "measurements",
             "selector", "matchLabels", "rollouts-pod-template-hash", "rollout.argoproj.io/revision",
             "maxTrafficWeight"]
argo_shaped = st.recursive(
    json_values,
    lambda children: st.dictionaries(st.sampled_from(ARGO_KEYS), children, max_size=6) | st.lists(children,
                                                                                                   max_size=3),
    max_leaves=60,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rollout=st.dictionaries(st.sampled_from(ARGO_KEYS), argo_shaped, max_size=5),
       replica_sets=st.lists(st.dictionaries(st.sampled_from(ARGO_KEYS), argo_shaped, max_size=4), max_size=3))
def test_argo_status_never_raises_on_rollout_shaped_objects(rollout: dict[str, Any],
                                                             replica_sets: list[dict[str, Any]]) -> None:
    status.rollout_phase(rollout)
    status.step_text(rollout)
    status.set_weight(rollout)
    infos = status.replica_set_info(rollout, replica_sets)
    status.actual_weight(rollout, infos)
    status.images(infos, status.experiment_replica_sets(rollout, replica_sets, replica_sets))
    status.analysis_runs(rollout, replica_sets)
    for kind in ActionKind:
        with contextlib.suppress(patches.CannotAct):
            patches.patches_for(kind, rollout, replica_sets)
    provider = ArgoRolloutsProvider(ArgoRolloutsSourceConfig(name="k", kind="argo-rollouts"))
    meta = rollout.get("metadata")
    if isinstance(meta, dict) or meta is None:
        provider.cache.put("Rollout", rollout)
        for rs in replica_sets:
            provider.cache.put("ReplicaSet", rs)
        assert provider.row(rollout)  # a rollout, or a row saying which field cannot be read: never an exception


KNOWN = ["read_only", "protected_services", "actor", "audit_log", "theme", "events_limit", "thresholds",
         "sources", "name", "kind", "url", "poll_interval", "timeout", "token_env", "token", "verify_tls",
         "namespaces", "context", "error_ratio", "p99_ms", "colour"]
toml_scalars = (st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
                | st.text(string.printable, max_size=15) | st.sampled_from(["http", "argo-rollouts", "ftp",
                                                                             "http://127.0.0.1:1"]))


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


@st.composite
def config_files(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.text(max_size=200))  # anything at all, mostly not TOML
    lines = [f"{draw(st.sampled_from(KNOWN))} = {toml_value(draw(toml_scalars | st.lists(toml_scalars, max_size=3)))}"
             for _ in range(draw(st.integers(0, 4)))]
    for _ in range(draw(st.integers(0, 2))):
        lines.append("[[sources]]")
        lines += [f"{key} = {toml_value(draw(toml_scalars))}"
                  for key in draw(st.lists(st.sampled_from(KNOWN), max_size=5, unique=True))]
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=config_files())
def test_any_config_file_loads_or_names_file_and_problem(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    try:
        load_settings(path)
    except ConfigError as e:
        message = str(e)
        assert message.startswith(f"config error in {path}: ")
        assert "\n" not in message, "one line"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(st.fixed_dictionaries({"type": st.sampled_from(["ADDED", "MODIFIED", "DELETED", "BOOKMARK",
                                                                       "RELISTED", "x"]),
                                              "object": st.dictionaries(st.sampled_from(ARGO_KEYS), argo_shaped,
                                                                        max_size=4) | json_values}),
                       max_size=6),
       kind=st.sampled_from(["Rollout", "ReplicaSet", "AnalysisRun", "Experiment"]))
def test_argo_watch_events_of_any_shape_never_raise(events: list[dict[str, Any]], kind: str) -> None:
    from monotui.providers.argo_rollouts.kube import Resource

    provider = ArgoRolloutsProvider(ArgoRolloutsSourceConfig(name="k", kind="argo-rollouts"))
    resource = Resource("x/v1", kind.lower() + "s", kind)
    changed: set[tuple[str, str]] = set()
    removed: set[tuple[str, str]] = set()
    for event in events:
        provider._apply(resource, event, changed, removed)
    for key in changed:
        if key in provider.cache.objects["Rollout"]:
            provider.row(provider.cache.objects["Rollout"][key])


# ---- every reader, arbitrary JSON: ------------------------------------------------------------------------------

odd_leaves = st.sampled_from(["²", "--3", "5" * 5000, "-5", "+7", "٣", "2026-11-26T09:00:00", "2026-11-26T09:00:00Z",
                              "NaN", "Infinity", "1e309", ""])
any_json = st.recursive(json_values | odd_leaves | st.integers(), lambda children: st.lists(children, max_size=4)
                        | st.dictionaries(st.text(max_size=10), children, max_size=4), max_leaves=25)


def _items(keys: list[str]) -> st.SearchStrategy[Any]:
    leaf = any_json | odd_leaves
    return st.lists(st.dictionaries(st.sampled_from(keys), leaf, max_size=len(keys)) | any_json, max_size=4)


ROLLOUT_FIELDS = ["id", "service", "environment", "strategy", "phase", "revision", "version", "started_at", "steps",
                  "current_step", "set_weight", "actual_weight", "stable", "rollback_to", "analysis", "errors"]
deploy_bodies = st.one_of(
    st.fixed_dictionaries({"rollouts": _items(ROLLOUT_FIELDS)}),
    st.fixed_dictionaries({"services": _items(["service", "error_ratio", "p99_ms", "rps", "series"])}),
    st.fixed_dictionaries({"events": _items(["id", "time", "kind", "service", "rollout_id", "revision"]),
                           "cursor": any_json}),
    any_json,
)


class _Served:
    """One real loopback server per test whose answer each example sets."""

    def __init__(self) -> None:
        from starlette.responses import Response

        from .hostile import HostileServer

        self.body = b"{}"
        self.bodies: dict[str, bytes] = {}  # per path, else `body`
        self.status = 200
        answer = lambda request: Response(self.bodies.get(request.url.path, self.body),  # noqa: E731
                                          status_code=self.status, media_type="application/json")
        self.server = HostileServer({p: answer for p in (
            "/v1/rollouts", "/v1/health", "/v1/events", "/api/v1/query", "/api/v1/query_range", "/api/v2/alerts")})

    def __enter__(self) -> _Served:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


def _only_value_or_typed_error(call: Any) -> None:
    async def go() -> None:
        with contextlib.suppress(ProviderError):
            assert await call() is not None

    asyncio.run(go())


def test_deploy_api_readers_on_arbitrary_json() -> None:
    with _Served() as served:
        @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(rollouts=deploy_bodies, health=deploy_bodies, events=deploy_bodies)
        def check(rollouts: Any, health: Any, events: Any) -> None:
            served.bodies = {"/v1/rollouts": json.dumps(rollouts).encode(), "/v1/health": json.dumps(health).encode(),
                             "/v1/events": json.dumps(events).encode()}

            async def poll() -> PollResult:
                provider = HttpDeployProvider(HttpSourceConfig(name="p", kind="http", url=served.server.url))
                try:
                    return await provider.poll()
                finally:
                    await provider.aclose()

            _only_value_or_typed_error(poll)

        check()


SAMPLE = st.fixed_dictionaries({"metric": st.dictionaries(st.sampled_from(["service", "x"]), any_json, max_size=2)
                                | any_json, "value": st.lists(any_json, max_size=3) | any_json,
                                "values": st.lists(st.lists(any_json, max_size=3), max_size=3) | any_json})
prometheus_bodies = st.fixed_dictionaries({
    "status": st.sampled_from(["success", "error"]) | any_json,
    "data": st.fixed_dictionaries({"resultType": st.sampled_from(["vector", "matrix"]) | any_json,
                                   "result": st.lists(SAMPLE, max_size=3) | any_json}) | any_json,
}) | any_json


def test_prometheus_reader_on_arbitrary_json() -> None:
    from monotui.config import PrometheusSourceConfig
    from monotui.providers.prometheus import PrometheusProvider

    with _Served() as served:
        @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(body=prometheus_bodies, status_code=st.sampled_from([200, 200, 400, 503]))
        def check(body: Any, status_code: int) -> None:
            served.body, served.status = json.dumps(body).encode(), status_code

            async def both() -> object:
                provider = PrometheusProvider(PrometheusSourceConfig(name="p", kind="prometheus",
                                                                     url=served.server.url))
                try:
                    with contextlib.suppress(ProviderError):
                        await provider.history("svc")
                    return await provider.poll()
                finally:
                    await provider.aclose()

            _only_value_or_typed_error(both)

        check()


ALERT = st.fixed_dictionaries({"fingerprint": any_json, "labels": st.dictionaries(
    st.sampled_from(["service", "alertname", "severity"]), any_json, max_size=3) | any_json,
    "annotations": any_json, "startsAt": odd_leaves | any_json, "status": any_json})


def test_alertmanager_reader_on_arbitrary_json() -> None:
    from monotui.config import AlertmanagerSourceConfig
    from monotui.providers.alertmanager import AlertmanagerProvider

    with _Served() as served:
        @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(body=st.lists(ALERT, max_size=4) | any_json)
        def check(body: Any) -> None:
            served.body, served.status = json.dumps(body).encode(), 200

            async def poll() -> PollResult:
                provider = AlertmanagerProvider(AlertmanagerSourceConfig(name="a", kind="alertmanager",
                                                                         url=served.server.url))
                try:
                    return await provider.poll()
                finally:
                    await provider.aclose()

            _only_value_or_typed_error(poll)

        check()


KUBE_KEYS = [*ARGO_KEYS, "metricResults", "measurements", "value", "successful", "failed", "inconclusive",
             "error", "phase", "kind", "Experiment"]
kube_objects = st.dictionaries(st.sampled_from(KUBE_KEYS), st.recursive(
    any_json | odd_leaves, lambda c: st.dictionaries(st.sampled_from(KUBE_KEYS), c, max_size=5) | st.lists(
        c, max_size=3), max_leaves=50), max_size=5)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rollout=kube_objects, replica_sets=st.lists(kube_objects, max_size=3),
       runs=st.lists(kube_objects, max_size=3), experiments=st.lists(kube_objects, max_size=2))
def test_kubernetes_objects_of_any_shape_give_a_row(rollout: dict[str, Any], replica_sets: list[dict[str, Any]],
                                                    runs: list[dict[str, Any]],
                                                    experiments: list[dict[str, Any]]) -> None:
    provider = ArgoRolloutsProvider(ArgoRolloutsSourceConfig(name="k", kind="argo-rollouts"))
    for kind, objects in (("ReplicaSet", replica_sets), ("AnalysisRun", runs), ("Experiment", experiments)):
        for obj in objects:
            if isinstance(obj.get("metadata"), dict | None):
                provider.cache.put(kind, obj)
    if isinstance(rollout.get("metadata"), dict | None):
        provider.cache.put("Rollout", rollout)
        assert provider.row(rollout).id  # a rollout or a row saying what cannot be read: never an exception
