"""The deploy API client against the simulator as a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket

import pytest

from monotui.action_kinds import ActionKind
from monotui.config import HttpSourceConfig
from monotui.models import Phase, Strategy
from monotui.providers.base import Pin, ProviderError
from monotui.providers.http_deploy import HttpDeployProvider
from monotui.simulator.server import Faults, SimulatorServer

from .conftest import make_world


def provider(url: str, **kwargs: object) -> HttpDeployProvider:
    return HttpDeployProvider(HttpSourceConfig(name="prod", kind="http", url=url, timeout=2.0, **kwargs))


async def test_server_without_change_feed_is_polled_in_bulk_and_unchanged_production_is_a_304() -> None:
    with SimulatorServer(make_world(), tick_interval=None, feed=False) as sim:
        client = provider(sim.url)
        first = await client.poll()
        assert first.rollouts is not None and len(first.rollouts) == 8 and not first.partial
        assert {r.service for r in first.rollouts} == {h.service for h in first.health}
        assert client.use_feed is False
        asked = len(sim.state.requests)
        second = await client.poll()
        assert second.rollouts is None  # 304: nothing changed
        gets = [r for r in sim.state.requests if r.path == "/v1/rollouts"]
        assert [r.status for r in gets] == [200, 304]
        assert "if-none-match" not in gets[0].headers
        assert gets[1].headers["if-none-match"] == f'"r{sim.world.version}"'
        assert len(sim.state.requests) - asked == 4  # the feed is not asked again (rollouts, health, events, freeze)
        sim.world.deploy("cart-api")
        third = await client.poll()
        assert third.rollouts is not None and any(e.service == "cart-api" for e in third.events)
        await client.aclose()


async def test_events_since_cursor_returns_only_new_events(sim: SimulatorServer) -> None:
    client = provider(sim.url)
    await client.poll()
    sim.world.deploy("cart-api")
    result = await client.poll()
    assert [e.service for e in result.events] == ["cart-api"]
    assert (await client.poll()).events == []
    await client.aclose()


@pytest.mark.parametrize(
    ("action", "expected_phase"),
    [(ActionKind.PAUSE, Phase.PAUSED), (ActionKind.PROMOTE, Phase.PROGRESSING),
     (ActionKind.PROMOTE_FULL, Phase.HEALTHY), (ActionKind.ABORT, Phase.ABORTED),
     (ActionKind.ROLLBACK, Phase.HEALTHY)],
)
async def test_every_action_reaches_the_server(sim: SimulatorServer, action: ActionKind,
                                               expected_phase: Phase) -> None:
    rollout = sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    client = provider(sim.url)
    result = await client.act(rollout, action, actor="alice@b", reason="because", revision=None,
                              idempotency_key=f"k-{action.value}", pin=Pin.of(rollout))
    assert result.phase is expected_phase
    posted = [r for r in sim.state.requests if r.method == "POST"]
    assert [r.path for r in posted] == [f"/v1/rollouts/cart-api/actions/{action.value}"]
    assert json.loads(posted[0].body) == {"actor": "alice@b", "reason": "because",
                                          "expected_revision": rollout.revision}, "the request states its target"
    assert posted[0].headers["idempotency-key"] == f"k-{action.value}"
    await client.aclose()


async def test_resume(sim: SimulatorServer) -> None:
    rollout = sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    sim.world.act("cart-api", ActionKind.PAUSE, "bob")
    client = provider(sim.url)
    result = await client.act(rollout, ActionKind.RESUME, actor="alice", reason=None, revision=None,
                              idempotency_key="r1", pin=Pin.of(rollout))
    assert result.phase is Phase.PROGRESSING
    await client.aclose()


async def test_rollback_to_a_given_revision(sim: SimulatorServer) -> None:
    rollout = sim.world.rollout("cart-api")
    client = provider(sim.url)
    result = await client.act(rollout, ActionKind.ROLLBACK, actor="alice", reason=None,
                              revision=rollout.revision - 2, idempotency_key="rb", pin=Pin.of(rollout))
    assert result.revision == rollout.revision - 2
    with pytest.raises(ProviderError) as info:
        await client.act(result, ActionKind.ROLLBACK, actor="alice", reason=None, revision=999,
                         idempotency_key="rb2", pin=Pin.of(result))
    assert info.value.status == 404 and "no revision 999" in info.value.message
    await client.aclose()


async def test_a_repeated_idempotency_key_never_acts_twice(sim: SimulatorServer) -> None:
    rollout = sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    client = provider(sim.url)
    first = await client.act(rollout, ActionKind.PROMOTE, actor="a", reason=None, revision=None,
                             idempotency_key="same", pin=Pin.of(rollout))
    again = await client.act(rollout, ActionKind.PROMOTE, actor="a", reason=None, revision=None,
                             idempotency_key="same", pin=Pin.of(rollout))
    assert first == again
    assert sim.world.rollout("cart-api").current_step == 1  # promoted once, not twice
    promotions = [e for e in sim.world.events if e.kind.value == "promoted"]
    assert len(promotions) == 1
    await client.aclose()


async def test_conflict_is_a_409_with_the_servers_message(sim: SimulatorServer) -> None:
    client = provider(sim.url)
    healthy = sim.world.rollout("cart-api")
    with pytest.raises(ProviderError) as info:
        await client.act(healthy, ActionKind.PROMOTE, actor="a", reason=None, revision=None, idempotency_key="c",
                         pin=Pin.of(healthy))
    assert (info.value.kind, info.value.status) == ("conflict", 409)
    assert "cannot promote cart-api: rollout is Healthy" in info.value.message
    await client.aclose()


async def test_auth_missing_is_401_wrong_is_403(monkeypatch: pytest.MonkeyPatch) -> None:
    with SimulatorServer(make_world(), token="s3cret", tick_interval=None) as server:
        anonymous = provider(server.url)
        with pytest.raises(ProviderError) as info:
            await anonymous.poll()
        assert (info.value.kind, info.value.status) == ("auth", 401)
        monkeypatch.setenv("TOKEN_UNDER_TEST", "wrong")
        wrong = provider(server.url, token_env="TOKEN_UNDER_TEST")
        with pytest.raises(ProviderError) as info:
            await wrong.poll()
        assert info.value.status == 403
        monkeypatch.setenv("TOKEN_UNDER_TEST", "s3cret")
        assert (await wrong.poll()).rollouts
        assert all("s3cret" not in json.dumps(r.headers) for r in server.state.requests)
        for c in (anonymous, wrong):
            await c.aclose()


async def test_connection_refused_is_a_connection_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = provider(f"http://127.0.0.1:{port}")
    with pytest.raises(ProviderError) as info:
        await client.poll()
    assert info.value.kind == "connection"
    await client.aclose()


async def test_hanging_server_is_a_timeout(sim: SimulatorServer) -> None:
    sim.state.faults = Faults(hang=True)
    client = HttpDeployProvider(HttpSourceConfig(name="p", kind="http", url=sim.url, timeout=0.3))
    with pytest.raises(ProviderError) as info:
        await client.poll()
    assert info.value.kind == "timeout"
    await client.aclose()


async def test_malformed_body_is_an_invalid_response(sim: SimulatorServer) -> None:
    sim.state.faults = Faults(malformed_fraction=1.0)
    client = provider(sim.url)
    with pytest.raises(ProviderError) as info:
        await client.poll()
    assert info.value.kind == "invalid" and "invalid response" in info.value.message
    await client.aclose()


async def test_server_errors_are_http_errors(sim: SimulatorServer) -> None:
    sim.state.faults = Faults(error_fraction=1.0)
    client = provider(sim.url)
    with pytest.raises(ProviderError) as info:
        await client.poll()
    assert (info.value.kind, info.value.status) == ("http", 503)
    await client.aclose()
