"""The engine: snapshots from polls, backoff and recovery, actions through the audit log, read-only."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections.abc import Callable
from pathlib import Path

from monotui.action_kinds import ActionKind
from monotui.engine.attention import Attention
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.engine.polling import MAX_BACKOFF_S, backoff_delay
from monotui.models import Phase, Strategy
from monotui.simulator.server import Faults, SimulatorServer

from .conftest import ACTOR, wait_until


async def test_refresh_builds_a_snapshot_with_exceptions_first(sim: SimulatorServer,
                                                               engine_for: Callable[..., Engine]) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY, manual_gate=True)
    sim.world.deploy("search-api", bad=True, strategy=Strategy.CANARY)
    sim.world.deploy("auth-api", strategy=Strategy.CANARY)
    for _ in range(120):
        sim.world.step()
        if sim.world.rollout("cart-api").phase is Phase.PAUSED:
            break
    async with engine_for(sim.url) as engine:
        [update] = await engine.refresh_once()
        assert update.ok
        views = engine.state.views()
        assert len(views) == 8
        ranks = [v.attention for v in views]
        assert ranks == sorted(ranks)
        # the bad release changed just before its service breached: a suspect, first of all
        assert views[0].rollout.service == "search-api" and views[0].attention is Attention.SUSPECT
        assert views[1].rollout.service == "cart-api" and views[1].attention is Attention.WAITING_FOR_HUMAN
        assert engine.state.events, "events arrive with the first poll"


def test_backoff_grows_then_caps() -> None:
    rng = random.Random(0)
    delays = [backoff_delay(2.0, n, rng) for n in range(0, 10)]
    assert delays[0] == 2.0
    growing = delays[1:6]
    assert all(later > earlier for earlier, later in itertools.pairwise(growing))
    assert max(delays) <= MAX_BACKOFF_S * 1.1


async def test_a_failing_source_goes_stale_keeps_its_rows_and_recovers_by_itself(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    async with engine_for(sim.url) as engine:
        updates: list = []

        async def consume() -> None:
            async for update in engine.updates("prod"):
                updates.append(update)

        task = asyncio.create_task(consume())
        await wait_until(lambda: any(u.ok for u in updates))
        sim.state.faults = Faults(error_fraction=1.0)
        await wait_until(lambda: engine.state.status("prod").failures >= 3)
        status = engine.state.status("prod")
        assert status.stale and "503" in (status.error or "")
        assert len(engine.state.views()) == 8, "rows of a failing source stay, marked stale"
        assert all(v.stale for v in engine.state.views())
        failed = [u for u in updates if not u.ok]
        assert failed[-1].next_poll_in > failed[0].next_poll_in, "backs off"
        sim.state.faults = Faults()
        await wait_until(lambda: engine.state.status("prod").state == "ok", timeout=5)
        assert not any(v.stale for v in engine.state.views())
        task.cancel()


async def test_an_action_is_audited_before_it_returns(sim: SimulatorServer, engine_for: Callable[..., Engine],
                                                      audit_path: Path) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    async with engine_for(sim.url) as engine:
        await engine.refresh_once()
        rollout = engine.state.rollout("prod", "cart-api")
        assert rollout is not None
        plan = engine.plan("prod", rollout, ActionKind.PAUSE)
        outcome = await engine.execute(plan, "  error spike  ")
        assert outcome.ok
        assert engine.state.rollout("prod", "cart-api").phase is Phase.PAUSED, "shown at once"
        [record] = AuditLog(audit_path).outcomes()
        assert record["actor"] == ACTOR and record["action"] == "pause" and record["outcome"] == "done"
        assert record["service"] == "cart-api" and record["source"] == "prod"
        assert record["reason"] == "error spike"
        assert record["from_revision"] == rollout.revision and record["environment"] == rollout.environment
        assert record["idempotency_key"] == plan.idempotency_key
        [posted] = sim.state.mutating_requests()
        assert posted.headers["idempotency-key"] == plan.idempotency_key
        assert json.loads(posted.body)["actor"] == ACTOR


async def test_failed_and_refused_actions_are_audited_too(sim: SimulatorServer, engine_for: Callable[..., Engine],
                                                          audit_path: Path) -> None:
    async with engine_for(sim.url) as engine:
        await engine.refresh_once()
        healthy = engine.state.rollout("prod", "cart-api")
        assert healthy is not None
        outcome = await engine.execute(engine.plan("prod", healthy, ActionKind.PROMOTE))
        assert outcome.outcome == "refused" and "409" in (outcome.error or ""), "a 4xx: the server said no"
    async with engine_for(sim.url, read_only=True) as engine:
        await engine.refresh_once()
        outcome = await engine.execute(engine.plan("prod", healthy, ActionKind.ROLLBACK))
        assert outcome.outcome == "refused"
    records = AuditLog(audit_path).outcomes()
    assert [(r["action"], r["outcome"]) for r in records] == [("promote", "refused"), ("rollback", "refused")]
    assert "409" in str(records[0]["error"]) and "read-only" in str(records[1]["error"])
    assert len(sim.state.mutating_requests()) == 1, "read-only sent nothing"


async def test_auth_failure_is_audited_as_refused(engine_for: Callable[..., Engine], audit_path: Path) -> None:
    from .conftest import make_world

    with SimulatorServer(make_world(), token="right", tick_interval=None) as server:
        server.state.token = None  # let the poll in, then demand a token for the action
        async with engine_for(server.url) as engine:
            await engine.refresh_once()
            rollout = engine.state.rollout("prod", "cart-api")
            server.state.token = "right"
            outcome = await engine.execute(engine.plan("prod", rollout, ActionKind.ROLLBACK))
    assert outcome.outcome == "refused"
    assert AuditLog(audit_path).outcomes()[0]["outcome"] == "refused"


async def test_a_lost_answer_is_outcome_unknown(sim: SimulatorServer, engine_for: Callable[..., Engine],
                                                audit_path: Path) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    source = {"name": "prod", "kind": "http", "url": sim.url, "timeout": 0.3}
    async with engine_for(source) as engine:
        await engine.refresh_once()
        sim.state.faults = Faults(hang=True)
        rollout = engine.state.rollout("prod", "cart-api")
        outcome = await engine.execute(engine.plan("prod", rollout, ActionKind.PAUSE))
    assert outcome.outcome == "unknown" and "same Idempotency-Key" in outcome.message()
    assert AuditLog(audit_path).outcomes()[0]["outcome"] == "unknown"


async def test_a_second_action_on_the_same_rollout_while_one_is_in_flight_is_refused(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    async with engine_for(sim.url) as engine:
        await engine.refresh_once()
        rollout = engine.state.rollout("prod", "cart-api")
        sim.state.faults = Faults(latency_s=0.3)
        first, second = await asyncio.gather(
            engine.execute(engine.plan("prod", rollout, ActionKind.PAUSE)),
            engine.execute(engine.plan("prod", rollout, ActionKind.ABORT)),
        )
    assert first.ok and second.outcome == "refused" and "in flight" in (second.error or "")
    assert len(sim.state.mutating_requests()) == 1
