"""The logs of a rollout's canary (or stable) pods, as `kubectl logs -l rollouts-pod-template-hash=H --prefix
--all-containers -f --timestamps` reads them: the pods of that ReplicaSet listed by label, then one log stream per
pod and container, merged as lines arrive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

from monotui.cancelling import cancel_all
from monotui.models import LogLine
from monotui.providers.argo_rollouts import pods as plugin_pods
from monotui.providers.argo_rollouts import status as plugin
from monotui.providers.base import ProviderError
from monotui.providers.kubernetes import PODS, KubeClient, stream_lines
from monotui.providers.log_stream import LogRequest

MAX_STREAMS = 10  # at most this many pod × container streams at once (kubectl's --max-log-requests is 5)
_DONE = object()


def replica_set_hash(ro: Mapping[str, Any], request: LogRequest) -> str:
    st = plugin.status(ro)
    return plugin._str(st.get("currentPodHash") if request.which == "canary" else st.get("stableRS"))


def params_for(request: LogRequest, container: str) -> dict[str, str]:
    params = {"container": container, "timestamps": "true"}
    if request.follow:
        params["follow"] = "true"
    if request.tail is not None:
        params["tailLines"] = str(max(0, request.tail))
    if request.since_s is not None:
        params["sinceSeconds"] = str(max(1, int(request.since_s)))
    return params


def parse(raw: bytes, pod: str, container: str, revision: int | None) -> LogLine:
    """One line of a log read with `timestamps=true`: `<RFC 3339 time> <text>`."""
    text = raw.decode("utf-8", "replace").rstrip("\r")
    stamp, sep, rest = text.partition(" ")
    when: datetime | None = None
    if sep:
        try:
            when = datetime.fromisoformat(stamp[:26].rstrip("Z") + "+00:00" if stamp.endswith("Z") else stamp)
        except ValueError:
            when = None
    return LogLine(time=when, instance=pod, container=container, revision=revision,
                   message=rest if when is not None else text)


async def stream(kube: KubeClient, ro: Mapping[str, Any], revision_of: Mapping[str, int | None],
                 request: LogRequest) -> AsyncIterator[LogLine]:
    """Lines of the chosen ReplicaSet's pods, merged; raises ProviderError (no such ReplicaSet, RBAC, transport)."""
    namespace = plugin._str(plugin.metadata(ro).get("namespace"))
    name = plugin._str(plugin.metadata(ro).get("name"))
    pod_hash = replica_set_hash(ro, request)
    if not pod_hash:
        raise ProviderError("not_found", f"{name} has no {request.which} ReplicaSet")
    pods, _ = await kube.list(PODS, namespace, f"{plugin_pods.HASH_LABEL}={pod_hash}")
    targets: list[tuple[str, str]] = []
    for pod in sorted(pods, key=lambda p: plugin._str(plugin.metadata(p).get("name"))):
        names = [plugin._str(plugin._map(c).get("name")) for c in plugin._list(plugin.spec(pod).get("containers"))]
        for container in names:
            if request.container is None or container == request.container:
                targets.append((plugin._str(plugin.metadata(pod).get("name")), container))
    if not targets:
        what = f"container {request.container} in " if request.container else ""
        raise ProviderError("not_found", f"no {what}{request.which} pod of {name} (pod template hash {pod_hash})")
    revision = revision_of.get(pod_hash)
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=10_000)

    async def one(pod: str, container: str) -> None:
        try:
            async for raw in stream_lines(kube, PODS, namespace, f"pods/{pod}/log", params_for(request, container),
                                          f"logs of {pod}/{container}", follow=request.follow):
                await queue.put(parse(raw, pod, container, revision))
        except ProviderError as e:
            await queue.put(e)
        except Exception as e:  # any other failure ends the stream as an error, never as if the log had ended
            await queue.put(ProviderError("lost", f"logs of {pod}/{container}: {type(e).__name__}"))
        finally:
            await queue.put(_DONE)

    tasks = [asyncio.create_task(one(pod, container)) for pod, container in targets[:MAX_STREAMS]]
    running = len(tasks)
    try:
        while running:
            item = await queue.get()
            if item is _DONE:
                running -= 1
            elif isinstance(item, ProviderError):
                raise item
            else:
                yield item
    finally:
        await cancel_all(tasks)
