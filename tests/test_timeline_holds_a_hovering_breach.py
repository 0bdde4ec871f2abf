"""The timeline tells a breach as the state holds it: a figure hovering at its threshold (over, then a little under,
then over) is one breach in the state (it ends only under 90 % of the threshold), and the timeline built from the
health series showed a breach and a recovery per reading — `monotui timeline` said the service recovered twice
while its suspect stood."""

from __future__ import annotations

from collections.abc import Callable

from monotui.engine.attention import RECOVERED
from monotui.engine.core import Engine
from monotui.engine.timeline import build

from .test_a_breach_at_its_threshold_holds import (
    BAND,
    BAND_AGAIN,
    OVER,
    OVER_AGAIN,
    SERVICE,
    THRESHOLD,
    WELL_UNDER,
    quiet_service,
    reading,
)


def crossings(engine: Engine) -> list[str]:
    return [e.kind for e in build(engine.state, []) if e.service == SERVICE and e.kind in ("breach", "recovery")]


async def test_the_timeline_holds_one_breach_while_the_figure_hovers(engine_for: Callable[..., Engine]) -> None:
    async with quiet_service(engine_for) as (world, engine):
        assert THRESHOLD * RECOVERED < BAND < BAND_AGAIN < THRESHOLD
        for figure in (OVER, BAND, OVER_AGAIN, BAND_AGAIN):
            reading(world, figure)
            await engine.refresh_once()
        health = engine.state.sources["prod"].health[SERVICE]
        assert len(health.series.error_ratio) >= 4, health.series  # the crossings are in the series
        kinds = crossings(engine)
        assert kinds == ["breach"], kinds
        assert SERVICE in engine.state.breach_since
        reading(world, WELL_UNDER)
        await engine.refresh_once()
        kinds = crossings(engine)
        assert kinds == ["breach", "recovery"], kinds
        assert SERVICE not in engine.state.breach_since
