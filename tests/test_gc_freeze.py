"""A source's first list of many rollouts leaves the heap frozen (out of the garbage collector's full passes, which
otherwise walk every model's lists several times a minute while keys wait); smaller sources and later polls do
not freeze (a freeze keeps the garbage in cycles alive at that moment for good: once, at start, is bounded)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

import pytest

from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer

from .conftest import make_world


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


async def test_the_first_list_of_a_thousand_rollouts_freezes_the_heap_once(engine_for: Callable[..., Engine]) -> None:
    with SimulatorServer(make_world(services=1000, initial_deploys=0), tick_interval=None) as sim:
        async with engine_for(sim.url) as engine:
            [update] = await engine.refresh_once()
            assert update.ok and len(engine.state.sources["prod"].rollouts) == 1000
            assert gc.get_freeze_count() > 1000, "the models' lists alone are more than that"
            gc.unfreeze()
            sim.world.deploy(sorted(sim.world.services)[0])
            [update] = await engine.refresh_once()
            assert update.ok
            assert gc.get_freeze_count() == 0, "later polls do not freeze again"


async def test_a_small_source_does_not_freeze(engine_for: Callable[..., Engine]) -> None:
    with SimulatorServer(make_world(services=30), tick_interval=None) as sim:
        async with engine_for(sim.url) as engine:
            [update] = await engine.refresh_once()
            assert update.ok and gc.get_freeze_count() == 0
