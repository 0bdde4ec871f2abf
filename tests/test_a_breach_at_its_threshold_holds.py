"""A breach does not end at the first reading just under its threshold: a bad canary whose error ratio hovers at
5 % (its readings above, then a little under, then above) stays one breach with one suspect — the suspect the
operator is about to act on with `s` does not come and go under the key, and the timeline holds one breach, not a
breach and a recovery per reading. It ends once the figure is well under (under 90 % of the threshold)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from monotui.engine.attention import RECOVERED
from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World

from .conftest import make_world

SERVICE = "cart-api"
THRESHOLD = 0.05  # the default error ratio threshold
# the simulator's change feed publishes a figure that moved by more than a quarter: each reading below does
OVER, BAND, OVER_AGAIN, BAND_AGAIN, WELL_UNDER = 0.064, 0.0465, 0.07, 0.0499, 0.03


class NoNoise(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return (a + b) / 2 if (a, b) == (0.9, 1.1) else super().uniform(a, b)


def reading(world: World, error_ratio: float) -> None:
    """The service's next health reading is `error_ratio` (no noise)."""
    world.services[SERVICE].base_error = error_ratio
    world.step(1.0)


def timeline_words(engine: Engine) -> list[str]:
    return [e.what for e in engine.state.happenings.items if e.service == SERVICE]


@asynccontextmanager
async def quiet_service(engine_for: Callable[..., Engine]) -> AsyncIterator[tuple[World, Engine]]:
    """The simulator without noise, SERVICE just deployed (a change to suspect) and read once at 0 % errors, and an
    engine on the world's clock."""
    world = make_world(initial_deploys=0)
    world.rng = NoNoise(7)
    with SimulatorServer(world, tick_interval=None) as sim:
        async with engine_for(sim.url) as engine:
            engine.state.clock = lambda: world.now
            world.deploy(SERVICE, bad=False)
            reading(world, 0.0)
            await engine.refresh_once()
            yield world, engine


async def test_a_figure_hovering_at_its_threshold_is_one_breach_with_one_suspect(
        engine_for: Callable[..., Engine]) -> None:
    async with quiet_service(engine_for) as (world, engine):
        reading(world, OVER)
        await engine.refresh_once()
        began = engine.state.breach_since.get(SERVICE)
        assert began is not None

        def suspect() -> bool:
            return any(v.evidence for v in engine.state.views() if v.rollout.service == SERVICE)

        assert suspect()
        # readings under the threshold but not well under, then over again: the same breach, the same suspect
        assert THRESHOLD * RECOVERED < BAND < BAND_AGAIN < THRESHOLD
        for figure in (BAND, OVER_AGAIN, BAND_AGAIN):
            reading(world, figure)
            await engine.refresh_once()
            assert engine.state.sources["prod"].health[SERVICE].error_ratio == figure  # the reading was read
            assert engine.state.breach_since.get(SERVICE) == began, figure
            assert suspect(), figure
        words = timeline_words(engine)
        assert sum("health breached" in w for w in words) == 1, words
        assert not any("health recovered" in w for w in words), words
        # well under: the breach ends, once
        reading(world, WELL_UNDER)
        await engine.refresh_once()
        assert SERVICE not in engine.state.breach_since
        assert not suspect()
        assert sum("health recovered" in w for w in timeline_words(engine)) == 1
