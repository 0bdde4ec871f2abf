"""Wave 3's attacks that found a hole (issue: attack the demo's child process, the bulk poll's "same body", the
full list compared in steps, the line-by-line panels): each test failed before its fix."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import Response

from monotui.engine.core import Engine
from monotui.models import ActionKind, Phase

from .conftest import wait_until
from .hostile import HostileServer, json_answer
from .terminal import Terminal
from .test_demo_process import ROOT, env, first_service  # noqa: F401  # env: the fixture
from .test_demo_process import wait_until as wait_sync
from .test_same_body import no_etag_server, rollouts_body
from .ui_helpers import make_app, panel_text, rows_loaded


def _paused_answer(rollout_id: str) -> bytes:
    """An action's answer saying the rollout is paused (what the list will never say)."""
    row = json.loads(rollouts_body(3, paused=rollout_id))["rollouts"]
    return json.dumps({"rollout": next(r for r in row if r["id"] == rollout_id)}).encode()


async def test_an_action_answer_the_unchanged_list_contradicts_is_corrected_by_the_next_poll(
        engine_for: Callable[..., Engine]) -> None:
    """A server without ETags answers a pause with "Paused" but its list (byte for byte as before) still says
    Healthy: the list is the truth once it is read again, as before bulk bodies were skipped when identical. The
    skip kept the action's answer on screen for as long as the list did not change."""
    with no_etag_server(rollouts_body(3)) as server:
        server.routes["/v1/rollouts/svc-1/actions/pause"] = json_answer(_paused_answer("svc-1"))
        async with engine_for(server.url) as engine:
            await engine.refresh_once()
            await engine.refresh_once()  # the same list again: skipped
            rollout = engine.state.rollout("prod", "svc-1")
            assert rollout is not None and rollout.phase is Phase.HEALTHY
            outcome = await engine.execute(engine.plan("prod", rollout, ActionKind.PAUSE), "test")
            assert outcome.ok and engine.state.rollout("prod", "svc-1").phase is Phase.PAUSED, "shown at once"
            polls = sum(1 for a in server.asked if a.path == "/v1/rollouts")
            await engine.refresh_once()
            assert sum(1 for a in server.asked if a.path == "/v1/rollouts") == polls + 1
            assert engine.state.rollout("prod", "svc-1").phase is Phase.HEALTHY, "the list's word shown again"


def _children(pid: int) -> dict[int, str]:
    """The running processes whose parent is `pid`: pid → command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if entry.name.isdigit() and int(ppid) == pid and state != "Z":
            found[int(entry.name)] = command
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_demo_ended_by_sigterm_or_sighup_stops_prometheus_and_alertmanager_too(
        sig: signal.Signals, env: dict[str, str]) -> None:  # noqa: F811
    """`kill PID`, or the tmux pane / SSH session closed (SIGHUP): the demo ends as with `q`. It used to die on the
    spot: the simulator went (its stdin closed) but Prometheus (and Alertmanager) ran on, orphans."""
    from monotui.simulator.prometheus import find_prometheus

    if find_prometheus() is None:
        pytest.skip("prometheus is not installed (.ci/run installs it)")
    seed = 7391
    with Terminal(["demo", "--prometheus", "--seed", str(seed)], env, cwd=ROOT) as term:
        term.wait_for("PRODUCTION", first_service(seed), timeout=120)
        children = _children(term.proc.pid)
        assert any("prometheus" in c for c in children.values()), children
        term.proc.send_signal(sig)
        term.wait_exit(timeout=60)
        wait_sync(lambda: not any(Path(f"/proc/{pid}/cmdline").exists()
                                   and Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children),
                   "every child of the demo stopped", timeout=30)
        assert term.text.count("the simulated production listens on") == 2, "ended as after q"


async def test_a_refresh_during_a_poll_waits_for_it_so_the_older_list_is_never_applied_last(
        engine_for: Callable[..., Engine]) -> None:
    """The `r` key (or the poll after a silence) while the source's own poll is under way: two polls of one source
    at once. The first one's list (3,000 rows, compared in steps) was applied after the second's newer one (100
    rows), and the source then skipped the newer list as already seen: 2,900 rollouts the server no longer has
    stayed on screen. Polls of one source now take turns."""
    old, new = rollouts_body(3000), rollouts_body(100)
    asked: list[int] = []
    in_flight = [0, 0]  # now, most at once
    second = threading.Event()

    async def rollouts(request: Request) -> Response:
        asked.append(len(asked))
        number = len(asked)
        in_flight[0] += 1
        in_flight[1] = max(in_flight)
        try:
            if number == 1:  # held until another list request comes (it never does once polls take turns)
                second.clear()
                await asyncio.to_thread(second.wait, 3)
                return Response(old, media_type="application/json")
            second.set()
            return Response(new, media_type="application/json")
        finally:
            in_flight[0] -= 1

    with no_etag_server(b"") as server:
        server.routes["/v1/rollouts"] = rollouts
        # a request deadline well past the 3 s the first list is held
        source = {"name": "prod", "kind": "http", "url": server.url, "poll_interval": 0.1, "timeout": 20.0}
        async with engine_for(source) as engine:
            await asyncio.gather(engine.refresh_once(), engine.refresh_once())
            assert len(engine.state.sources["prod"].rollouts) == 100, "the newer list shown"
            assert len(asked) == 2 and in_flight[1] == 1, "one list request of the source at a time"
            await engine.refresh_once()  # the same list again (skipped): still the newer one
            assert len(engine.state.sources["prod"].rollouts) == 100


async def test_a_firing_alerts_age_in_the_events_panel_moves_with_the_clock(
        engine_for: Callable[..., Engine]) -> None:
    """The events panel is shown again only on news (a new event, alerts that changed): an alert line's age
    "(10m)" stayed as it was while the alert kept firing for hours."""
    now = [datetime.now(UTC)]
    alert = [{"fingerprint": "f1", "labels": {"alertname": "HighErrors", "service": "svc-1", "severity": "page"},
              "annotations": {"summary": "errors up"}, "startsAt": (now[0] - timedelta(minutes=10)).isoformat(),
              "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}}]
    with no_etag_server(rollouts_body(3)) as deploy, \
            HostileServer({"/api/v2/alerts": json_answer(json.dumps(alert).encode())}) as alertmanager:
        engine = engine_for(deploy.url, {"name": "am", "kind": "alertmanager", "url": alertmanager.url,
                                         "poll_interval": 0.1, "timeout": 2.0})
        app = make_app(engine, clock=lambda: now[0])
        async with app.run_test(size=(120, 40)):
            await rows_loaded(app, 3)

            def alert_line() -> str:
                return next((line for line in panel_text(app, "events").splitlines() if "HighErrors" in line), "")

            await wait_until(lambda: "(10m)" in alert_line(), timeout=30, what="the alert shown, 10 minutes old")
            now[0] += timedelta(hours=3)
            await wait_until(lambda: "(3h)" in alert_line(), timeout=30, what="the alert's age moved")
