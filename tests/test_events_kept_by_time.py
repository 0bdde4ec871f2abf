"""Events are kept for `events_window` seconds, not by a count: thousands of events of the last hours stay (the
events panel and the timeline read them), those older than the window go; alerts firing and resolving, a server's
freeze set and lifted, and breaches without a series are seen change between polls; the audit log's attempts are one
entry each, with the actor and the outcome."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from monotui.config import Settings
from monotui.engine.state import ProductionState
from monotui.engine.timeline import build
from monotui.models import Alert, Event, EventKind, Freeze, ServiceHealth
from monotui.providers.base import PollResult
from monotui.ui.event_filter import EventFilter

START = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def state_at(settings: Settings, now: list[datetime]) -> ProductionState:
    state = ProductionState(settings)
    state.clock = lambda: now[0]
    return state


def events(first_id: int, count: int, at: datetime, service: str = "cart-api") -> list[Event]:
    return [Event(id=first_id + i, time=at + timedelta(seconds=i), kind=EventKind.STEP_ADVANCED, service=service,
                  rollout_id=service, revision=7, actor="deploy-bot", message=f"step {i}") for i in range(count)]


def test_thousands_of_events_within_the_window_are_kept_and_older_ones_go(
        make_settings: Callable[..., Settings]) -> None:
    now = [START]
    state = state_at(make_settings("http://127.0.0.1:9", events_window=2 * 3600), now)
    state.apply_poll("prod", PollResult(rollouts=None, events=events(1, 3000, START - timedelta(hours=1))))
    assert len(state.events) == 3000  # far more than the 500 a count kept
    now[0] = START + timedelta(minutes=90)  # the first 1,800 are now over two hours old
    state.apply_poll("prod", PollResult(rollouts=None, events=events(5000, 1, now[0], "search-api")))
    assert len(state.events) == 3001 - 1800
    assert state.events[0].event.time >= now[0] - timedelta(hours=2)
    entries = build(state, [], now[0] - timedelta(hours=2))
    assert len([e for e in entries if e.kind == "step"]) == 1201
    # a row's events come from the per-service index, as the time bound left them
    assert [e.event.id for e in state.recent_events("prod", "cart-api", limit=3)] == [3000, 2999, 2998]
    assert [e.event.id for e in state.recent_events("prod", "search-api")] == [5000]
    now[0] += timedelta(hours=3)
    state.apply_poll("prod", PollResult(rollouts=None, events=events(6000, 1, now[0], "auth-api")))
    assert state.recent_events("prod", "cart-api") == [] and len(state.events) == 1


def test_the_events_panel_filter_shows_a_service_s_events_newest_first(
        make_settings: Callable[..., Settings]) -> None:
    now = [START]
    state = state_at(make_settings("http://127.0.0.1:9"), now)
    mixed = [*events(1, 700, START - timedelta(minutes=30)),
             *events(1000, 5, START - timedelta(minutes=1), "search-api")]
    state.apply_poll("prod", PollResult(rollouts=None, events=mixed))
    view = EventFilter(service="SEARCH")
    shown = view.recent(state, 200)
    assert [e.event.id for e in shown] == [1004, 1003, 1002, 1001, 1000]
    assert len(EventFilter(service="cart").recent(state, 200)) == 200  # the panel's own limit


def test_alerts_freezes_and_breaches_are_seen_change(make_settings: Callable[..., Settings]) -> None:
    now = [START]
    state = state_at(make_settings("http://127.0.0.1:9"), now)
    alert = Alert(fingerprint="f1", name="HighErrorRatio", service="cart-api", severity="page",
                  summary="errors | up", starts_at=START - timedelta(seconds=40))
    state.apply_poll("prod", PollResult(rollouts=None, alerts=[alert],
                                        freeze=Freeze(frozen=True, since=START - timedelta(seconds=20),
                                                      actor="alice@bastion", reason="checkout errors"),
                                        health=[ServiceHealth(service="cart-api", error_ratio=0.2, p99_ms=100,
                                                              rps=10)]))
    now[0] = START + timedelta(minutes=2)
    state.apply_poll("prod", PollResult(rollouts=None, alerts=[], freeze=Freeze(frozen=False),
                                        health=[ServiceHealth(service="cart-api", error_ratio=0.001, p99_ms=100,
                                                              rps=10)]))
    entries = build(state, [], START - timedelta(hours=1))
    assert [(e.kind, e.at) for e in entries] == [
        ("alert", START - timedelta(seconds=40)), ("freeze", START - timedelta(seconds=20)), ("breach", START),
        ("recovery", now[0]), ("alert-resolved", now[0]), ("unfreeze", now[0])]
    freeze = entries[1]
    assert freeze.who == "alice@bastion" and "checkout errors" in freeze.what and "every service" in freeze.what
    assert "errors | up" in entries[0].what and entries[0].source == "prod"


def test_each_audited_attempt_is_one_entry_with_its_actor_and_outcome(
        make_settings: Callable[..., Settings]) -> None:
    state = state_at(make_settings("http://127.0.0.1:9"), [START])
    t = (START - timedelta(minutes=5)).isoformat()
    later = (START - timedelta(minutes=4)).isoformat()
    records: list[dict[str, object]] = [
        {"actor": "alice@b", "source": "prod", "service": "cart-api", "action": "rollback", "from_revision": 13,
         "outcome": "intent", "reason": "bad canary", "idempotency_key": "k1", "time": t},
        {"actor": "alice@b", "source": "prod", "service": "cart-api", "action": "rollback", "from_revision": 13,
         "outcome": "done", "idempotency_key": "k1", "time": later},
        {"actor": "bob@b", "source": "flags", "service": "cart-api", "action": "flag-off", "outcome": "intent",
         "flag": {"name": "cart-api.fast"}, "idempotency_key": "k2", "time": later},
        {"actor": "guard", "source": "prod", "service": "search-api", "action": "pause", "from_revision": 3,
         "outcome": "refused", "error": "frozen", "automatic": True, "idempotency_key": "k3", "time": later},
        {"actor": "carol@b", "source": "prod", "service": "", "action": "freeze", "outcome": "done",
         "shown": {"services": "every service"}, "reason": "stop\nthe | line", "idempotency_key": "k4",
         "time": later},
        {"garbage": True},
    ]
    entries = build(state, records, START - timedelta(hours=1))
    assert [(e.kind, e.who) for e in entries] == [
        ("action", "alice@b"), ("action", "bob@b"), ("action", "guard (automatic)"), ("freeze", "carol@b")]
    rollback, flag, pause, freeze = entries
    assert rollback.at == START - timedelta(minutes=4) and rollback.what.startswith("monotui rollback cart-api r13")
    assert "done" in rollback.what and "bad canary" in rollback.what
    assert "flag cart-api.fast" in flag.what and "no outcome recorded" in flag.what
    assert "refused" in pause.what and "(frozen)" in pause.what
    assert freeze.service == "" and "every service" in freeze.what and "\n" not in freeze.what
    # a production-wide entry belongs to every service's timeline
    assert freeze in build(state, records, START - timedelta(hours=1), service="search-api", exact=True)
