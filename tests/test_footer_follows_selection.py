"""The footer offers the selected rollout's actions, and is rebuilt only when what it offers changes (rebuilding it
at every cursor move stalled the keys: docs/reliability.md, keys while a hostile source is fed). A change of which
keys are enabled only dims or undims the keys in place (a rebuild relays the screen out, a cost the key that moved
the cursor would pay)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets._footer import FooterKey

from monotui.engine.core import Engine
from monotui.models import Phase
from monotui.simulator.server import SimulatorServer
from monotui.ui.widgets.steady_footer import SteadyFooter

from .conftest import wait_until
from .test_app import slow_source, stage
from .ui_helpers import make_app, rows_loaded, select, settle


def _resume_offered(keys: list[FooterKey]) -> bool:
    resume = [k for k in keys if k.action == "rollout('resume')"]
    assert len(resume) == 1, [k.action for k in keys]
    offered = not resume[0].has_class("-disabled")
    assert resume[0].rich_style.dim is not offered, "a key not offered is drawn dim, an offered one is not"
    return offered


async def test_the_footer_follows_the_selection_and_is_rebuilt_only_when_it_changes(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    stage(sim, Phase.PAUSED)
    healthy = [r.service for r in sim.world.rollouts() if r.phase is Phase.HEALTHY][:2]
    app = make_app(engine_for(slow_source(sim.url)))
    async with app.run_test(size=(160, 35)) as pilot:
        await rows_loaded(app)
        select(app, f"prod/{healthy[0]}")
        await settle(pilot)
        first = list(app.query(FooterKey))
        assert not _resume_offered(first), "a healthy rollout cannot be resumed"
        select(app, f"prod/{healthy[1]}")
        await settle(pilot)
        assert list(app.query(FooterKey)) == first, "the same actions: the footer was not rebuilt"
        select(app, "prod/cart-api")
        await settle(pilot)
        assert _resume_offered(list(app.query(FooterKey))), "the paused rollout offers resume"
        assert list(app.query(FooterKey)) == first, "only which keys are enabled changed: dimmed in place"
        select(app, f"prod/{healthy[0]}")
        await settle(pilot)
        assert not _resume_offered(list(app.query(FooterKey)))


async def test_changes_that_come_together_rebuild_the_footer_once(
        sim: SimulatorServer, engine_for: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    """At start the first bindings, the table's focus and the first rows each change what the footer offers, before
    it was first built: one rebuild, not one for each (three were on the way to the first rows)."""
    rebuilds: list[int] = []
    recompose = SteadyFooter.recompose

    async def counted(self: SteadyFooter) -> None:
        rebuilds.append(1)
        await recompose(self)

    monkeypatch.setattr(SteadyFooter, "recompose", counted)
    app = make_app(engine_for(sim.url))
    async with app.run_test(size=(160, 35)) as pilot:
        await rows_loaded(app)
        await wait_until(lambda: any(k.action == "rollout('rollback')" and not k.has_class("-disabled")
                                     for k in app.query(FooterKey)), what="the first row's keys in the footer")
        await settle(pilot, 0.3)  # a rebuild queued by any of the start's changes has run by now
        assert len(rebuilds) == 1
