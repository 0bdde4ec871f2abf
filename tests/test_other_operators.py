"""Other operators in view: an action by someone else on the same rollout is named, with what they said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from monotui.action_kinds import ActionKind
from monotui.engine.others import acted_by_others
from monotui.models import Strategy
from monotui.simulator.server import SimulatorServer


async def test_a_colleagues_pause_on_the_same_rollout_is_named_with_their_reason(
        sim: SimulatorServer, engine_for: Any) -> None:
    sim.world.now = datetime.now(UTC)  # the events' times: now, however long the session has run
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    sim.world.deploy("search-api", strategy=Strategy.CANARY)
    async with engine_for(sim.url, actor="alice@bastion-2") as alice, engine_for(sim.url) as me:
        await alice.refresh_once()
        source, rollout = alice.find("cart-api")[0]
        assert (await alice.execute(alice.plan(source, rollout, ActionKind.PAUSE), "investigating",
                                    confirmed_by="dialog")).ok
        await me.refresh_once()
        _, mine = me.find("cart-api")[0]
        events = me.state.recent_events(source, "cart-api")
        lines = acted_by_others(events, source=source, rollout_id=mine.id, me=me.settings.actor,
                                now=datetime.now(UTC))
        assert len(lines) == 1
        assert lines[0].startswith("alice@bastion-2 paused this ") and lines[0].endswith(" ago: 'investigating'")
        # my own actions, and other rollouts, are not warnings
        assert acted_by_others(events, source=source, rollout_id=mine.id, me="alice@bastion-2",
                               now=datetime.now(UTC)) == []
        _, search = me.find("search-api")[0]
        assert acted_by_others(me.state.recent_events(source), source=source, rollout_id=search.id,
                               me=me.settings.actor, now=datetime.now(UTC)) == []
        # ten minutes later it is history, not a warning
        assert acted_by_others(events, source=source, rollout_id=mine.id, me=me.settings.actor,
                               now=datetime.now(UTC) + timedelta(minutes=11)) == []
