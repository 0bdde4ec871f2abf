"""The Unleash flag source against a real Unleash (on PostgreSQL) and against the simulator's Unleash Admin API:
each scenario runs on both, and the contract test compares what the provider returns from each."""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from monotui.config import UnleashSourceConfig
from monotui.models import Flag, FlagChange, FlagChangeKind
from monotui.providers import unleash
from monotui.providers.base import ProviderError
from monotui.providers.unleash import FlagChangedError, UnleashProvider
from tests.unleash_servers import (  # noqa: F401 (fixtures)
    SIM_TOKEN,
    FlagServer,
    real_flag_server_fixture,
    server_fixture,
    simulated_unleash_fixture,
)


@pytest.fixture
def prefix() -> str:
    """Flags of one test are named apart from the others' (the real Unleash lives for the whole session)."""
    return f"t{uuid.uuid4().hex[:8]}"


def provider_for(server: FlagServer, monkeypatch: pytest.MonkeyPatch, **options: Any) -> UnleashProvider:
    monkeypatch.setenv("MONOTUI_TEST_UNLEASH_TOKEN", server.token)
    config = UnleashSourceConfig(name="flags", kind="unleash", url=server.url, token_env="MONOTUI_TEST_UNLEASH_TOKEN",
                                 timeout=30, **options)
    return UnleashProvider(config)


@pytest.fixture
async def provider(server: FlagServer, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[UnleashProvider]:
    p = provider_for(server, monkeypatch)
    yield p
    await p.aclose()


def mine(flags: list[Flag], prefix: str) -> dict[str, Flag]:
    return {f.name.removeprefix(prefix): f for f in flags if f.name.startswith(prefix)}


def my_changes(changes: list[FlagChange], prefix: str) -> list[tuple[str, FlagChangeKind, str, str | None]]:
    return [(c.flag.removeprefix(prefix), c.kind, c.summary, c.service and c.service.removeprefix(prefix))
            for c in changes if c.flag.startswith(prefix)]


async def test_flags_show_their_production_state_rollout_and_service(
        server: FlagServer, provider: UnleashProvider, prefix: str) -> None:
    server.admin.create_flag(f"{prefix}-checkout", service=f"{prefix}-cart-api", rollout=25, enabled=True)
    server.admin.create_flag(f"{prefix}-search", service=f"{prefix}-search-api", rollout=50)
    server.admin.create_flag(f"{prefix}-orphan")
    server.admin.toggle(f"{prefix}-search", True, environment="development")  # not production: still off
    await provider.poll()
    flags = mine(provider.flags, prefix)
    checkout, search, orphan = flags["-checkout"], flags["-search"], flags["-orphan"]
    assert (checkout.enabled, checkout.rollout, checkout.strategies) == (True, 25, ["rollout 25%"])
    assert checkout.service == f"{prefix}-cart-api" and checkout.environment == "production"
    assert (search.enabled, search.rollout, search.service) == (False, 50, f"{prefix}-search-api")
    assert (orphan.enabled, orphan.service, orphan.project, orphan.strategies) == (False, None, "default", [])
    assert checkout.last_change is not None and checkout.last_change.kind is FlagChangeKind.ENABLED
    assert checkout.last_change.actor == "admin"  # who Unleash names for an admin API token
    assert not checkout.stale and not checkout.potentially_stale


async def test_a_flag_marked_stale_shows_stale_and_its_change_is_not_a_production_change(
        server: FlagServer, provider: UnleashProvider, prefix: str) -> None:
    server.admin.create_flag(f"{prefix}-old", rollout=100, enabled=True)
    server.admin.create_flag(f"{prefix}-young", rollout=100, enabled=True)
    await provider.poll()
    server.admin.mark_stale(f"{prefix}-old")
    new = await provider.refresh()
    flags = mine(provider.flags, prefix)
    assert (flags["-old"].stale, flags["-old"].potentially_stale) == (True, False)
    assert not flags["-young"].stale
    assert my_changes(new, prefix) == []  # stale is not a change of what production serves


async def test_a_service_can_come_from_the_name_prefix(
        server: FlagServer, monkeypatch: pytest.MonkeyPatch, prefix: str) -> None:
    server.admin.create_flag(f"{prefix}-billing.new-invoices", service="ignored-tag")
    server.admin.create_flag(f"{prefix}-nodot")
    provider = provider_for(server, monkeypatch, service_from="prefix", service_prefix_separator=".")
    try:
        await provider.poll()
    finally:
        await provider.aclose()
    flags = mine(provider.flags, prefix)
    assert flags["-billing.new-invoices"].service == f"{prefix}-billing"
    assert flags["-nodot"].service is None


async def test_changes_arrive_once_in_bulk_with_who_and_what(
        server: FlagServer, provider: UnleashProvider, prefix: str, request: pytest.FixtureRequest) -> None:
    server.admin.create_flag(f"{prefix}-a", service=f"{prefix}-svc", rollout=25, enabled=True)
    server.admin.create_flag(f"{prefix}-b", service=f"{prefix}-svc", rollout=100)
    await provider.poll()  # the first poll learns the history (who changed what last) and sets the cursor
    server.admin.set_rollout(f"{prefix}-a", 50)
    server.admin.toggle(f"{prefix}-b", True)
    server.admin.toggle(f"{prefix}-a", False)
    server.admin.toggle(f"{prefix}-a", False)  # already off: Unleash records nothing
    new = await provider.refresh()
    assert my_changes(new, prefix) == [
        ("-a", FlagChangeKind.STRATEGY_CHANGED, "rollout 25% → 50%", "-svc"),
        ("-b", FlagChangeKind.ENABLED, "enabled", "-svc"),
        ("-a", FlagChangeKind.DISABLED, "disabled", "-svc"),
    ]
    assert [c.id for c in new] == sorted(c.id for c in new)
    flags = mine(provider.flags, prefix)
    assert (flags["-a"].enabled, flags["-a"].rollout) == (False, 50)
    assert flags["-a"].last_change is not None and flags["-a"].last_change.kind is FlagChangeKind.DISABLED
    # nothing new: no change, and only the three bulk requests (flags, potentially stale, events)
    before = my_changes(list(provider.recent_changes), prefix)
    result = await provider.poll()
    # other tests share this Unleash, so only this test's flags are looked at: no change reported twice
    assert my_changes(list(provider.recent_changes), prefix) == before
    assert before[-1][1] is FlagChangeKind.DISABLED
    assert result.rollouts is None
    if request.node.callspec.params["server"] == "simulator":
        assert result.requests == 3
    else:  # the shared real Unleash holds other tests' flags and events, which come in pages: still no per-flag read
        # the listing, the potentially stale flags (the search: 100 a page at most), the events
        pages = 1 + math.ceil(len(provider.flags) / unleash.PAGE) + unleash.MAX_CATCH_UP // unleash.EVENTS_PAGE
        assert result.requests <= pages


async def test_turning_a_flag_off_changes_production_only(
        server: FlagServer, provider: UnleashProvider, prefix: str) -> None:
    name = f"{prefix}-kill-me"
    server.admin.create_flag(name, service=f"{prefix}-svc", rollout=100, enabled=True)
    server.admin.toggle(name, True, environment="development")
    await provider.poll()
    shown = mine(provider.flags, prefix)["-kill-me"]
    after = await provider.set_flag(shown, enabled=False)
    assert not after.enabled and after.strategies == ["rollout 100%"]
    assert not server.admin.enabled(name, "production")
    assert server.admin.enabled(name, "development")
    new = await provider.refresh()
    assert my_changes(new, prefix) == [("-kill-me", FlagChangeKind.DISABLED, "disabled", "-svc")]


async def test_a_flag_changed_since_it_was_confirmed_is_not_sent(
        server: FlagServer, provider: UnleashProvider, prefix: str) -> None:
    name = f"{prefix}-raced"
    server.admin.create_flag(name, rollout=25, enabled=True)
    await provider.poll()
    confirmed = mine(provider.flags, prefix)["-raced"]
    server.admin.set_rollout(name, 75)  # a colleague moves it while the dialog is open
    events_before = server.admin.event_ids(name)
    with pytest.raises(FlagChangedError) as caught:
        await provider.set_flag(confirmed, enabled=False)
    assert caught.value.kind == "changed" and caught.value.refused  # audited as refused: it did not act
    assert str(caught.value) == (f"{name} changed since it was confirmed: it was on (rollout 25%), "
                                 "it is now on (rollout 75%); nothing was sent")
    assert server.admin.enabled(name, "production")
    assert server.admin.event_ids(name) == events_before


async def test_a_wrong_token_is_refused(server: FlagServer, monkeypatch: pytest.MonkeyPatch) -> None:
    provider = provider_for(server, monkeypatch)
    monkeypatch.setenv("MONOTUI_TEST_UNLEASH_TOKEN", "*:*.not-the-token")
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.poll()
    finally:
        await provider.aclose()
    assert caught.value.refused and caught.value.status == 401
    assert "not-the-token" not in str(caught.value)


async def run_scenario(server: FlagServer, monkeypatch: pytest.MonkeyPatch, prefix: str) -> dict[str, Any]:
    """Create, list, toggle, read events: what the provider returns, with the test's prefix and ids taken out."""
    admin = server.admin
    admin.create_flag(f"{prefix}-one", service=f"{prefix}-cart", rollout=25, enabled=True)
    admin.create_flag(f"{prefix}-two", service=f"{prefix}-cart")
    admin.create_flag(f"{prefix}-three.x", rollout=100)
    provider = provider_for(server, monkeypatch)
    try:
        await provider.poll()
        listed = mine(provider.flags, prefix)
        admin.set_rollout(f"{prefix}-one", 60)
        admin.toggle(f"{prefix}-two", True)
        turned_off = await provider.set_flag(listed["-one"], enabled=False)  # refused: it moved to 60%
    except FlagChangedError as e:
        turned_off = await provider.set_flag(e.current, enabled=False)
    try:
        changes = await provider.refresh()
        final = mine(provider.flags, prefix)
    finally:
        await provider.aclose()

    def shape(flags: dict[str, Flag]) -> dict[str, Any]:
        return {name: (f.enabled, f.rollout, f.strategies, f.service and f.service.removeprefix(prefix), f.type,
                       f.stale, f.last_change and (f.last_change.kind, f.last_change.summary, f.last_change.actor))
                for name, f in flags.items()}

    return {"listed": shape(listed), "after": (turned_off.enabled, turned_off.strategies),
            "changes": my_changes(changes, prefix), "final": shape(final)}


async def test_contract_the_simulator_answers_as_a_real_unleash(
        simulated_unleash: FlagServer, real_flag_server: FlagServer, monkeypatch: pytest.MonkeyPatch) -> None:
    simulated = await run_scenario(simulated_unleash, monkeypatch, f"t{uuid.uuid4().hex[:8]}")
    real = await run_scenario(real_flag_server, monkeypatch, f"t{uuid.uuid4().hex[:8]}")
    assert simulated == real
    assert real["changes"] == [
        ("-one", FlagChangeKind.STRATEGY_CHANGED, "rollout 25% → 60%", "-cart"),
        ("-two", FlagChangeKind.STRATEGY_CHANGED, "strategy added: rollout 100%", "-cart"),
        ("-two", FlagChangeKind.ENABLED, "enabled", "-cart"),
        ("-one", FlagChangeKind.DISABLED, "disabled", "-cart"),
    ]


async def test_pages_are_followed_and_a_burst_of_changes_is_read_whole(
        server: FlagServer, provider: UnleashProvider, prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("monotui.providers.unleash.PAGE", 2)
    monkeypatch.setattr("monotui.providers.unleash.EVENTS_PAGE", 3)
    for i in range(5):
        server.admin.create_flag(f"{prefix}-f{i}", rollout=10, enabled=i % 2 == 0)
    await provider.poll()
    assert sorted(mine(provider.flags, prefix)) == [f"-f{i}" for i in range(5)]
    for i in range(5):
        server.admin.toggle(f"{prefix}-f{i}", i % 2 == 1)  # every flag flips: 5 changes, two pages and a bit
    for i in (1, 3):
        server.admin.set_rollout(f"{prefix}-f{i}", 30)
    new = await provider.refresh()
    assert [(name, kind) for name, kind, _, _ in my_changes(new, prefix)] == [
        *((f"-f{i}", FlagChangeKind.ENABLED if i % 2 else FlagChangeKind.DISABLED) for i in range(5)),
        ("-f1", FlagChangeKind.STRATEGY_CHANGED), ("-f3", FlagChangeKind.STRATEGY_CHANGED)]
    assert len({c.id for c in new}) == len(new)
    assert {name: (f.enabled, f.rollout) for name, f in mine(provider.flags, prefix).items()} == {
        f"-f{i}": (i % 2 == 1, 30 if i in (1, 3) else 10) for i in range(5)}


async def test_the_first_poll_reads_only_as_much_history_as_configured(
        server: FlagServer, monkeypatch: pytest.MonkeyPatch, prefix: str) -> None:
    server.admin.create_flag(f"{prefix}-old", rollout=10, enabled=True)
    server.admin.toggle(f"{prefix}-old", False)
    provider = provider_for(server, monkeypatch, history=0)
    try:
        await provider.poll()
        assert not list(provider.recent_changes)
        assert mine(provider.flags, prefix)["-old"].last_change is None
        server.admin.toggle(f"{prefix}-old", True)
        new = await provider.refresh()
    finally:
        await provider.aclose()
    assert my_changes(new, prefix) == [("-old", FlagChangeKind.ENABLED, "enabled", None)]
