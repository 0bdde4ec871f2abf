"""A pod's log stream from a misbehaving Kubernetes API (a proxy in front of the stand-in): an error answer whose body
never ends — fast, or one byte at a time — is a bounded error within the source's timeout, not a hang that fills
memory (the deploy API's logs endpoint too); a line longer than max_response_mb without a newline is an error;
terminal control sequences and markup in a line come out inert, a long line cut."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from starlette.responses import Response, StreamingResponse

from monotui.config import HttpSourceConfig
from monotui.engine.logs import LINE_LIMIT, LogRequest, stream
from monotui.providers.argo_rollouts.provider import ArgoRolloutsProvider
from monotui.providers.base import ProviderError
from monotui.providers.http_deploy import HttpDeployProvider
from monotui.simulator.kube_api import KubeStandin, load_fixtures
from monotui.simulator.kube_pods import with_pods
from monotui.simulator.server import SimulatorServer

from .argo_fixtures import fixtures_dir
from .hostile import HostileServer
from .kube_log_proxy import KubeLogProxy
from .test_argo_provider import source

NS = "jesse-test"


@pytest.fixture
def kube() -> Iterator[KubeStandin]:
    with KubeStandin(with_pods(load_fixtures(fixtures_dir()))) as server:
        yield server


def endless(status: int, chunk: bytes, stop_after: int | None = None) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        sent = 0
        while stop_after is None or sent < stop_after:
            yield chunk
            sent += len(chunk)
            await asyncio.sleep(0)

    return StreamingResponse(body(), status_code=status, media_type="text/plain")


async def lines_from(kube: KubeStandin, tmp_path: Path, answer: object, max_mb: float = 1,
                     request: LogRequest | None = None) -> list[str]:
    with KubeLogProxy(kube.url, answer) as proxy:  # type: ignore[arg-type]
        provider = ArgoRolloutsProvider(source(proxy.kubeconfig(tmp_path / "kubeconfig"), max_response_mb=max_mb))
        try:
            result = await provider.poll()
            rollout = next(r for r in result.rollouts or [] if r.id == f"{NS}/canary-demo")
            async with asyncio.timeout(60):
                return [line.message async for line in stream({"k8s": provider}, "k8s", rollout,
                                                              request or LogRequest(follow=False))]
        finally:
            await provider.aclose()


@pytest.mark.parametrize("status", [403, 500])
async def test_an_error_answer_whose_body_never_ends_is_a_bounded_error(status: int, kube: KubeStandin,
                                                                         tmp_path: Path) -> None:
    with pytest.raises(ProviderError) as caught:
        await lines_from(kube, tmp_path, lambda request: endless(status, b'{"message": "no"}' + b" " * 65536))
    assert caught.value.status == status or "too large" in caught.value.message


async def test_a_line_longer_than_max_response_mb_without_a_newline_is_an_error(kube: KubeStandin,
                                                                                 tmp_path: Path) -> None:
    with pytest.raises(ProviderError) as caught:
        await lines_from(kube, tmp_path, lambda request: endless(200, b"x" * 65536, stop_after=50 * 1024 * 1024))
    assert "too large" in caught.value.message


async def test_control_sequences_and_markup_in_a_line_come_out_inert_and_cut(kube: KubeStandin,
                                                                            tmp_path: Path) -> None:
    body = (b"2026-12-07T10:00:00Z \x1b]0;pwned\x07\x1b[2J[red]x[/red]\xc2\x9b31m\xe2\x80\xae evil\r\n"
            b"2026-12-07T10:00:01Z " + b"y" * 200_000 + b"\n")
    got = await lines_from(kube, tmp_path, lambda request: Response(body, media_type="text/plain"))
    assert got and len(got) % 2 == 0  # both lines of every canary stream
    first, second = got[0], got[1]
    assert "[red]x[/red]" in first and first.endswith("evil")
    assert not any(c in first for c in ("\x1b", "\x07", "\x9b", "\u202e", "\r"))
    assert len(second) <= LINE_LIMIT + 1 and second.startswith("yyyy")


async def test_an_error_answer_that_trickles_forever_is_an_error_within_the_timeout(kube: KubeStandin,
                                                                                   tmp_path: Path) -> None:
    async def trickle() -> AsyncIterator[bytes]:
        while True:
            yield b" "
            await asyncio.sleep(0.05)

    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ProviderError) as caught:
        await lines_from(kube, tmp_path, lambda request: StreamingResponse(trickle(), status_code=500))
    assert caught.value.status == 500
    assert loop.time() - started < 40  # the source's 5 s timeout, not the test's own minute


async def test_the_deploy_apis_log_error_that_trickles_forever_is_an_error_within_the_timeout(
        sim: SimulatorServer) -> None:
    async def trickle() -> AsyncIterator[bytes]:
        while True:
            yield b" "
            await asyncio.sleep(0.05)

    reader = HttpDeployProvider(HttpSourceConfig(name="prod", kind="http", url=sim.url, timeout=2.0))
    try:
        rollout = next(iter((await reader.poll()).rollouts or []))
    finally:
        await reader.aclose()
    routes = {f"/v1/rollouts/{rollout.id}/logs": lambda request: StreamingResponse(trickle(), status_code=503)}
    with HostileServer(routes) as server:  # type: ignore[arg-type]
        provider = HttpDeployProvider(HttpSourceConfig(name="prod", kind="http", url=server.url, timeout=2.0))
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            with pytest.raises(ProviderError) as caught:
                async with asyncio.timeout(60):
                    async for _ in stream({"prod": provider}, "prod", rollout, LogRequest()):
                        pass
        finally:
            await provider.aclose()
    assert caught.value.status == 503
    assert loop.time() - started < 30  # the source's 2 s timeout, not the test's own minute
