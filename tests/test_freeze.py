"""Stop the line: `freeze` pauses every progressing rollout in scope (each pinned, each audited), the deploy API's
server holds the freeze itself (no new deploy, promotions refused for every client), monotui refuses promote,
promote-full and resume with nothing sent while rollback stays allowed, and `unfreeze` resumes exactly what the
freeze paused — through the engine and the command line, against the simulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from monotui.action_kinds import ActionKind
from monotui.config import Settings
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.models import Phase, Strategy
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World

from .conftest import ACTOR, make_world

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def world() -> World:
    # new deploys would start as the world moves, were it not frozen
    return make_world(deploy_interval=1.0, initial_deploys=0)


def stage(world: World) -> None:
    for service in ("cart-api", "search-api", "auth-api"):
        world.deploy(service, strategy=Strategy.CANARY)


def progressing(engine: Engine) -> list[str]:
    return sorted(r.service for _, r in engine.state.iter_rollouts() if r.phase is Phase.PROGRESSING)


def posted(sim: SimulatorServer) -> list[str]:
    return [f"{r.method} {r.path}" for r in sim.state.mutating_requests()]


async def test_a_freeze_pauses_everything_progressing_holds_the_server_and_unfreeze_resumes_exactly_that(
        sim: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    stage(sim.world)
    async with engine_for(sim.url) as engine:
        await engine.refresh_once()
        assert progressing(engine) == ["auth-api", "cart-api", "search-api"]
        plan = engine.plan_freeze()
        assert [p.rollout.service for p in plan.steps] == ["auth-api", "cart-api", "search-api"]
        assert all(p.spec.kind is ActionKind.PAUSE and p.pinned.revision == p.rollout.revision for p in plan.steps)
        result = await engine.execute_freeze(plan, "checkout errors", confirmed_by="yes-flag")
        assert result.ok, result.message()
        assert "frozen on the server" in result.message() and "3 of 3 rollout(s) paused" in result.message()

        await engine.refresh_once()  # within one poll nothing is progressing
        assert progressing(engine) == []
        [hold] = engine.holds()
        assert hold.server and hold.actor == ACTOR and hold.reason == "checkout errors"
        assert sim.world.freeze.frozen

        revisions = {r.service: r.revision for r in sim.world.rollouts()}
        for _ in range(40):  # time passes: the frozen platform starts no new deploy
            sim.world.step(0.5)
        assert {r.service: r.revision for r in sim.world.rollouts()} == revisions

        # a promote is refused with nothing sent; the refusal names the freeze
        sent = len(sim.state.mutating_requests())
        cart = engine.state.rollout("prod", "cart-api")
        assert cart is not None
        why = engine.frozen("prod", "cart-api", ActionKind.PROMOTE)
        assert why is not None and why.startswith("frozen since ") and f"by {ACTOR}: checkout errors" in why
        outcome = await engine.execute(engine.plan("prod", cart, ActionKind.RESUME))
        assert outcome.outcome == "refused" and "frozen since" in (outcome.error or "")
        assert len(sim.state.mutating_requests()) == sent, "nothing was sent"

        # mitigation is never blocked: a rollback goes through
        await engine.refresh_once()
        search = engine.state.rollout("prod", "search-api")
        assert search is not None
        rolled = await engine.execute(engine.plan("prod", search, ActionKind.ROLLBACK), "bad release")
        assert rolled.ok, rolled.message()

        await engine.refresh_once()
        unfreeze = engine.plan_unfreeze()
        # search-api was rolled back since: only what the freeze paused and is still paused at that revision
        assert sorted(p.rollout.service for p in unfreeze.steps) == ["auth-api", "cart-api"]
        assert any("search-api" in s for s in unfreeze.skipped)
        lifted = await engine.execute_freeze(unfreeze, confirmed_by="yes-flag")
        assert "2 of 2 rollout(s) resumed" in lifted.message(), lifted.message()
        assert not sim.world.freeze.frozen and engine.holds() == []
        await engine.refresh_once()
        assert progressing(engine) == ["auth-api", "cart-api"]
        resumed = [p for p in posted(sim) if p.endswith("/resume")]
        assert sorted(resumed) == ["POST /v1/rollouts/auth-api/actions/resume",
                                   "POST /v1/rollouts/cart-api/actions/resume"]

    records = AuditLog(audit_path).read()
    freeze = [r for r in records if r["action"] == "freeze"]
    assert [r["outcome"] for r in freeze] == ["intent", "done"]
    assert freeze[0]["actor"] == ACTOR and freeze[0]["reason"] == "checkout errors" and freeze[0]["time"]
    assert freeze[0]["shown"]["services"] == "every service" and freeze[0]["shown"]["held_by_server"] is True
    assert freeze[0]["shown"]["rollouts"] == ["auth-api", "cart-api", "search-api"]
    assert [r["outcome"] for r in records if r["action"] == "unfreeze"] == ["intent", "done"]
    assert sum(1 for r in records if r["action"] == "pause" and r["outcome"] == "done") == 3


async def test_a_rollout_that_changed_since_it_was_listed_is_refused_not_paused(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    stage(sim.world)
    async with engine_for(sim.url) as engine:
        await engine.refresh_once()
        plan = engine.plan_freeze()
        sim.world.deploy("cart-api", strategy=Strategy.CANARY)  # a new revision after the list was shown
        await engine.refresh_once()
        assert engine.freeze_target_changed(plan) is not None
        result = await engine.execute_freeze(plan, "incident", confirmed_by="yes-flag")
        assert not result.ok
        assert "2 of 3 rollout(s) paused" in result.message()
        assert "target changed since it was confirmed" in result.message()
        assert not any(p == "POST /v1/rollouts/cart-api/actions/pause" for p in posted(sim))


async def test_another_operator_sees_the_server_freeze_and_refuses_promote(
        sim: SimulatorServer, make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    stage(sim.world)
    async with Engine(make_settings(sim.url)) as alice:
        await alice.refresh_once()
        assert (await alice.execute_freeze(alice.plan_freeze(), "checkout errors", confirmed_by="dialog")).ok
    # bob: another host, another audit log, no state file of alice's
    bob_settings = make_settings(sim.url, actor="bob@bastion-2", audit_log=str(tmp_path / "bob" / "audit.log"))
    async with Engine(bob_settings) as bob:
        await bob.refresh_once()
        [hold] = bob.holds()
        assert hold.server and hold.actor == ACTOR
        sent = len(sim.state.mutating_requests())
        cart = bob.state.rollout("prod", "cart-api")
        assert cart is not None
        outcome = await bob.execute(bob.plan("prod", cart, ActionKind.RESUME), "go on")
        assert outcome.outcome == "refused" and f"by {ACTOR}: checkout errors" in (outcome.error or "")
        assert len(sim.state.mutating_requests()) == sent


async def test_a_freeze_of_one_service_holds_only_that_service(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    stage(sim.world)
    async with engine_for(sim.url) as engine:
        await engine.refresh_once()
        plan = engine.plan_freeze(services=["cart-api"])
        assert [p.rollout.service for p in plan.steps] == ["cart-api"]
        assert (await engine.execute_freeze(plan, "cart only", confirmed_by="dialog")).ok
        await engine.refresh_once()
        assert progressing(engine) == ["auth-api", "search-api"]
        assert sim.world.freeze.services == ["cart-api"]
        assert engine.frozen("prod", "cart-api", ActionKind.PROMOTE) is not None
        assert engine.frozen("prod", "search-api", ActionKind.PROMOTE) is None
        assert engine.frozen("prod", "cart-api", ActionKind.ROLLBACK) is None


async def test_read_only_refuses_freeze_and_unfreeze_like_any_action(
        sim: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    stage(sim.world)
    async with engine_for(sim.url, read_only=True) as engine:
        await engine.refresh_once()
        result = await engine.execute_freeze(engine.plan_freeze(), "incident", confirmed_by="dialog")
        assert not result.ok and "read-only" in result.message()
        assert engine.holds() == [] and not sim.world.freeze.frozen
    sim.world.set_freeze("alice@bastion-1", "incident")
    async with engine_for(sim.url, read_only=True) as engine:
        await engine.refresh_once()
        result = await engine.execute_freeze(engine.plan_unfreeze(), confirmed_by="dialog")
        assert not result.ok and "read-only" in result.message()
        assert sim.world.freeze.frozen
    assert posted(sim) == []
    assert {r["action"] for r in AuditLog(audit_path).read() if r["outcome"] == "refused"} >= {"freeze", "unfreeze"}


async def test_a_deploy_api_without_a_freeze_is_asked_once_and_the_freeze_is_kept_on_this_host(
        world: World, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    server = SimulatorServer(world, tick_interval=None, freeze=False)  # a deploy API from before the freeze
    stage(world)
    with server:
        async with engine_for(server.url) as engine:
            update, = await engine.refresh_once()
            assert update.ok
            await engine.refresh_once()
            asked = [f"{r.method} {r.path}" for r in server.state.requests if r.path == "/v1/freeze"]
            assert asked == ["GET /v1/freeze"], "asked once: a 404 means the server has no freeze"
            result = await engine.execute_freeze(engine.plan_freeze(), "incident", confirmed_by="dialog")
            assert result.ok and "are not held" in result.message()
            assert [r.method for r in server.state.requests if r.path == "/v1/freeze"] == ["GET"], "no PUT"
            [hold] = engine.holds()
            assert not hold.server
            assert (audit_path.parent / "audit.log.freeze").exists()
            cart = engine.state.rollout("prod", "cart-api")
            assert cart is not None
            outcome = await engine.execute(engine.plan("prod", cart, ActionKind.RESUME))
            assert outcome.outcome == "refused" and "frozen since" in (outcome.error or "")


# ---- the command line ----------------------------------------------------------------------------------------


def run_cli(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "monotui", *args, "--config", str(config)], capture_output=True,
                          text=True, env=env, timeout=60, stdin=subprocess.DEVNULL)


def write_config(path: Path, url: str, audit: Path, read_only: bool = False) -> Path:
    path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit}"\nread_only = {str(read_only).lower()}\n\n'
                    f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{url}"\n')
    return path


def test_the_command_line_freezes_refuses_a_promote_and_unfreezes(sim: SimulatorServer, tmp_path: Path,
                                                                   audit_path: Path) -> None:
    stage(sim.world)
    config = write_config(tmp_path / "c.toml", sim.url, audit_path)
    frozen = run_cli("freeze", "--yes", "--reason", "checkout errors", config=config)
    assert frozen.returncode == 0, frozen.stderr
    assert "pause cart-api (prod)" in frozen.stdout and "3 of 3 rollout(s) paused" in frozen.stdout
    status = json.loads(run_cli("status", "--json", config=config).stdout)
    assert status["freeze"]["prod"]["frozen"] and status["freeze"]["prod"]["held_by_server"]
    assert status["freeze"]["prod"]["reason"] == "checkout errors"
    assert set(status["freeze"]["prod"]) == {"frozen", "since", "actor", "reason", "services", "held_by_server",
                                             "server_freeze"}
    assert not [r for r in status["rollouts"] if r["phase"] == "Progressing"]

    assert "prod: ok  FROZEN since" in run_cli("status", config=config).stdout
    sent = len(sim.state.mutating_requests())
    promote = run_cli("promote", "cart-api", "--yes", config=config)
    assert promote.returncode == 1
    assert "refused: frozen since" in promote.stderr and f"by {ACTOR}: checkout errors" in promote.stderr
    assert len(sim.state.mutating_requests()) == sent, "nothing was sent"
    rollback = run_cli("rollback", "search-api", "--yes", config=config)
    assert rollback.returncode == 0, rollback.stderr

    unfrozen = run_cli("unfreeze", "--yes", config=config)
    assert unfrozen.returncode == 0, unfrozen.stdout + unfrozen.stderr
    assert "resume cart-api (prod)" in unfrozen.stdout and "not resumed: search-api" in unfrozen.stdout
    assert not sim.world.freeze.frozen
    assert json.loads(run_cli("status", "--json", config=config).stdout)["freeze"]["prod"]["frozen"] is False


def test_the_command_line_in_read_only_mode_refuses_to_freeze(sim: SimulatorServer, tmp_path: Path,
                                                              audit_path: Path) -> None:
    stage(sim.world)
    config = write_config(tmp_path / "c.toml", sim.url, audit_path, read_only=True)
    frozen = run_cli("freeze", "--yes", config=config)
    assert frozen.returncode == 1 and "read-only" in frozen.stdout + frozen.stderr
    unfrozen = run_cli("unfreeze", "--yes", "--read-only", config=config)
    assert unfrozen.returncode != 0
    assert sim.state.mutating_requests() == [] and not sim.world.freeze.frozen


async def test_a_server_that_fails_the_freeze_is_said_and_this_host_still_holds_it(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    stage(sim.world)
    async with engine_for(sim.url) as engine:
        await engine.refresh_once()
        plan = engine.plan_freeze()
        sim.state.faults.error_fraction = 1.0  # every answer a 503 from now on
        result = await engine.execute_freeze(plan, "incident", confirmed_by="dialog")
        assert not result.ok
        text = result.message()
        assert "source prod: the server's freeze unknown" in text and "monotui holds the freeze on this host" in text
        assert "0 of 3 rollout(s) paused; see above what was not" in text
        assert text.count("outcome unknown") == 3, text
        [hold] = engine.holds()
        assert not hold.server
        cart = engine.state.rollout("prod", "cart-api")
        assert cart is not None
        sim.state.faults.error_fraction = 0.0
        sent = len(sim.state.mutating_requests())
        outcome = await engine.execute(engine.plan("prod", cart, ActionKind.PROMOTE))
        assert outcome.outcome == "refused" and "frozen since" in (outcome.error or "")
        assert len(sim.state.mutating_requests()) == sent
