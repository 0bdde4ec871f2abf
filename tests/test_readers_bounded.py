"""Every answer's size is bounded after decompression, whatever the chain of content codings: a
stacked `gzip, gzip` bomb is stopped at the bound like a single one, an unknown coding or a third layer is refused,
and decompression runs off the event loop, stopped by the source's deadline."""

from __future__ import annotations

import asyncio
import gzip
import time
import tracemalloc
import zlib
from functools import cache
from typing import Any

import pytest

from monotui.config import HttpSourceConfig
from monotui.providers.base import ProviderError
from monotui.providers.http_deploy import HttpDeployProvider
from monotui.providers.http_edge import TooLarge, decode_bounded

from .hostile import HostileServer, json_answer
from .test_hostile import deploy_api, http_source

MB = 1024 * 1024


@cache
def spaces_gzipped(megabytes: int, first: bytes = b"") -> bytes:
    """`first` then `megabytes` MB of spaces, gzipped (built a megabyte at a time: never the whole in memory)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b" " * MB
    return b"".join([packer.compress(first), *(packer.compress(block) for _ in range(megabytes)), packer.flush()])


@pytest.fixture(scope="module")
def answers() -> dict[str, bytes]:
    from .test_hostile import real_answers

    return real_answers()


async def _poll(url: str, **extra: Any) -> tuple[ProviderError | None, float]:
    provider = HttpDeployProvider(HttpSourceConfig(**http_source(url, **extra)))
    t0 = time.monotonic()
    try:
        await provider.poll()
    except ProviderError as e:
        return e, time.monotonic() - t0
    finally:
        await provider.aclose()
    return None, time.monotonic() - t0


async def test_a_stacked_gzip_bomb_is_stopped_at_the_bound_without_inflating_it(
        answers: dict[str, bytes]) -> None:
    bomb = gzip.compress(spaces_gzipped(64))  # 64 MB of spaces in a few hundred bytes, gzipped twice
    assert len(bomb) < 4096
    routes = deploy_api(answers, rollouts=json_answer(bomb, **{"Content-Encoding": "gzip, gzip"}))
    with HostileServer(routes) as server:
        tracemalloc.start()
        try:
            error, _ = await _poll(server.url, max_response_mb=1, timeout=30)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert error is not None and error.kind == "invalid"
    assert "answer too large (more than 1 MB; max_response_mb = 1)" in error.message
    assert peak < 16 * MB, f"the inner layer was inflated whole before the bound was checked ({peak / MB:.0f} MB)"


async def test_the_same_bomb_as_separate_headers_is_stopped_too(answers: dict[str, bytes]) -> None:
    from starlette.responses import Response

    bomb = gzip.compress(spaces_gzipped(64))

    def twice(request: Any) -> Response:
        response = Response(bomb, media_type="application/json")
        response.raw_headers += [(b"content-encoding", b"gzip"), (b"content-encoding", b"gzip")]
        return response

    with HostileServer(deploy_api(answers, rollouts=twice)) as server:
        tracemalloc.start()
        try:
            error, _ = await _poll(server.url, max_response_mb=1, timeout=30)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert error is not None and "answer too large" in error.message
    assert peak < 16 * MB


@pytest.mark.parametrize("coding", ["gzip, gzip, gzip", "br", "gzip, zstd", "compress"])
async def test_a_coding_not_asked_for_or_a_third_layer_is_refused(answers: dict[str, bytes], coding: str) -> None:
    body = answers["/v1/rollouts"]
    for _ in range(coding.count("gzip")):
        body = gzip.compress(body)
    routes = deploy_api(answers, rollouts=json_answer(body, **{"Content-Encoding": coding}))
    with HostileServer(routes) as server:
        error, _ = await _poll(server.url)
        asked = server.asked[0].headers.get("accept-encoding")
    assert error is not None and error.kind == "invalid"
    assert "the compressed body cannot be decompressed" in error.message
    assert asked == "gzip, deflate"


async def test_two_layers_of_an_honest_answer_are_read(answers: dict[str, bytes]) -> None:
    body = gzip.compress(zlib.compress(answers["/v1/rollouts"]))
    routes = deploy_api(answers, rollouts=json_answer(body, **{"Content-Encoding": "deflate, gzip"}))
    with HostileServer(routes) as server:
        error, _ = await _poll(server.url)
    assert error is None


def test_decompression_stops_at_its_deadline_and_at_the_bound() -> None:
    body = gzip.compress(spaces_gzipped(64))
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        decode_bounded(body, ["gzip", "gzip"], 1024 * MB, deadline=time.monotonic())
    assert time.monotonic() - t0 < 1.0, "stopped at its first step, not after inflating 64 MB"
    with pytest.raises(TooLarge):
        decode_bounded(body, ["gzip", "gzip"], 2 * MB)
    assert decode_bounded(gzip.compress(b'{"a": 1}'), ["gzip"], 100) == b'{"a": 1}'


async def test_decompression_keeps_the_event_loop_free(answers: dict[str, bytes]) -> None:
    inner = spaces_gzipped(64, first=b"x")  # not JSON from its first byte: only inflating it takes time
    t0 = time.monotonic()
    zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(inner)
    inflate = time.monotonic() - t0  # what inflating it takes on this machine, now
    routes = deploy_api(answers, rollouts=json_answer(gzip.compress(inner), **{"Content-Encoding": "gzip, gzip"}))
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.005)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    with HostileServer(routes) as server:
        task = asyncio.create_task(ticker())
        try:
            error, _ = await _poll(server.url, max_response_mb=128, timeout=60)
        finally:
            task.cancel()
    assert error is not None and "not JSON" in error.message  # 64 MB, inflated whole
    assert max(gaps) < max(0.15, inflate / 2), \
        f"the loop stalled {max(gaps):.2f} s while {inflate:.2f} s of inflating went on"
