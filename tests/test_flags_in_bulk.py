"""Flag strategies in bulk: the Unleash source reads the strategies of every flag it needs from Unleash's feature
export (`POST /api/admin/features-batch/export`) in a few requests — against the real Unleash 7.5 and the
simulator's Unleash API alike — and reads a flag on its own only when the export did not give it (an Unleash
without the export, a flag left out). The strategies and their pin are the same either way, so a kill switch
confirmed on a bulk-read flag is sent."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from monotui.config import UnleashSourceConfig
from monotui.providers.unleash import EXPORT_PATH, UnleashProvider
from tests.unleash_admin import PROJECT
from tests.unleash_servers import (  # noqa: F401 (fixtures)
    SIM_TOKEN,
    FlagServer,
    real_flag_server_fixture,
    server_fixture,
    simulated_unleash_fixture,
)


class Recording(httpx.AsyncBaseTransport):
    """Every request the provider sends, and a hook to answer some of them otherwise."""

    def __init__(self, answer: Any = None) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent: list[tuple[str, str]] = []
        self.answer = answer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path))
        if self.answer is not None and (changed := await self.answer(request, self.inner)) is not None:
            return changed  # type: ignore[no-any-return]
        return await self.inner.handle_async_request(request)

    def own_reads(self, prefix: str) -> list[str]:
        return [p for m, p in self.sent if m == "GET" and f"/features/{prefix}" in p]

    def exports(self) -> int:
        return sum(1 for m, p in self.sent if m == "POST" and p == EXPORT_PATH)

    async def aclose(self) -> None:
        await self.inner.aclose()


def instead(method: str, path: str, answer: httpx.Response) -> Any:
    """A `Recording` hook: `answer` to every `method path` request, the server to the others."""
    async def hook(request: httpx.Request, inner: httpx.AsyncBaseTransport) -> httpx.Response | None:
        return answer if request.method == method and request.url.path == path else None
    return hook


def provider_for(server: FlagServer, monkeypatch: pytest.MonkeyPatch, transport: httpx.AsyncBaseTransport,
                 **settings: Any) -> UnleashProvider:
    monkeypatch.setenv("MONOTUI_TEST_UNLEASH_TOKEN", server.token)
    config = UnleashSourceConfig(name="flags", kind="unleash", url=server.url, timeout=30,
                                 token_env="MONOTUI_TEST_UNLEASH_TOKEN", service_from="prefix",
                                 service_prefix_separator=".", **settings)
    return UnleashProvider(config, transport=transport)


@asynccontextmanager
async def polling(server: FlagServer, monkeypatch: pytest.MonkeyPatch, transport: httpx.AsyncBaseTransport,
                  **settings: Any) -> AsyncIterator[UnleashProvider]:
    provider = provider_for(server, monkeypatch, transport, **settings)
    try:
        yield provider
    finally:
        await provider.aclose()


def seed(server: FlagServer, prefix: str, count: int) -> None:
    for i in range(count):
        server.admin.create_flag(f"{prefix}.flag{i}", rollout=(i * 7) % 101, enabled=i % 2 == 0)
    # one flag with two strategies, one of them constrained: the pin must not depend on how it was read
    path = f"/projects/{PROJECT}/features/{prefix}.flag0/environments/production/strategies"
    server.admin._send("POST", path, {"name": "default", "parameters": {}, "constraints": [
        {"contextName": "userId", "operator": "IN", "values": ["7", "3"], "caseInsensitive": False,
         "inverted": False}]})


def mine(provider: UnleashProvider, prefix: str) -> dict[str, tuple[bool, int | None, list[str], str]]:
    return {f.name: (f.enabled, f.rollout, f.strategies, f.strategy_pin) for f in provider.flags
            if f.name.startswith(prefix)}


async def test_strategies_come_from_the_export_in_a_few_requests(
        server: FlagServer, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = f"b{uuid.uuid4().hex[:8]}"
    seed(server, prefix, 12)
    bulk, alone = Recording(), Recording()
    provider = provider_for(server, monkeypatch, bulk)
    one_by_one = provider_for(server, monkeypatch, alone)
    one_by_one._export = False  # as an Unleash without the export
    try:
        first = await provider.poll()
        assert bulk.exports() == 1 and bulk.own_reads(prefix) == [], bulk.sent
        if server.kind == "simulator":
            assert first.requests == 4  # flags, potentially stale, events, the export
        await one_by_one.poll()
        assert len(alone.own_reads(prefix)) == 12 and alone.exports() == 0
        assert mine(provider, prefix) == mine(one_by_one, prefix)
        flag0 = mine(provider, prefix)[f"{prefix}.flag0"]
        assert len(flag0[2]) == 2 and "everyone if 1 constraint" in flag0[2]
        # a later poll reads no strategy again while nothing changed
        bulk.sent.clear()
        await provider.poll()
        assert bulk.exports() == 0 and bulk.own_reads(prefix) == []
        # a kill switch confirmed on a flag read in bulk is sent (its pin is the one its own answer gives)
        confirmed = next(f for f in provider.flags if f.name == f"{prefix}.flag0")
        after = await provider.set_flag(confirmed, False)
        assert not after.enabled
    finally:
        await provider.aclose()
        await one_by_one.aclose()


async def test_flags_the_export_leaves_out_are_read_on_their_own(
        server: FlagServer, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = f"o{uuid.uuid4().hex[:8]}"
    seed(server, prefix, 5)
    left_out = f"{prefix}.flag3"

    async def without_one(request: httpx.Request, inner: httpx.AsyncBaseTransport) -> httpx.Response | None:
        if request.url.path != EXPORT_PATH:
            return None
        answer = await inner.handle_async_request(request)
        await answer.aread()
        data = json.loads(answer.content)
        data["features"] = [f for f in data["features"] if f["name"] != left_out]
        return httpx.Response(200, json=data)

    transport = Recording(without_one)
    provider = provider_for(server, monkeypatch, transport)
    try:
        await provider.poll()
        assert transport.exports() == 1
        assert transport.own_reads(prefix) == [f"/api/admin/projects/{PROJECT}/features/{left_out}"]
        assert all(strategies for _, _, strategies, _ in mine(provider, prefix).values())
    finally:
        await provider.aclose()


async def test_an_unleash_without_the_export_is_read_flag_by_flag_and_not_asked_again(
        server: FlagServer, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = f"n{uuid.uuid4().hex[:8]}"
    seed(server, prefix, 3)

    transport = Recording(instead("POST", EXPORT_PATH, httpx.Response(404, json={"message": "Not found"})))
    async with polling(server, monkeypatch, transport) as provider:
        await provider.poll()
        assert transport.exports() == 1 and len(transport.own_reads(prefix)) == 3
        server.admin.set_rollout(f"{prefix}.flag1", 42)
        await provider.poll()
        assert transport.exports() == 1, "an Unleash without the export was asked again"
        assert mine(provider, prefix)[f"{prefix}.flag1"][1] == 42


LISTING = f"/api/admin/projects/{PROJECT}/features"
SEARCH = "/api/admin/search/features"


def reads(transport: Recording, path: str) -> int:
    return sum(1 for m, p in transport.sent if m == "GET" and p == path)


async def test_a_project_is_listed_in_one_request_past_one_search_page(
        server: FlagServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unleash 7.5's feature search gives at most 100 flags a request; a project's own listing gives them all."""
    prefix = f"l{uuid.uuid4().hex[:8]}"
    seed(server, prefix, 130)
    transport = Recording()
    async with polling(server, monkeypatch, transport) as provider:
        await provider.poll()
        shown = mine(provider, prefix)
        assert len(shown) == 130 and shown[f"{prefix}.flag2"][:2] == (True, 14)
        assert {f.service for f in provider.flags if f.name.startswith(prefix)} == {prefix}
        # one listing, and one search: the potentially stale flags (none here, one page)
        assert (reads(transport, LISTING), reads(transport, SEARCH)) == (1, 1), transport.sent
        transport.sent.clear()
        server.admin.toggle(f"{prefix}.flag1", True)
        await provider.poll()
        assert mine(provider, prefix)[f"{prefix}.flag1"][0] is True
        assert (reads(transport, LISTING), reads(transport, SEARCH)) == (1, 1), transport.sent


async def test_an_unleash_without_the_project_listing_is_read_in_search_pages(
        server: FlagServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unleash 7.5 answers a feature search `limit` above 100 with a page of 50: the listing goes by the total."""
    prefix = f"p{uuid.uuid4().hex[:8]}"
    for i in range(130):
        server.admin._send("POST", f"/projects/{PROJECT}/features", {"name": f"{prefix}.flag{i}", "type": "release"})

    transport = Recording(instead("GET", LISTING, httpx.Response(
        404, json={"message": "The path you were looking for is not available."})))
    async with polling(server, monkeypatch, transport) as provider:
        await provider.poll()
        assert len(mine(provider, prefix)) == 130
        assert reads(transport, SEARCH) >= 3  # two pages of flags at least, and the potentially stale
        await provider.poll()
        assert reads(transport, LISTING) == 1, "an Unleash without the listing was asked again"
        assert len(mine(provider, prefix)) == 130


async def test_a_listing_too_large_for_one_answer_is_read_in_search_pages(
        server: FlagServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """`max_response_mb` bounds one answer: a project too large to list in one is read in the search's pages."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    seed(server, prefix, 3)

    huge = httpx.Response(200, json={"version": 2, "features": [], "pad": "x" * 1_200_000})
    transport = Recording(instead("GET", LISTING, huge))
    async with polling(server, monkeypatch, transport, max_response_mb=1) as provider:
        result = await provider.poll()
        assert {name: value[:2] for name, value in mine(provider, prefix).items()} == {
            f"{prefix}.flag0": (True, 0), f"{prefix}.flag1": (False, 7), f"{prefix}.flag2": (True, 14)}
        assert reads(transport, LISTING) == 1 and reads(transport, SEARCH) >= 2
        assert result.requests == len(transport.sent)
        await provider.poll()
        assert reads(transport, LISTING) == 1
