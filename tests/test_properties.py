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

from monotui.config import ArgoRolloutsSourceConfig, ConfigError, HttpSourceConfig, load_settings
from monotui.models import ActionKind
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
             "selector", "matchLabels", "rollouts-pod-template-hash", "rollout.argoproj.io/revision"]
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
