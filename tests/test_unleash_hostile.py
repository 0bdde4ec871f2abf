"""The Unleash source against a hostile server of our own on 127.0.0.1: every bad answer becomes one clear
ProviderError (never a crash, never the token), and the engine polls the source like any other."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from monotui.action_kinds import ActionKind
from monotui.config import UnleashSourceConfig
from monotui.engine.core import Engine
from monotui.providers.base import FlagSource, ProviderError, RolloutActor
from monotui.providers.unleash import UnleashProvider
from monotui.simulator.loopback import BackgroundServer

TOKEN = "*:*.hostile-test-secret"


class Hostile(BackgroundServer):
    """Answers the project's listing and the feature search with whatever `answer` says (the listing 404 when
    `listing` is False, as an Unleash without it); events and single flags normally."""

    name = "hostile unleash"

    def __init__(self) -> None:
        self.answer: Callable[[], Response] = lambda: JSONResponse({"features": [], "total": 0})
        self.events: list[dict[str, Any]] = []  # newest first, as Unleash lists them
        self.seen_auth: list[str] = []
        self.listing = True
        self.search_answer: Callable[[], Response] | None = None  # None: the search answers as `answer` says

        async def answering(request: Request, answer: Callable[[], Response]) -> Response:
            self.seen_auth.append(request.headers.get("authorization", ""))
            if answer is hang:
                await asyncio.sleep(30)
            return answer()

        async def features(request: Request) -> Response:
            return await answering(request, self.search_answer or self.answer)

        async def project_features(request: Request) -> Response:
            if not self.listing:
                return JSONResponse({"message": "The path you were looking for is not available."}, status_code=404)
            return await answering(request, self.answer)

        async def events(request: Request) -> Response:
            return JSONResponse({"events": self.events, "total": len(self.events)})

        async def one_flag(request: Request) -> Response:  # a flag's own answer: as the listing has it
            name = request.path_params["name"]
            listed = json.loads(bytes(self.answer().body)).get("features", [])
            found = next((f for f in listed if isinstance(f, dict) and f.get("name") == name), None)
            return JSONResponse(found) if found else JSONResponse({"message": "no such flag"}, status_code=404)

        async def toggle(request: Request) -> Response:
            self.toggles.append(request.url.path)
            if self.toggle_hangs:  # the request arrived; the answer never comes
                await asyncio.sleep(30)
            return Response(status_code=200)

        self.toggles: list[str] = []
        self.toggle_hangs = False
        self._serve(Starlette(routes=[Route("/api/admin/search/features", features),
                                      Route("/api/admin/projects/{project}/features", project_features),
                                      Route("/api/admin/search/events", events),
                                      Route("/api/admin/projects/{project}/features/{name}", one_flag),
                                      Route("/api/admin/projects/{project}/features/{name}/environments/{env}/{state}",
                                            toggle, methods=["POST"])]))


def hang() -> Response:
    return Response(b"")


async def trickle() -> AsyncIterator[bytes]:
    yield b'{"features": ['
    for _ in range(50):
        await asyncio.sleep(0.2)
        yield b" "
    yield b"]}"


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    with Hostile() as server:
        yield server


@pytest.fixture
async def provider(hostile: Hostile, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[UnleashProvider]:
    monkeypatch.setenv("HOSTILE_TOKEN", TOKEN)
    p = UnleashProvider(UnleashSourceConfig(name="flags", kind="unleash", url=hostile.url, token_env="HOSTILE_TOKEN",
                                            timeout=0.5, max_response_mb=1))
    yield p
    await p.aclose()


BAD_ANSWERS: dict[str, tuple[Callable[[], Response], str, str]] = {
    "not json": (lambda: Response(b'{"features": [', media_type="application/json"), "invalid",
                 "GET /api/admin/search/features: invalid response"),
    "no list": (lambda: JSONResponse({"features": 5}), "invalid",
                "GET /api/admin/search/features: invalid response: features: Input should be a valid list"),
    "too large": (lambda: JSONResponse({"features": [], "pad": "x" * 2_000_000}), "invalid",
                  "GET /api/admin/search/features: answer too large"),
    "quotes the token": (lambda: JSONResponse({"message": f"bad token {TOKEN}"}, status_code=401), "auth",
                         "GET /api/admin/search/features: HTTP 401: bad token ***"),
    "html 502": (lambda: Response(b"<html>bad gateway</html>", status_code=502), "http",
                 "GET /api/admin/search/features: HTTP 502: Bad Gateway"),
    "forbidden": (lambda: JSONResponse({"message": "You need permission READ"}, status_code=403), "auth",
                  "GET /api/admin/search/features: HTTP 403: You need permission READ"),
    "hang": (hang, "timeout", "GET /api/admin/search/features: no complete answer within 0.5s"),
    # a byte every 0.2 s: each read is quick, the whole answer is not (the wall-clock deadline)
    "trickle": (lambda: StreamingResponse(trickle(), media_type="application/json"), "timeout",
                "GET /api/admin/search/features: no complete answer within 0.5s"),
}


@pytest.mark.parametrize("listing", [True, False], ids=["project listing", "search only"])
@pytest.mark.parametrize("case", list(BAD_ANSWERS))
async def test_a_bad_answer_is_one_clear_error(case: str, listing: bool, hostile: Hostile,
                                               provider: UnleashProvider) -> None:
    answer, kind, message = BAD_ANSWERS[case]
    if listing and case != "too large":  # the listing answers badly, the search (potentially stale) well
        message = message.replace("/api/admin/search/features", "/api/admin/projects/default/features")
        hostile.search_answer = lambda: JSONResponse({"features": [], "total": 0})
    # a listing too large for one answer is read in the search's pages: here as large, so the search's error
    hostile.answer, hostile.listing = answer, listing
    with pytest.raises(ProviderError) as caught:
        await provider.poll()
    assert caught.value.kind == kind
    assert str(caught.value).startswith(message)
    assert TOKEN not in str(caught.value)
    assert hostile.seen_auth[-1] == TOKEN  # sent as Unleash expects it: the bare token


async def test_the_engine_polls_an_unleash_source_like_any_other(
        hostile: Hostile, engine_for: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTILE_TOKEN", TOKEN)
    source: dict[str, Any] = {"name": "flags", "kind": "unleash", "url": hostile.url, "token_env": "HOSTILE_TOKEN"}
    engine = engine_for(source)
    try:
        (update,) = await engine.refresh_once()
        assert update.ok and engine.state.status("flags").state == "ok"
        assert not any(engine.can("flags", kind) for kind in ActionKind)  # flags are not rollouts
        provider = engine.providers["flags"]
        assert isinstance(provider, FlagSource) and not isinstance(provider, RolloutActor)
        hostile.answer = lambda: Response(b"nope", status_code=500)
        (update,) = await engine.refresh_once()
        assert not update.ok and update.error is not None and "HTTP 500" in update.error
    finally:
        await engine.aclose()


def event(id_: int, second: int, type_: str = "feature-environment-disabled") -> dict[str, Any]:
    return {"id": id_, "type": type_, "createdBy": "dana", "createdAt": f"2026-11-26T17:00:{second:02d}Z",
            "featureName": "cart-api.fast-path", "project": "default", "environment": "production", "tags": []}


async def test_a_change_read_by_a_poll_that_failed_is_reported_by_the_next(
        hostile: Hostile, provider: UnleashProvider) -> None:
    hostile.events = [event(1, 0, "feature-environment-enabled")]
    assert [c.id for c in await provider.refresh()] == [1]
    hostile.events = [event(2, 10), *hostile.events]
    hostile.answer = lambda: Response(b"nope", status_code=503)  # the flag list fails, the events answer
    with pytest.raises(ProviderError):
        await provider.poll()
    hostile.answer = lambda: JSONResponse({"features": [], "total": 0})
    assert [(c.id, c.actor, c.summary) for c in await provider.refresh()] == [(2, "dana", "disabled")]
    assert await provider.refresh() == []


def feature(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "project": "default", "createdAt": "2026-11-26T16:00:00Z",
            "environments": [{"name": "production", "enabled": True,
                              "strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "30"}}]}],
            "tags": [{"type": "service", "value": "cart-api"}], **fields}


async def test_one_unreadable_flag_is_one_row_saying_what_is_wrong_not_a_dead_source(
        hostile: Hostile, provider: UnleashProvider, engine_for: Callable[..., Engine],
        monkeypatch: pytest.MonkeyPatch) -> None:
    hostile.answer = lambda: JSONResponse({"features": [
        feature("good"), feature("no-zone", createdAt="2026-11-26T16:00:00"), {"name": 5, "environments": "x"}]})
    hostile.events = [event(1, 0, "feature-environment-enabled"),
                      {**event(2, 1), "createdAt": "2026-11-26T17:00:01"}]  # a change at a time without a zone
    changes = await provider.refresh()
    assert [c.id for c in changes] == [1]  # the unreadable change is left out, the others reported
    flags = {f.name: f for f in provider.flags}
    assert (flags["good"].enabled, flags["good"].strategies, flags["good"].unreadable) == (True, ["rollout 30%"], "")
    assert flags["no-zone"].unreadable.startswith("features.1.createdAt: Input should have timezone info")
    assert flags["#2"].unreadable.startswith("features.2.name: Input should be a valid string")

    monkeypatch.setenv("HOSTILE_TOKEN", TOKEN)
    engine = engine_for({"name": "flags", "kind": "unleash", "url": hostile.url, "token_env": "HOSTILE_TOKEN"})
    try:
        (update,) = await engine.refresh_once()
        assert update.ok
        bad = engine.state.flag("flags", "no-zone")
        assert bad is not None and bad.unreadable
        outcome = await engine.execute_flag(engine.plan_flag("flags", bad, False), confirmed_by="dialog")
        assert outcome.outcome == "refused" and "cannot be read" in (outcome.error or "")
        assert hostile.toggles == []  # nothing sent
    finally:
        await engine.aclose()


async def test_a_kill_switch_whose_answer_never_comes_is_unknown_and_the_flag_is_read_back(
        hostile: Hostile, engine_for: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch,
        audit_path: Path) -> None:
    monkeypatch.setenv("HOSTILE_TOKEN", TOKEN)
    hostile.answer = lambda: JSONResponse({"features": [feature("good")]})
    hostile.toggle_hangs = True
    engine = engine_for({"name": "flags", "kind": "unleash", "url": hostile.url, "token_env": "HOSTILE_TOKEN",
                         "timeout": 5, "action_deadline": 1})
    try:
        await engine.refresh_once()
        flag = engine.state.flag("flags", "good")
        assert flag is not None
        outcome = await engine.execute_flag(engine.plan_flag("flags", flag, False), confirmed_by="dialog")
        assert outcome.outcome == "unknown" and "action deadline of 1s" in (outcome.error or "")
        assert outcome.now == "on (rollout 30%)"  # read back: what the server says now
        assert "outcome unknown" in outcome.message() and "Now: on (rollout 30%)" in outcome.message()
        assert hostile.toggles == ["/api/admin/projects/default/features/good/environments/production/off"]
        records = [json.loads(line) for line in audit_path.read_text().splitlines()]
        assert [r["outcome"] for r in records] == ["intent", "unknown"]
        assert records[1]["flag"]["now"] == "on (rollout 30%)"
    finally:
        await engine.aclose()


async def test_a_kill_switch_that_cannot_reach_the_server_failed_and_sent_nothing(
        engine_for: Callable[..., Engine], audit_path: Path) -> None:
    with Hostile() as gone:
        url = gone.url
        gone.answer = lambda: JSONResponse({"features": [feature("good")]})
        engine = engine_for({"name": "flags", "kind": "unleash", "url": url, "timeout": 2})
        await engine.refresh_once()
    try:  # the server is gone: the read before the request fails, so the request never left
        flag = engine.state.flag("flags", "good")
        assert flag is not None
        outcome = await engine.execute_flag(engine.plan_flag("flags", flag, False), confirmed_by="dialog")
        assert outcome.outcome == "failed" and "nothing was sent" in (outcome.error or "")
        assert [json.loads(line)["outcome"] for line in audit_path.read_text().splitlines()] == ["intent", "failed"]
    finally:
        await engine.aclose()


async def test_a_change_older_than_the_cursor_is_never_reported_again(
        hostile: Hostile, provider: UnleashProvider) -> None:
    """Later polls read a page reaching back past the cursor's minute: what is older was reported already."""
    hostile.events = [event(1, 0, "feature-environment-enabled")]
    assert [c.id for c in await provider.refresh()] == [1]
    hostile.events = [{**event(2, 0), "createdAt": "2026-11-26T17:05:00Z"}, *hostile.events]  # 5 minutes later
    assert [c.id for c in await provider.refresh()] == [2]
    assert await provider.refresh() == []  # event 1 is on the page again, older than the cursor's minute
