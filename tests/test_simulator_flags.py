"""The simulated production's flags: bad flips raise their service's errors until the flag is turned off, flags
change by themselves while the world moves, and the provider reads all of it over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from monotui.config import UnleashSourceConfig
from monotui.engine.core import Engine
from monotui.models import FlagChangeKind
from monotui.providers.unleash import UnleashProvider
from monotui.simulator.flags import PRODUCTION
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import SimConfig, World
from tests.conftest import START, wait_until
from tests.ui_helpers import make_app, rows_loaded


def error_ratio(world: World, service: str) -> float:
    return next(h.error_ratio for h in world.health() if h.service == service)


def provider(sim: SimulatorServer) -> UnleashProvider:
    return UnleashProvider(UnleashSourceConfig(name="flags", kind="unleash", url=sim.url, timeout=10))


async def test_a_bad_flag_flip_raises_its_service_errors_until_it_is_turned_off() -> None:
    world = World(SimConfig(services=3, seed=3, deploy_interval=0, initial_deploys=0, flag_share=0,
                            names=("cart-api", "search-api", "auth-api")), start=START)
    flags = world.flags
    flags.create("default", "cart-api.new-checkout")
    flags.tag("cart-api.new-checkout", "service", "cart-api")
    flags.add_strategy("default", "cart-api.new-checkout", PRODUCTION, "flexibleRollout", {"rollout": "50"})
    flags.mark_bad("default", "cart-api.new-checkout")
    world.step()
    quiet = error_ratio(world, "cart-api")
    assert quiet < 0.05
    with SimulatorServer(world, tick_interval=None) as sim:
        source = provider(sim)
        try:
            flags.set_enabled("default", "cart-api.new-checkout", PRODUCTION, True, actor="dana")
            world.step()
            assert error_ratio(world, "cart-api") > 0.1  # 35% errors at 100% rollout, half of it at 50%
            assert error_ratio(world, "search-api") < 0.05
            await source.poll()
            (flag,) = source.flags
            assert flag.enabled and flag.service == "cart-api" and flag.rollout == 50
            assert flag.last_change is not None
            assert (flag.last_change.kind, flag.last_change.actor) == (FlagChangeKind.ENABLED, "dana")
            await source.set_flag(flag, enabled=False)  # the kill switch
        finally:
            await source.aclose()
    world.step()
    assert error_ratio(world, "cart-api") < 0.05


@pytest.mark.parametrize("seed", [1, 2])
def test_flags_change_by_themselves_while_deploys_arrive(seed: int) -> None:
    world = World(SimConfig(services=12, seed=seed, deploy_interval=5, flag_interval=5), start=START)
    assert world.flags.flags and not world.flags.events  # seeded flags are history: no events
    for _ in range(240):  # two simulated minutes
        world.step()
    kinds = {e["type"] for e in world.flags.events}
    assert kinds & {"feature-environment-enabled", "feature-environment-disabled", "feature-strategy-update"}
    assert all(e["environment"] == PRODUCTION for e in world.flags.events)


def test_without_deploys_flags_stand_still() -> None:
    world = World(SimConfig(services=12, seed=1, deploy_interval=0, flag_interval=1), start=START)
    for _ in range(100):
        world.step()
    assert not world.flags.events


async def test_the_seeded_flags_read_over_http_with_potentially_stale_ones() -> None:
    world = World(SimConfig(services=30, seed=4, deploy_interval=0), start=START)
    expected = {(f.name, f.potentially_stale) for f in world.flags.flags.values()}
    assert any(stale for _, stale in expected) and not all(stale for _, stale in expected)
    with SimulatorServer(world, tick_interval=None) as sim:
        source = provider(sim)
        try:
            result = await source.poll()
        finally:
            await source.aclose()
    assert {(f.name, f.potentially_stale) for f in source.flags} == expected
    assert all(f.service and f.name.startswith(f"{f.service}.") for f in source.flags)
    # three bulk requests, then one export of every flag's strategies (the first poll only)
    assert result.requests == 3 + 1


async def test_the_app_runs_with_an_unleash_source_beside_the_deploy_api(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    """The flags are not shown yet; the source is polled and its state is in the banner, and the rollouts are
    unaffected. (Its slower first poll once ended while the app quit, and the dialog re-check crashed on the empty
    screen stack.)"""
    engine = engine_for(sim.url, {"name": "flags", "kind": "unleash", "url": sim.url, "poll_interval": 0.1})
    app = make_app(engine)
    async with app.run_test(size=(160, 40)):
        await rows_loaded(app, len(sim.world.rollouts()))
        await wait_until(lambda: engine.state.status("flags").state == "ok", what="the flag source answered")
        banner = app.rollouts.banner
        await wait_until(lambda: "flags" in banner.content.plain and "error" not in banner.content.plain
                         and "connecting" not in banner.content.plain, what="the banner shows the flag source")
    assert sim.world.flags.flags  # the default world has flags for the source to read


async def test_a_change_that_commits_late_is_still_reported_once() -> None:
    """Unleash gives an event its id and time before its transaction commits: a slow transaction's event can appear
    after newer ones were read. The provider reads back a minute behind the newest event and skips ids it saw."""
    world = World(SimConfig(services=2, deploy_interval=0, flag_share=0, names=("cart-api", "auth-api")),
                  start=START)
    flags = world.flags
    for name in ("cart-api.a", "cart-api.b"):
        flags.create("default", name)
        flags.add_strategy("default", name, PRODUCTION, "flexibleRollout", {"rollout": "50"})
    with SimulatorServer(world, tick_interval=None) as sim:
        source = provider(sim)
        try:
            await source.poll()
            flags._event_id += 1  # a transaction takes the next id, and commits later
            late_id = flags._event_id
            world.step(5.0)
            flags.set_enabled("default", "cart-api.b", PRODUCTION, True, actor="bob")
            first = await source.refresh()
            world.step(5.0)
            late = dict(flags.events[-1], id=late_id, featureName="cart-api.a", type="feature-environment-enabled",
                        createdBy="alice", createdAt=(world.now - timedelta(seconds=8)).isoformat())
            flags.events.append(late)
            second = await source.refresh()
            third = await source.refresh()
        finally:
            await source.aclose()
    assert [(c.flag, c.actor) for c in first] == [("cart-api.b", "bob")]
    assert [(c.id, c.flag, c.actor, c.kind) for c in second] == [
        (late_id, "cart-api.a", "alice", FlagChangeKind.ENABLED)]
    assert third == []
