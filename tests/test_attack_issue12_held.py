"""Attacks on the feature-flag kill switch (issue 12) that held: each test passes on main and says what it tried.
Real loopback servers only: the simulator's Unleash Admin API, tests/hostile_proxy.py in front of it, and small
hostile servers of our own."""

from __future__ import annotations

import asyncio
import io
import json
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from monotui.cli import main
from monotui.engine import Engine
from monotui.simulator.loopback import BackgroundServer
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World
from tests.attack12_servers import Swallow
from tests.conftest import ACTOR, make_world
from tests.hostile_proxy import HostileProxy
from tests.unleash_admin import UnleashAdmin

TOKEN = "sim-admin-token-attack12-held"
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
    client.create_flag(FLAG, service="cart-api", rollout=50, enabled=True)
    yield client
    client.close()


def audit(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def write_config(path: Path, url: str, audit_path: Path | str, *, top: str = "", source: str = "") -> Path:
    path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n{top}'
                    f'[[sources]]\nname = "flags"\nkind = "unleash"\nurl = "{url}"\n'
                    f'token_env = "ATTACK12_TOKEN"\ntimeout = 5\n{source}')
    return path


@pytest.fixture(autouse=True)
def token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTACK12_TOKEN", TOKEN)


async def engine_on(make_settings: Callable[..., Any], url: str, **extra: Any) -> Engine:
    engine = Engine(make_settings({"name": "flags", "kind": "unleash", "url": url, "token_env": "ATTACK12_TOKEN",
                                   "timeout": 5, **extra}))
    assert all(u.ok for u in await engine.refresh_once())
    return engine


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


@pytest.mark.parametrize("argv, top, source", [
    (["--read-only", "flag", "off", FLAG, "--yes"], "", ""),
    (["flag", "off", FLAG, "--yes", "--read-only"], "", ""),
    (["flag", "off", "--read-only", FLAG, "--yes", "--source", "flags"], "", ""),
    (["--read-only", "flag", "off", FLAG, "--source", "flags"], "", ""),  # no --yes, no terminal: still refused
    (["flag", "off", FLAG, "--yes"], "read_only = true\n", ""),
    (["flag", "off", FLAG, "--yes"], "", "read_only = true\n"),
], ids=["before", "after", "middle+source", "no-yes", "config-global", "config-source"])
def test_read_only_sends_nothing_from_any_position(
        argv: list[str], top: str, source: str, sim: SimulatorServer, admin: UnleashAdmin, tmp_path: Path,
        audit_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Read-only mode given before or after the command, between its arguments, with --source, or in the config
    (globally or on the source): exit 1, "read-only" said, no mutating request reaches the server, one
    `refused` record."""
    with HostileProxy(sim.url) as proxy:
        config = write_config(tmp_path / "c.toml", proxy.url, audit_path, top=top, source=source)
        code = main([*argv, "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 1 and "read-only" in err, err
    assert proxy.mutations == [] and admin.enabled(FLAG, "production")
    assert [r["outcome"] for r in audit(audit_path)] == ["refused"]


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


def test_an_audit_log_in_a_symlinked_folder_sends_nothing(
        sim: SimulatorServer, admin: UnleashAdmin, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The audit log sits in a folder that is a symlink (someone redirected it): the intent cannot be written
    safely, so nothing is sent and the command says so (exit 1, no traceback)."""
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    audit_file = tmp_path / "link" / "audit.log"
    with HostileProxy(sim.url) as proxy:
        config = write_config(tmp_path / "c.toml", proxy.url, audit_file)
        code = main(["flag", "off", FLAG, "--yes", "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 1 and "audit" in err and "Traceback" not in err, err
    assert proxy.mutations == [] and admin.enabled(FLAG, "production")
    assert not (real / "audit.log").exists() or "intent" not in (real / "audit.log").read_text()


def test_a_token_the_server_quotes_never_reaches_output_or_audit(
        sim: SimulatorServer, admin: UnleashAdmin, tmp_path: Path, audit_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The toggle is answered 403 with a body quoting the Authorization token: refused, exit 1, and neither the
    output nor the audit log holds the token (`***` instead)."""
    body = json.dumps({"message": f"token {TOKEN} may not do this"}).encode()
    with Swallow(sim.url, 403, body) as proxy:
        config = write_config(tmp_path / "c.toml", proxy.url, audit_path)
        code = main(["flag", "off", FLAG, "--yes", "--config", str(config)])
    out = capsys.readouterr()
    assert code == 1 and "refused" in out.err and "***" in out.err, out.err
    assert TOKEN not in out.out + out.err and TOKEN not in audit_path.read_text()
    assert [r["outcome"] for r in audit(audit_path)] == ["intent", "refused"]


@pytest.mark.parametrize("token", ["tok\nSECRETLINE-2", "tökSECRET-NONASCII"])
def test_a_malformed_token_is_a_clear_error_and_never_printed(
        token: str, sim: SimulatorServer, admin: UnleashAdmin, tmp_path: Path, audit_path: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A token with a newline in the middle, or a non-ASCII one: the command exits non-zero with a clear message,
    no traceback, nothing sent, and no part of the token printed."""
    monkeypatch.setenv("ATTACK12_TOKEN", token)
    with HostileProxy(sim.url) as proxy:
        config = write_config(tmp_path / "c.toml", proxy.url, audit_path)
        code = main(["flag", "off", FLAG, "--yes", "--config", str(config)])
    out = capsys.readouterr()
    text = out.out + out.err
    assert code in (1, 2) and "Traceback" not in text, text
    assert "token" in text.lower() or "header value" in text, text
    assert "SECRET" not in text and proxy.mutations == [] and admin.enabled(FLAG, "production")


def test_markup_and_terminal_escapes_in_flag_names_are_shown_literally(
        sim: SimulatorServer, world: World, admin: UnleashAdmin, tmp_path: Path, audit_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Flags named `[bold red]boom` and with ESC sequences (colour, window title, clear screen): `monotui flags`
    and `monotui flag off` print the markup as text and no raw ESC/BEL byte; the right flag is turned off."""
    for name in ("[bold red]boom", "x\x1b[31mred\x1b]0;title\x07\x1b[2J"):
        world.flags.create("default", name)
        world.flags.set_enabled("default", name, "production", True)
    config = write_config(tmp_path / "c.toml", sim.url, audit_path)
    assert main(["flags", "--config", str(config)]) == 0
    assert main(["flag", "off", "[bold red]boom", "--yes", "--config", str(config)]) == 0
    out = capsys.readouterr()
    assert out.out.count("[bold red]boom") >= 3  # the table, the plan, the outcome
    assert "\x1b" not in out.out + out.err and "\x07" not in out.out + out.err
    assert not world.flags.get("default", "[bold red]boom").enabled["production"]
    assert world.flags.get("default", "x\x1b[31mred\x1b]0;title\x07\x1b[2J").enabled["production"]


def test_a_look_alike_of_a_protected_flag_needs_its_name_typed(
        sim: SimulatorServer, world: World, tmp_path: Path, audit_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`protected_flags = ["payments.kill-switch"]`; the server has `payments.kill‐switch` (U+2010) and
    `payments.kill\u200b-switch`: each is protected, `--yes` alone is refused (exit 2, nothing sent)."""
    names = ("payments.kill\u2010switch", "payments.kill\u200b-switch")
    for name in names:
        world.flags.create("default", name)
        world.flags.set_enabled("default", name, "production", True)
    with HostileProxy(sim.url) as proxy:
        config = write_config(tmp_path / "c.toml", proxy.url, audit_path,
                              top='protected_flags = ["payments.kill-switch"]\n')
        for name in names:
            assert main(["flag", "off", name, "--yes", "--config", str(config)]) == 2
            assert "protected flag" in capsys.readouterr().err
    assert proxy.mutations == [] and all(world.flags.get("default", n).enabled["production"] for n in names)


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


class Garbage(BackgroundServer):
    """Answers every request 200 with `body`."""

    name = "garbage unleash"

    def __init__(self, body: bytes) -> None:
        async def anything(request: Request) -> Response:
            return Response(body, media_type="application/json")

        self._serve(Starlette(routes=[Route("/{path:path}", anything, methods=["GET", "POST"])]))


@pytest.mark.parametrize("body", [b"\x00\xff" * 100, b'{"features": "x"}', b"[" * 100_000,
                                  b'{"features": [' + b'{"name": "x"},' * 100_000 + b'{}]}'],
                         ids=["binary", "wrong-type", "deep", "huge"])
def test_garbage_from_the_flag_server_is_a_clear_error_without_traceback(
        body: bytes, tmp_path: Path, audit_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Binary, a wrong type, deeply nested JSON, a big list of broken flags: `monotui flags` and `monotui flag off`
    exit 1 with a message naming the source, no traceback, no audit record of a send."""
    with Garbage(body) as server:
        config = write_config(tmp_path / "c.toml", server.url, audit_path)
        codes = [main(["flags", "--config", str(config)]),
                 main(["flag", "off", FLAG, "--yes", "--config", str(config)])]
    out = capsys.readouterr()
    assert codes == [1, 1], (codes, out.err[-500:])
    assert "Traceback" not in out.out + out.err
    assert "flags" in out.out + out.err
    assert not any(r["outcome"] == "intent" for r in audit(audit_path))


@pytest.mark.parametrize("argv, code, says", [
    (["flag", "off", FLAG, "--yes", "--source", "nope"], 2, "no source named"),
    (["flag", "off", "no-such-flag", "--yes"], 1, "no flag named"),
    (["flag", "sideways", FLAG, "--yes"], 2, ""),
    (["flag", "off", FLAG, "--confirm-name", "other-flag", "--yes"], 2, "does not name"),
    (["flag", "off", FLAG], 2, "pass --yes"),  # no terminal
])
def test_exit_codes_and_nothing_sent(argv: list[str], code: int, says: str, sim: SimulatorServer,
                                     admin: UnleashAdmin, tmp_path: Path, audit_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Usage problems exit 2, a missing flag 1; nothing is sent in any of them."""
    with HostileProxy(sim.url) as proxy:
        config = write_config(tmp_path / "c.toml", proxy.url, audit_path)
        try:
            got = main([*argv, "--config", str(config)])
        except SystemExit as e:  # click's own usage errors
            got = int(e.code or 0)
    err = capsys.readouterr().err
    assert got == code and says in err, (got, err)
    assert proxy.mutations == [] and admin.enabled(FLAG, "production")
