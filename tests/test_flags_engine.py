"""Flags in the engine, against the simulator (deploys, health and its Unleash Admin API on one real HTTP server)
and against a real Unleash (flags) beside the simulator (deploys and health): a flip is an event and, when its
service breaches, a suspect with its evidence and actor; the kill switch is sent once, audited write-ahead, and
refused when the flag changed since it was confirmed or in read-only mode."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from monotui.engine import Engine
from monotui.engine.attention import Attention
from monotui.models import EventKind, FlagChangeKind
from tests.flag_servers import TOKEN, Setup, flag_sim, flag_world, setup_fixture  # noqa: F401  (fixtures)


@pytest.fixture
async def engine(setup: Setup, make_settings: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
                 request: pytest.FixtureRequest) -> AsyncIterator[Engine]:
    monkeypatch.setenv("MONOTUI_TEST_TOKEN", TOKEN)
    monkeypatch.setenv("MONOTUI_TEST_UNLEASH_TOKEN", setup.token)
    overrides = getattr(request, "param", {})
    settings = make_settings(
        {"name": "prod", "kind": "http", "url": setup.sim.url, "token_env": "MONOTUI_TEST_TOKEN", "timeout": 30},
        {"name": "flags", "kind": "unleash", "url": setup.flags_url, "token_env": "MONOTUI_TEST_UNLEASH_TOKEN",
         "timeout": 30}, **overrides)
    async with Engine(settings) as e:
        await refresh(e)
        yield e


async def refresh(engine: Engine) -> None:
    updates = await engine.refresh_once()
    assert all(u.ok for u in updates), [u.error for u in updates]


def breach(setup: Setup) -> None:
    """The flag's service starts failing (what a bad flag does), as the deploy source's health shows."""
    setup.world.services[setup.service].base_error = 0.5
    setup.world.step(1.0)


async def test_a_flip_is_an_event_then_a_suspect_with_evidence_and_actor(setup: Setup, engine: Engine) -> None:
    assert engine.state.flag("flags", setup.flag) is not None
    # (the real Unleash lives for the session: other tests' flags of this service may be there too)
    assert setup.flag in [f.name for _, f in engine.state.flags_of(setup.service)]
    assert setup.flag in {f.name for _, f in engine.state.all_flags()}
    setup.admin.toggle(setup.flag, True)  # a colleague turns it on
    await refresh(engine)
    events = engine.state.recent_events(service=setup.service)
    flips = [e for e in events if e.event.kind is EventKind.FLAG and e.event.rollout_id == setup.flag]
    # newest first: the flip, then the strategy added at creation (history, read by the first poll)
    assert [e.event.message for e in flips] == [f"{setup.flag}: enabled", f"{setup.flag}: strategy added: rollout 25%"]
    assert flips[0].source == "flags"
    assert flips[0].event.actor == "admin" and flips[0].event.message == f"{setup.flag}: enabled"
    assert flips[0].flag_change is not None and flips[0].flag_change.kind is FlagChangeKind.ENABLED
    recent = engine.state.recent_flag_change(setup.service)
    assert recent is not None and recent.flag == setup.flag
    assert engine.state.suspects() == []  # healthy: nothing is a suspect yet
    mine = [(s, f) for s, f in engine.state.flags_of(setup.service) if f.name == setup.flag]
    assert len(mine) == 1 and mine[0][0] == "flags"

    breach(setup)
    await refresh(engine)
    suspects = [s for s in engine.state.suspects() if s.kind == "flag" and s.flag and s.flag.name == setup.flag]
    assert len(suspects) == 1
    suspect = suspects[0]
    assert suspect.flag is not None and suspect.flag.name == setup.flag and suspect.service == setup.service
    evidence = suspect.evidence
    assert evidence.figure == "error ratio" and evidence.actor == "admin"
    assert evidence.before is not None and evidence.before < 0.05 <= evidence.now
    assert evidence.changed_at == recent.time and evidence.breach_at == engine.state.breach_since[setup.service]
    view = next(v for v in engine.state.views() if v.rollout.service == setup.service)
    assert view.attention is Attention.SUSPECT and setup.flag in [s.flag.name for s in view.flag_suspects]
    assert engine.state.views()[0].rollout.service == setup.service  # sorts first, as a suspect rollout does


def audit_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_the_kill_switch_is_audited_before_it_is_sent(setup: Setup, engine: Engine, audit_path: Path) -> None:
    setup.admin.toggle(setup.flag, True)
    await refresh(engine)
    flag = engine.state.flag("flags", setup.flag)
    assert flag is not None and flag.enabled
    plan = engine.plan_flag("flags", flag, False)
    assert (plan.project, plan.environment, plan.from_state, plan.to_state, plan.last_changed_by) == (
        "default", "production", "on (rollout 25%)", "off", "admin")
    outcome = await engine.execute_flag(plan, "errors up", confirmed_by="dialog")
    assert outcome.ok, outcome.message()
    assert not setup.admin.enabled(setup.flag, "production")  # the server has it off
    assert outcome.flag is not None and not outcome.flag.enabled
    shown = engine.state.flag("flags", setup.flag)
    assert shown is not None and not shown.enabled  # shown at once, before the next poll
    records = audit_lines(audit_path)
    assert [r["outcome"] for r in records] == ["intent", "done"]
    intent = records[0]
    assert intent["action"] == "flag-off" and intent["confirmed_by"] == "dialog" and intent["reason"] == "errors up"
    assert intent["flag"]["name"] == setup.flag and intent["flag"]["project"] == "default"
    assert (intent["flag"]["from"], intent["flag"]["to"]) == ("on (rollout 25%)", "off")
    assert intent["environment"] == "production" and intent["service"] == setup.service
    assert records[1]["idempotency_key"] == intent["idempotency_key"]


async def test_the_kill_switch_is_refused_when_the_flag_changed_since_confirmation(
        setup: Setup, engine: Engine, audit_path: Path) -> None:
    setup.admin.toggle(setup.flag, True)
    await refresh(engine)
    flag = engine.state.flag("flags", setup.flag)
    assert flag is not None
    plan = engine.plan_flag("flags", flag, False)
    setup.admin.set_rollout(setup.flag, 60)  # a colleague moves it while the dialog is open
    outcome = await engine.execute_flag(plan, confirmed_by="dialog")
    assert outcome.outcome == "refused" and "rollout 60%" in (outcome.error or "")
    assert setup.admin.enabled(setup.flag, "production")  # nothing was sent: still on
    assert [r["outcome"] for r in audit_lines(audit_path)] == ["intent", "refused"]
    # once the engine has seen the change, it refuses before even writing an intent
    await refresh(engine)
    assert engine.flag_target_changed(plan) is not None
    again = await engine.execute_flag(plan, confirmed_by="dialog")
    assert again.outcome == "refused" and "changed since it was confirmed" in (again.error or "")
    assert [r["outcome"] for r in audit_lines(audit_path)] == ["intent", "refused", "refused"]


@pytest.mark.parametrize("engine", [{"read_only": True}], indirect=True)
async def test_read_only_refuses_the_kill_switch_and_sends_nothing(
        setup: Setup, engine: Engine, audit_path: Path) -> None:
    setup.admin.toggle(setup.flag, True)
    await refresh(engine)
    flag = engine.state.flag("flags", setup.flag)
    assert flag is not None
    events_before = setup.admin.event_ids(setup.flag)
    outcome = await engine.execute_flag(engine.plan_flag("flags", flag, False), confirmed_by="dialog")
    assert outcome.outcome == "refused" and "read-only" in (outcome.error or "")
    assert setup.admin.enabled(setup.flag, "production")
    assert setup.admin.event_ids(setup.flag) == events_before  # the server received no change
    assert [r["outcome"] for r in audit_lines(audit_path)] == ["refused"]


@pytest.mark.parametrize("engine", [{"protected_flags": ["placeholder"]}], indirect=True)
async def test_protected_flags_are_named_canonically(setup: Setup, engine: Engine) -> None:
    flag = engine.state.flag("flags", setup.flag)
    assert flag is not None and not engine.flag_protected(flag)
    engine.settings.protected_flags.append(setup.flag.replace("-", "\u2011") + "\u200b")  # a look-alike
    assert engine.flag_protected(flag) and engine.plan_flag("flags", flag, False).protected


def test_the_first_polls_history_is_who_changed_last_not_news(make_settings: Callable[..., Any]) -> None:
    """The first poll reads back up to `history` changes, some of them days old: only those of the last 15 minutes
    are events (the events panel is not buried under old flips)."""
    from datetime import UTC, datetime, timedelta

    from monotui.engine.state import ProductionState
    from monotui.models import Flag, FlagChange
    from monotui.providers.base import PollResult

    settings = make_settings({"name": "flags", "kind": "unleash", "url": "http://127.0.0.1:9"})
    state = ProductionState(settings)
    now = datetime.now(UTC)

    def change(id_: int, ago: timedelta) -> FlagChange:
        return FlagChange(id=id_, time=now - ago, kind=FlagChangeKind.ENABLED, flag="f", project="default",
                          environment="production", service="cart-api", actor="dana", summary="enabled")

    flag = Flag(name="f", project="default", environment="production", enabled=True, service="cart-api")
    state.apply_poll("flags", PollResult(None, flags=[flag], flag_changes=[change(1, timedelta(days=2)),
                                                                            change(2, timedelta(minutes=3))]))
    assert [e.event.id for e in state.recent_events()] == [2]
    state.apply_poll("flags", PollResult(None, flags=[flag], flag_changes=[change(3, timedelta(days=1))]))
    assert [e.event.id for e in state.recent_events()] == [3, 2]  # after the first poll, every change is news


async def test_a_kill_switch_left_without_outcome_is_never_sent_again_by_itself(
        setup: Setup, engine: Engine, make_settings: Callable[..., Any], audit_path: Path) -> None:
    """An intent with no outcome (monotui killed in flight) is resent only for rollouts, whose APIs take an
    Idempotency-Key; a flag's state says what happened."""
    setup.admin.toggle(setup.flag, True)
    await refresh(engine)
    flag = engine.state.flag("flags", setup.flag)
    assert flag is not None
    plan = engine.plan_flag("flags", flag, False)
    engine._record_flag(plan, "intent", "killed in flight", None, "dialog")  # as a process killed mid-request
    async with Engine(engine.settings) as again:
        assert again.unresolved == []
        await again.refresh_once()
        assert again.adopt_unresolved() == []
    assert setup.admin.enabled(setup.flag, "production")  # nothing was sent
