"""The kill switch tells the truth when the flag server or the network misbehaves: a toggle that arrived is never
reported as not sent, one answered OK but not made is not `done`, a flag that changed since it was confirmed
(its state or any strategy's constraints) is refused with nothing sent, the intent is on disk before the toggle
leaves, one toggle per flag at a time, and one unreadable flag does not take the others' kill switch away.
Real loopback servers only: the simulator's Unleash Admin API and proxies of our own in front of it
(tests/flag_toggle_servers.py)."""

from __future__ import annotations

import asyncio
import io
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from monotui.cli import main
from monotui.engine import Engine
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World
from tests.conftest import ACTOR
from tests.flag_toggle_servers import (  # noqa: F401  (the fixture_* are fixtures)
    FLAG,
    ActsThenVanishes,
    Swallow,
    audit,
    fixture_admin,
    fixture_flag_on,
    fixture_sim,
    fixture_token_env,
    fixture_world,
    flags_source,
    write_config,
)
from tests.hostile_proxy import HostileProxy
from tests.unleash_admin import UnleashAdmin


async def engine_on(make_settings: Callable[..., Any], url: str, **extra: Any) -> Engine:
    engine = Engine(make_settings(flags_source(url, **extra)))
    assert all(u.ok for u in await engine.refresh_once())
    return engine


# ---- the outcome follows what the server did --------------------------------------------------------------------


@pytest.mark.usefixtures("flag_on")
async def test_the_intent_is_on_disk_before_the_toggle_arrives(
        sim: SimulatorServer, admin: UnleashAdmin, make_settings: Callable[..., Any], audit_path: Path) -> None:
    """The write-ahead rule: when the toggle reaches the server, the intent record (actor, flag, from → to) is
    already in the audit log."""
    seen: list[list[dict[str, Any]]] = []
    with HostileProxy(sim.url, on_mutation=lambda m, t: seen.append(audit(audit_path))) as proxy:
        engine = await engine_on(make_settings, proxy.url)
        try:
            flag = engine.state.flag("flags", FLAG)
            assert flag is not None
            outcome = await engine.execute_flag(engine.plan_flag("flags", flag, False), "spike", confirmed_by="dialog")
        finally:
            await engine.aclose()
    assert outcome.outcome == "done" and not admin.enabled(FLAG, "production")
    assert len(seen) == 1 and [r["outcome"] for r in seen[0]] == ["intent"]
    intent = seen[0][0]
    assert (intent["actor"], intent["action"], intent["flag"]["from"], intent["flag"]["to"]) == (
        ACTOR, "flag-off", "on (rollout 50%)", "off")
    assert intent["flag"]["last_changed_by"] == "admin" and intent["reason"] == "spike"


@pytest.mark.parametrize("after", ["gone", "404"])
async def test_a_toggle_that_arrived_is_never_reported_as_not_sent_or_refused(
        after: str, sim: SimulatorServer, admin: UnleashAdmin, make_settings: Callable[..., Any],
        audit_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server turns the flag off and answers 200, then the read-back after the toggle fails (the server went away,
    or answers 404). The outcome is `done` or `unknown`, never `failed` ("provably never sent") or `refused`."""
    admin.create_flag(FLAG, service="cart-api", rollout=50, enabled=True)
    with ActsThenVanishes(sim.url, after) as proxy:
        async with Engine(make_settings(flags_source(proxy.url))) as engine:
            assert all(u.ok for u in await engine.refresh_once())
            flag = engine.state.flag("flags", FLAG)
            assert flag is not None and flag.enabled
            outcome = await engine.execute_flag(engine.plan_flag("flags", flag, False), "spike",
                                                confirmed_by="dialog")
    assert proxy.mutations, "the toggle reached the proxy"
    assert not admin.enabled(FLAG, "production"), "the server did act: the flag is off"
    records = audit(audit_path)
    assert records[0]["outcome"] == "intent"
    assert outcome.outcome in ("done", "unknown"), (outcome.outcome, outcome.error)
    assert records[-1]["outcome"] in ("done", "unknown"), records[-1]
    assert "nothing was sent" not in outcome.message().lower()


def test_cli_does_not_say_failed_nothing_sent_for_a_toggle_that_arrived(
        sim: SimulatorServer, admin: UnleashAdmin, tmp_path: Path, audit_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The same from `monotui flag off FLAG --yes`: the flag was turned off on the server, so the command never says
    "failed" or "nothing was sent", and the audit log says `done` or `unknown`."""
    admin.create_flag(FLAG, service="cart-api", rollout=50, enabled=True)
    with ActsThenVanishes(sim.url, "gone") as proxy:
        config = tmp_path / "monotui.toml"
        write_config(config, proxy.url, audit_path)
        code = main(["flag", "off", FLAG, "--yes", "--config", str(config)])
    out = capsys.readouterr()
    assert not admin.enabled(FLAG, "production")
    assert code == 1  # not "done" as far as monotui can tell, fine
    assert "nothing was sent" not in (out.out + out.err).lower(), out.err
    assert ": failed" not in out.err, out.err
    assert audit(audit_path)[-1]["outcome"] in ("done", "unknown")


@pytest.mark.usefixtures("flag_on")
@pytest.mark.parametrize("mode", ["502", "504", "close"])
async def test_a_server_that_acts_then_loses_its_answer_is_outcome_unknown_with_the_flag_read_back(
        mode: str, sim: SimulatorServer, admin: UnleashAdmin, make_settings: Callable[..., Any],
        audit_path: Path) -> None:
    """The toggle arrives and Unleash acts, then the answer is a gateway error or the connection closes: the
    outcome is `unknown` (never done/failed/refused), the flag is read back (`now: off`), sent once only."""
    with HostileProxy(sim.url, mode) as proxy:
        engine = await engine_on(make_settings, proxy.url)
        try:
            flag = engine.state.flag("flags", FLAG)
            assert flag is not None
            outcome = await engine.execute_flag(engine.plan_flag("flags", flag, False), confirmed_by="dialog")
        finally:
            await engine.aclose()
    assert not admin.enabled(FLAG, "production")
    assert len(proxy.mutations) == 1
    assert outcome.outcome == "unknown" and outcome.now is not None and outcome.now.startswith("off")
    records = audit(audit_path)
    assert [r["outcome"] for r in records] == ["intent", "unknown"] and records[1]["flag"]["now"].startswith("off")


async def test_a_toggle_answered_ok_but_not_made_is_not_done(
        sim: SimulatorServer, admin: UnleashAdmin, make_settings: Callable[..., Any], audit_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Something in front of Unleash (a proxy, a misrouted load balancer) answers the toggle 200 without Unleash
    acting: the read-back shows the flag still on, so the outcome is not `done`."""
    admin.create_flag(FLAG, service="cart-api", rollout=50, enabled=True)
    with Swallow(sim.url, 200) as proxy:
        async with Engine(make_settings(flags_source(proxy.url))) as engine:
            assert all(u.ok for u in await engine.refresh_once())
            flag = engine.state.flag("flags", FLAG)
            assert flag is not None
            outcome = await engine.execute_flag(engine.plan_flag("flags", flag, False), confirmed_by="dialog")
    assert proxy.mutations and admin.enabled(FLAG, "production"), "answered 200, yet the flag is still on"
    assert outcome.outcome != "done", outcome.message()
    assert audit(audit_path)[-1]["outcome"] != "done"


# ---- what was confirmed is what is sent -------------------------------------------------------------------------


async def test_a_changed_constraint_is_a_changed_flag(
        sim: SimulatorServer, world: World, admin: UnleashAdmin, make_settings: Callable[..., Any],
        audit_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A strategy's constraints can change completely while its summary ("rollout 100% if 1 constraint") stays the
    same: a colleague widens who a flag reaches while the confirmation to turn it ON is open. The pin covers the
    constraints: refused, nothing sent."""
    admin.create_flag(FLAG, service="cart-api")
    world.flags.add_strategy("default", FLAG, "production", "flexibleRollout", {"rollout": "100"},
                             [{"contextName": "tenant", "operator": "IN", "values": ["internal"]}])
    async with Engine(make_settings(flags_source(sim.url))) as engine:
        assert all(u.ok for u in await engine.refresh_once())
        flag = engine.state.flag("flags", FLAG)
        assert flag is not None and not flag.enabled and flag.strategies == ["rollout 100% if 1 constraint"]
        plan = engine.plan_flag("flags", flag, True)  # the confirmation is open
        with world.flags.lock:  # a colleague edits the constraint in Unleash meanwhile
            strategy = world.flags.get("default", FLAG).strategies["production"][0]
            strategy.constraints = [{"contextName": "tenant", "operator": "NOT_IN", "values": ["internal"]}]
        outcome = await engine.execute_flag(plan, confirmed_by="dialog")
    assert outcome.outcome == "refused", (outcome.outcome, outcome.error)
    assert not admin.enabled(FLAG, "production"), "nothing may be sent for a flag that changed"


class _Stdin(io.StringIO):
    """A terminal whose person answers "yes" — after a colleague turned the flag off meanwhile."""

    def __init__(self, meanwhile: Callable[[], None]) -> None:
        super().__init__("yes\n")
        self.meanwhile = meanwhile

    def isatty(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:
        self.meanwhile()
        return super().readline(size if size is not None else -1)


@pytest.mark.usefixtures("flag_on")
def test_a_flag_changed_while_the_prompt_is_open_is_refused_and_nothing_is_sent(
        sim: SimulatorServer, admin: UnleashAdmin, tmp_path: Path, audit_path: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan is printed (on, rollout 50%); while the person types "yes" a colleague changes the rollout to 10%.
    The request is pinned: exit 1, "changed" said, no toggle sent, the audit says refused."""
    monkeypatch.setattr(sys, "stdin", _Stdin(lambda: admin.set_rollout(FLAG, 10)))
    with HostileProxy(sim.url) as proxy:
        config = write_config(tmp_path / "c.toml", proxy.url, audit_path)
        code = main(["flag", "off", FLAG, "--config", str(config)])
    out = capsys.readouterr()
    assert "on (rollout 50%) → off" in out.out and "last changed: by admin" in out.out
    assert code == 1 and "changed" in out.err, out.err
    assert proxy.mutations == [] and admin.enabled(FLAG, "production")
    assert [r["outcome"] for r in audit(audit_path)] == ["intent", "refused"]


async def test_a_plan_for_the_state_the_flag_already_has_is_refused(
        sim: SimulatorServer, admin: UnleashAdmin, make_settings: Callable[..., Any], audit_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A toggle to the state the flag already has is refused by the engine itself (any entry point, not only the
    CLI), audited, with nothing sent."""
    admin.create_flag(FLAG, service="cart-api", rollout=50, enabled=True)
    with HostileProxy(sim.url) as proxy:
        async with Engine(make_settings(flags_source(proxy.url))) as engine:
            assert all(u.ok for u in await engine.refresh_once())
            flag = engine.state.flag("flags", FLAG)
            assert flag is not None and flag.enabled
            outcome = await engine.execute_flag(engine.plan_flag("flags", flag, True), confirmed_by="dialog")
    assert outcome.outcome == "refused" and "already on" in outcome.message()
    assert proxy.mutations == []
    assert audit(audit_path)[-1]["outcome"] == "refused"


@pytest.mark.usefixtures("flag_on")
async def test_a_second_change_of_a_flag_in_flight_is_refused(
        sim: SimulatorServer, admin: UnleashAdmin, make_settings: Callable[..., Any], audit_path: Path) -> None:
    """Two kill switches of one flag at once (the first is held at the server until the second has been tried):
    the second is refused without sending; one toggle reaches the server."""
    release = threading.Event()
    with HostileProxy(sim.url, on_mutation=lambda m, t: release.wait(30)) as proxy:
        engine = await engine_on(make_settings, proxy.url)
        try:
            flag = engine.state.flag("flags", FLAG)
            assert flag is not None
            first = asyncio.create_task(engine.execute_flag(engine.plan_flag("flags", flag, False),
                                                            confirmed_by="dialog"))
            for _ in range(500):
                if proxy.mutations:
                    break
                await asyncio.sleep(0.02)
            second = await engine.execute_flag(engine.plan_flag("flags", flag, False), confirmed_by="dialog")
            release.set()
            assert (await first).outcome == "done"
        finally:
            await engine.aclose()
    assert second.outcome == "refused" and "in flight" in (second.error or "")
    assert len(proxy.mutations) == 1


def test_one_flag_that_cannot_be_read_does_not_disable_the_kill_switch_for_every_flag(
        sim: SimulatorServer, world: World, admin: UnleashAdmin, tmp_path: Path, audit_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The server lists a flag whose own GET (its strategies) answers 404 — here a name with a `/` the simulator
    accepts but cannot route back; the same happens with a flag archived between the listing and that read. That flag
    alone is unreadable: `monotui flag off` of another flag works."""
    admin.create_flag(FLAG, service="cart-api", rollout=50, enabled=True)
    world.flags.create("default", "team/odd-one")  # listed by the search; its own GET answers 404
    config = tmp_path / "monotui.toml"
    write_config(config, sim.url, audit_path)
    code = main(["flag", "off", FLAG, "--yes", "--reason", "incident", "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert not admin.enabled(FLAG, "production")
