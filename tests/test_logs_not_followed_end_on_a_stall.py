"""`monotui logs SERVICE` without --follow prints what came and ends with an error when the server stalls midway (no
byte for the source's timeout), instead of waiting forever — the deploy API's logs endpoint, and an Argo Rollouts
pod's log from the Kubernetes API; a followed log still waits quietly for the next line."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.responses import StreamingResponse

from monotui.engine.logs import LogRequest, stream
from monotui.providers.argo_rollouts.provider import ArgoRolloutsProvider
from monotui.providers.base import ProviderError
from monotui.simulator.kube_api import KubeStandin, load_fixtures
from monotui.simulator.kube_pods import with_pods
from monotui.simulator.server import SimulatorServer

from .argo_fixtures import fixtures_dir
from .kube_log_proxy import KubeLogProxy
from .revisions_server import RevisionsServer
from .test_argo_provider import source


def stalls_after(first: bytes) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        yield first
        await asyncio.sleep(3600)

    return StreamingResponse(body(), media_type="application/x-ndjson")


def test_monotui_logs_ends_with_an_error_when_the_deploy_api_stalls(sim: SimulatorServer, tmp_path: Path) -> None:
    answer = lambda request: stalls_after(b'{"message": "first line", "instance": "i-1"}\n')  # noqa: E731
    with RevisionsServer(sim.url, answer, suffix="/logs") as server:  # type: ignore[arg-type]
        config = tmp_path / "monotui.toml"
        config.write_text(f'actor = "t@x"\naudit_log = "{tmp_path}/audit.log"\n'
                          f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{server.url}"\ntimeout = 2\n')
        done = subprocess.run([sys.executable, "-m", "monotui", "logs", "cart-api", "--config", str(config)],
                              capture_output=True, text=True, timeout=60)
    assert "[i-1] first line" in done.stdout
    assert done.returncode == 1 and "Traceback" not in done.stderr and done.stderr.strip(), done.stderr


async def test_an_argo_pod_log_not_followed_that_stalls_is_an_error_and_a_followed_one_waits(
        tmp_path: Path) -> None:
    answer = lambda request: stalls_after(b"2026-12-07T10:00:00Z first line\n")  # noqa: E731
    with KubeStandin(with_pods(load_fixtures(fixtures_dir()))) as kube, \
            KubeLogProxy(kube.url, answer) as proxy:  # type: ignore[arg-type]
        provider = ArgoRolloutsProvider(source(proxy.kubeconfig(tmp_path / "kubeconfig")))
        try:
            result = await provider.poll()
            rollout = next(r for r in result.rollouts or [] if r.id == "jesse-test/canary-demo")
            got: list[str] = []
            with pytest.raises(ProviderError):
                async with asyncio.timeout(60):
                    async for line in stream({"k8s": provider}, "k8s", rollout, LogRequest(follow=False)):
                        got.append(line.message)
            assert "first line" in got
            followed: list[str] = []

            async def follow() -> None:
                async for line in stream({"k8s": provider}, "k8s", rollout, LogRequest(follow=True)):
                    followed.append(line.message)

            task = asyncio.create_task(follow())
            await asyncio.sleep(8)  # longer than the source's 5 s timeout: a followed log may stay quiet
            assert not task.done() and "first line" in followed
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            await provider.aclose()
