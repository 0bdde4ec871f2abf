"""A freeze this host holds (its server could not take it) stays held when the server later reports a narrower
freeze of its own (another operator froze one service there): promote of a service only this host's freeze covers
is still refused, nothing sent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from monotui.action_kinds import ActionKind
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.models import Strategy
from monotui.simulator.server import SimulatorServer

from .conftest import ACTOR


async def test_this_hosts_freeze_of_everything_is_held_beside_a_server_freeze_of_one_service(
        sim: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    for service in ("cart-api", "search-api"):
        sim.world.deploy(service, strategy=Strategy.CANARY)
    async with engine_for(sim.url) as engine:
        await engine.refresh_once()
        plan = engine.plan_freeze()
        sim.state.faults.error_fraction = 1.0  # the server cannot take the freeze: this host holds it
        result = await engine.execute_freeze(plan, "incident", confirmed_by="dialog")
        assert not result.ok
        sim.state.faults.error_fraction = 0.0
        [hold] = engine.holds()
        assert not hold.server and not hold.services
        sim.world.set_freeze("bob@bastion-2", "search errors", services=["search-api"])  # another operator
        await engine.refresh_once()
        assert any(h.server and h.services == ("search-api",) for h in engine.holds())
        cart = engine.state.rollout("prod", "cart-api")
        assert cart is not None
        sent = len(sim.state.mutating_requests())
        outcome = await engine.execute(engine.plan("prod", cart, ActionKind.PROMOTE), "go on")
        assert outcome.outcome == "refused", outcome.message()
        assert f"by {ACTOR}: incident" in (outcome.error or "")
        assert len(sim.state.mutating_requests()) == sent
    last = AuditLog(audit_path).read()[-1]
    assert last["action"] == "promote" and last["outcome"] == "refused" and last["actor"] == ACTOR
