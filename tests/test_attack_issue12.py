"""Attacks on the feature-flag kill switch (issue 12) that found holes, each fixed since: each test says in its
docstring what it shows. Real loopback servers only: the simulator's Unleash Admin API, and a proxy of our own in
front of it that mistreats what follows a toggle (tests/attack12_servers.py)."""

from __future__ import annotations

import json
import os
import resource
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monotui.cli import main
from monotui.engine import Engine
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World
from tests.attack12_servers import ActsThenVanishes, Swallow
from tests.conftest import ACTOR, make_world
from tests.hostile_proxy import HostileProxy
from tests.unleash_admin import UnleashAdmin

TOKEN = "sim-admin-token-attack12"
FLAG = "cart-api.fast-path"


@pytest.fixture
def world() -> World:
    return make_world(services=2, flag_share=0)


@pytest.fixture
def sim(world: World) -> Iterator[SimulatorServer]:
    with SimulatorServer(world, tick_interval=None, token=TOKEN) as server:
        yield server


@pytest.fixture
def admin(sim: SimulatorServer) -> Iterator[UnleashAdmin]:
    client = UnleashAdmin(sim.url, TOKEN)
    yield client
    client.close()


def audit(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def flags_source(url: str, **extra: Any) -> dict[str, Any]:
    return {"name": "flags", "kind": "unleash", "url": url, "token_env": "ATTACK12_TOKEN", "timeout": 5, **extra}


@pytest.mark.parametrize("after", ["gone", "404"])
async def test_a_toggle_that_arrived_is_never_reported_as_not_sent_or_refused(
        after: str, sim: SimulatorServer, admin: UnleashAdmin, make_settings: Callable[..., Any],
        audit_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server turns the flag off and answers 200, then the read-back that set_flag makes after the POST fails
    (the server went away: connection refused; or it answers 404). UnleashProvider.set_flag lets that read's
    error escape as the toggle's own error, so the engine records `failed` ("provably never sent") or `refused`
    ("Unleash said no") although the flag WAS turned off: the audit log and the screen lie. The outcome must be
    `done` or `unknown`, never failed/refused."""
    monkeypatch.setenv("ATTACK12_TOKEN", TOKEN)
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
    """The same hole seen from `monotui flag off FLAG --yes`: the flag was turned off on the server, yet the command
    prints "…: failed — … cannot connect" (failed means, in monotui's words, provably never sent: a person would
    believe the kill switch did not fire), and the audit log says `failed` too."""
    monkeypatch.setenv("ATTACK12_TOKEN", TOKEN)
    admin.create_flag(FLAG, service="cart-api", rollout=50, enabled=True)
    with ActsThenVanishes(sim.url, "gone") as proxy:
        config = tmp_path / "monotui.toml"
        config.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n[[sources]]\nname = "flags"\n'
                          f'kind = "unleash"\nurl = "{proxy.url}"\ntoken_env = "ATTACK12_TOKEN"\ntimeout = 5\n')
        code = main(["flag", "off", FLAG, "--yes", "--config", str(config)])
    out = capsys.readouterr()
    assert not admin.enabled(FLAG, "production")
    assert code == 1  # not "done" as far as monotui can tell, fine
    assert "nothing was sent" not in (out.out + out.err).lower(), out.err
    assert ": failed" not in out.err, out.err
    assert audit(audit_path)[-1]["outcome"] in ("done", "unknown")


async def test_a_changed_constraint_is_a_changed_flag(
        sim: SimulatorServer, world: World, admin: UnleashAdmin, make_settings: Callable[..., Any],
        audit_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pin compares only (on/off, strategy summaries): a strategy's constraints can change completely while its
    summary ("rollout 100% if 1 constraint") stays the same. Here a colleague widens who a flag reaches — from the
    internal tenant to every tenant but one — while the confirmation to turn it ON is open; monotui sends it
    anyway, turning on for everyone a flag confirmed for one tenant. A changed flag must be refused, nothing sent
    (FlagPlan.differs and UnleashProvider.set_flag)."""
    monkeypatch.setenv("ATTACK12_TOKEN", TOKEN)
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


async def test_a_toggle_answered_ok_but_not_made_is_not_done(
        sim: SimulatorServer, admin: UnleashAdmin, make_settings: Callable[..., Any], audit_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Something in front of Unleash (a proxy, a misrouted load balancer) answers the toggle 200 without Unleash
    acting. set_flag reads the flag back and returns it, and the engine records `done` — with "Now: on (rollout
    50%)" in the same sentence: the kill switch says it fired while the flag is still on. The read-back is there;
    the outcome should follow it (`unknown`, or a refusal saying the flag is still on), never `done`
    (UnleashProvider.set_flag / Engine.execute_flag)."""
    monkeypatch.setenv("ATTACK12_TOKEN", TOKEN)
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


def test_one_flag_that_cannot_be_read_does_not_disable_the_kill_switch_for_every_flag(
        sim: SimulatorServer, world: World, admin: UnleashAdmin, tmp_path: Path, audit_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The server lists a flag whose own GET (the strategies read, /projects/{p}/features/{name}) answers 404 — here
    a name with a `/` the simulator accepts but cannot route back; the same happens with a flag archived between
    the listing and that read. The whole poll fails, so `monotui flags` shows no flag at all and `monotui flag off`
    of ANY other flag says "no flag named …": one bad flag disables the kill switch in an incident. docs/flags.md
    promises that a flag that cannot be read is still a row (`unreadable`) and the others are read as usual
    (UnleashProvider.refresh: the per-flag strategy reads should mark that flag unreadable, not fail the poll)."""
    monkeypatch.setenv("ATTACK12_TOKEN", TOKEN)
    admin.create_flag(FLAG, service="cart-api", rollout=50, enabled=True)
    world.flags.create("default", "team/odd-one")  # listed by the search; its own GET answers 404
    config = tmp_path / "monotui.toml"
    config.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n[[sources]]\nname = "flags"\n'
                      f'kind = "unleash"\nurl = "{sim.url}"\ntoken_env = "ATTACK12_TOKEN"\ntimeout = 5\n')
    code = main(["flag", "off", FLAG, "--yes", "--reason", "incident", "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert not admin.enabled(FLAG, "production")


def test_the_command_suggested_for_an_ambiguous_name_picks_a_flag(
        sim: SimulatorServer, world: World, tmp_path: Path, audit_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Two flags of ONE source differ only by an invisible character (`pay<U+200B>off`, `pay<U+2060>off`);
    `monotui flag off payoff` lists both and suggests `monotui flag off pay<U+200B>off --source flags`. That
    command, typed as shown, cannot pick: `--source` does not tell two flags of one source apart, and the name is
    printed with `<U+200B>` markers that no lookup understands, so it answers "no flag named" — in an incident
    there is no way shown to turn either flag off from the command line (cli_flags.flag_ambiguity / find_flags:
    suggest something that selects, e.g. accept the shown `<U+XXXX>` form or a `--project`)."""
    monkeypatch.setenv("ATTACK12_TOKEN", TOKEN)
    for name in ("pay\u200boff", "pay\u2060off"):
        world.flags.create("default", name)
        world.flags.set_enabled("default", name, "production", True)
    config = tmp_path / "monotui.toml"
    config.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n[[sources]]\nname = "flags"\n'
                      f'kind = "unleash"\nurl = "{sim.url}"\ntoken_env = "ATTACK12_TOKEN"\ntimeout = 5\n')
    assert main(["flag", "off", "payoff", "--yes", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    suggested = err[err.index("e.g. `") + len("e.g. `"):].split("`")[0]
    argv = shlex.split(suggested)
    assert argv[:2] == ["monotui", "flag"]
    code = main([*argv[1:], "--yes", "--config", str(config)])
    err = capsys.readouterr().err
    assert "no flag named" not in err, err
    assert code == 0, err
    assert sum(not world.flags.get("default", n).enabled["production"]
               for n in ("pay\u200boff", "pay\u2060off")) == 1


def _limit_memory() -> None:  # the machine is shared: an unbounded read must fail here, not meet the OOM killer
    resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/full"])
def test_an_audit_log_that_is_a_symlink_to_a_device_is_refused_not_read_forever(
        device: str, sim: SimulatorServer, admin: UnleashAdmin, tmp_path: Path) -> None:
    """`audit_log` is a symlink to /dev/zero or /dev/full (a "full disk" prank, or a misconfigured path). Writing
    is refused (O_NOFOLLOW), but before that the engine reads the log to find unresolved intents
    (Engine._load_unresolved → AuditLog.unresolved → AuditLog.read) through the symlink with no size bound:
    `monotui flag off` reads an endless device into memory. Unbounded it ate 23 GB and was OOM-killed on the
    development machine; here the child runs under a 1.5 GB address-space limit and dies with a MemoryError
    traceback. It must instead say the audit log cannot be used, send nothing and exit 1 (AuditLog.read: open
    with O_NOFOLLOW, refuse a non-regular file, bound what is read)."""
    admin.create_flag(FLAG, service="cart-api", rollout=50, enabled=True)
    link = tmp_path / "audit.log"
    link.symlink_to(device)
    with HostileProxy(sim.url) as proxy:
        config = tmp_path / "monotui.toml"
        config.write_text(f'actor = "{ACTOR}"\naudit_log = "{link}"\n[[sources]]\nname = "flags"\n'
                          f'kind = "unleash"\nurl = "{proxy.url}"\ntoken_env = "ATTACK12_TOKEN"\ntimeout = 5\n')
        child = subprocess.run(
            [sys.executable, "-m", "monotui", "flag", "off", FLAG, "--yes", "--config", str(config)],
            env={**os.environ, "ATTACK12_TOKEN": TOKEN}, capture_output=True, text=True, timeout=120,
            preexec_fn=_limit_memory, check=False)
    assert proxy.mutations == [] and admin.enabled(FLAG, "production")
    assert "Traceback" not in child.stderr and "MemoryError" not in child.stderr, child.stderr[-800:]
    assert child.returncode == 1 and "audit" in child.stderr, (child.returncode, child.stderr[-800:])


async def test_a_plan_for_the_state_the_flag_already_has_is_refused(
        sim: SimulatorServer, admin: UnleashAdmin, make_settings: Callable[..., Any], audit_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the CLI checked that a flag is not already as asked; the engine itself (any other entry point) sent
    the toggle anyway. It must refuse, audited, with nothing sent."""
    monkeypatch.setenv("ATTACK12_TOKEN", TOKEN)
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
