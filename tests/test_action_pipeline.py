"""Every mutating action goes through one pipeline: refusals, one request in flight per target, the intent on disk
before the request, an honest outcome, a read-back when the outcome is unknown, the outcome record.

Silences get what rollout actions and kill switches had (an in-flight guard, a read-back); a new kind of action
is a plan type and a send function and gets all of it; the messages name what is true. Real loopback servers:
a hostile Alertmanager and backend of our own, and the simulator behind a proxy that loses answers.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response

from monotui.action_kinds import ActionKind
from monotui.engine.audit import AuditLog, AuditRecord, Stage
from monotui.engine.core import Engine
from monotui.models import Phase, Strategy
from monotui.simulator.server import SimulatorServer

from .conftest import wait_until
from .hostile import HostileServer, json_answer
from .hostile_proxy import HostileProxy

ALERT = json.dumps([{"fingerprint": "f1", "labels": {"alertname": "HighErrorRate", "service": "cart-api"},
                     "status": {"state": "suppressed", "silencedBy": ["s9"]}}]).encode()


def alertmanager(url: str, **extra: Any) -> dict[str, Any]:
    return {"name": "am", "kind": "alertmanager", "url": url, "timeout": 2.0, "action_deadline": 5.0, **extra}


# ---- silences ------------------------------------------------------------------------------------------------


async def test_a_second_silence_of_a_service_waits_for_the_first(engine_for: Callable[..., Engine],
                                                                audit_path: Path) -> None:
    release = threading.Event()

    async def slow_silence(request: Request) -> Response:
        await asyncio.to_thread(release.wait, 10)
        return Response(b'{"silenceID": "s1"}', media_type="application/json")

    with HostileServer({"/api/v2/alerts": json_answer(ALERT), "/api/v2/silences": slow_silence}) as server:
        async with engine_for(alertmanager(server.url)) as engine:
            first = asyncio.create_task(engine.silence("am", "cart-api", 600, "deploying"))
            await wait_until(lambda: any(a.method == "POST" for a in server.asked), what="the first silence sent")
            ok, text = await engine.silence("am", "cart-api", 600, "deploying")
            release.set()
            assert await first == (True, "s1")
    assert not ok and "still in flight" in text and "nothing was sent" in text.lower()
    assert sum(a.method == "POST" for a in server.asked) == 1
    outcomes = [(r["action"], r["outcome"]) for r in AuditLog(audit_path).read()]
    assert outcomes == [("silence", "intent"), ("silence", "refused"), ("silence", "done")]


async def test_a_silence_whose_answer_is_lost_is_read_back(engine_for: Callable[..., Engine],
                                                          audit_path: Path) -> None:
    """A gateway error after Alertmanager may have acted: outcome unknown, and what the alerts show now."""
    routes = {"/api/v2/alerts": json_answer(ALERT), "/api/v2/silences": json_answer(b"<html>", status=504)}
    with HostileServer(routes) as server:
        async with engine_for(alertmanager(server.url)) as engine:
            ok, text = await engine.silence("am", "cart-api", 600, "deploying")
    assert not ok and "outcome unknown" in text
    assert "Now: 1 of 1 alert(s) of cart-api silenced" in text, text
    assert [r["outcome"] for r in AuditLog(audit_path).read()] == ["intent", "unknown"]


async def test_a_silence_in_read_only_mode_sends_nothing(engine_for: Callable[..., Engine],
                                                        audit_path: Path) -> None:
    with HostileServer({"/api/v2/alerts": json_answer(ALERT),
                        "/api/v2/silences": json_answer(b'{"silenceID": "s1"}')}) as server:
        async with engine_for(alertmanager(server.url, read_only=True)) as engine:
            ok, text = await engine.silence("am", "cart-api", 600, "deploying")
    assert not ok and "read-only" in text
    assert [a.method for a in server.asked if a.method != "GET"] == []
    assert [r["outcome"] for r in AuditLog(audit_path).read()] == ["refused"]


# ---- a new kind of action: a plan type and a send function ------------------------------------------------------


@dataclass(frozen=True)
class FreezePlan:
    """All a new mutating action needs to be: its target and how its audit records read."""

    source: str
    service: str
    idempotency_key: str = field(default_factory=lambda: uuid.uuid4().hex)
    resend: bool = False

    @property
    def guard(self) -> str:
        return f"freeze:{self.service}"

    def audit_record(self, stage: Stage, *, actor: str, reason: str | None, error: str | None,
                     confirmed_by: str | None, automatic: bool, answer: Any, now: str | None,
                     read_back: bool) -> AuditRecord:
        return AuditRecord(actor=actor, source=self.source, environment="", service=self.service, rollout="",
                           action="freeze", from_revision=None, to_revision=None, outcome=stage, reason=reason,
                           error=error, idempotency_key=self.idempotency_key, confirmed_by=confirmed_by)


async def test_a_new_action_is_a_plan_type_and_a_send_function(engine_for: Callable[..., Engine],
                                                               audit_path: Path) -> None:
    from monotui.engine.pipeline import Sender

    seen_intent: list[list[str]] = []

    def freeze(request: Request) -> Response:
        seen_intent.append([str(r["outcome"]) for r in AuditLog(audit_path).read()])
        return Response(b"{}", media_type="application/json")

    routes = {"/freeze": freeze, "/v1/rollouts": json_answer(b'{"rollouts": []}')}
    with HostileServer(routes) as server:
        async def send(plan: FreezePlan, reason: str | None) -> str:
            async with httpx.AsyncClient() as client:
                (await client.post(f"{server.url}/freeze", json={"service": plan.service})).raise_for_status()
            return "frozen"

        async with engine_for(server.url) as engine:
            plan = FreezePlan("prod", "cart-api")
            result = await engine.pipeline.run(plan, Sender(send=send), reason="incident 42",
                                               confirmed_by="dialog")
    assert (result.outcome, result.answer) == ("done", "frozen")
    assert seen_intent == [["intent"]], "the intent was on disk before the request left"
    records = AuditLog(audit_path).read()
    assert [(r["action"], r["outcome"], r["reason"]) for r in records] == [
        ("freeze", "intent", "incident 42"), ("freeze", "done", "incident 42")]


# ---- messages that say what is true -----------------------------------------------------------------------------


async def test_a_read_back_past_the_last_step_never_says_step_n_plus_1_of_n(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    """Promote fully with its answer lost: the read-back finds every step done, and says so as the Step column
    does (the plugin's index/steps: n/n)."""
    sim.world.deploy("cart-api", strategy=Strategy.CANARY, manual_gate=True)
    for _ in range(200):
        sim.world.step()
        if sim.world.rollout("cart-api").phase is Phase.PAUSED:
            break
    with HostileProxy(sim.url, "close") as proxy:
        async with engine_for({"name": "prod", "kind": "http", "url": proxy.url, "poll_interval": 60.0,
                               "timeout": 2.0}) as engine:
            await engine.refresh_once()
            rollout = engine.state.rollout("prod", "cart-api")
            assert rollout is not None
            outcome = await engine.execute(engine.plan("prod", rollout, ActionKind.PROMOTE_FULL))
    after = sim.world.rollout("cart-api")
    steps = len(after.steps)
    assert after.current_step == steps, "the simulator acted: every step done"
    assert outcome.outcome == "unknown" and outcome.now, outcome.message()
    assert f"{steps + 1}/{steps}" not in outcome.message(), outcome.message()
    assert f"step {steps}/{steps}" in (outcome.now or "")


async def test_an_audit_folder_that_is_a_file_is_named_as_such(
        sim: SimulatorServer, engine_for: Callable[..., Engine], tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("not a folder")
    async with engine_for(sim.url, audit_log=str(blocker / "audit.log")) as engine:
        await engine.refresh_once()
        rollout = engine.state.rollout("prod", "cart-api")
        assert rollout is not None
        outcome = await engine.execute(engine.plan("prod", rollout, ActionKind.ROLLBACK))
    assert outcome.outcome == "refused"
    assert "File exists" not in outcome.message(), outcome.message()
    assert f"{blocker} is a file, not a folder" in outcome.message(), outcome.message()
    assert sim.state.mutating_requests() == [], "nothing was sent"
