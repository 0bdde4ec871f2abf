"""`monotui flag`/`monotui flags` against hostile input: read-only from any position, an audit log that is a
device or in a symlinked folder, tokens quoted by the server or malformed, names with markup, escapes,
invisible characters or look-alikes of a protected flag, garbage answers, usage errors. Nothing is sent that
should not be, nothing unsafe is printed, and the exit status says what happened."""

from __future__ import annotations

import json
import os
import resource
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from monotui.cli import main
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import World
from tests.flag_toggle_servers import (  # noqa: F401  (the fixture_* are fixtures)
    FLAG,
    TOKEN,
    TOKEN_ENV,
    Garbage,
    Swallow,
    audit,
    fixture_admin,
    fixture_flag_on,
    fixture_sim,
    fixture_token_env,
    fixture_world,
    write_config,
)
from tests.hostile_proxy import HostileProxy
from tests.unleash_admin import UnleashAdmin

# ---- read-only and usage errors ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("flag_on")
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


@pytest.mark.usefixtures("flag_on")
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


# ---- the audit log ----------------------------------------------------------------------------------------------


def _limit_memory() -> None:  # the machine is shared: an unbounded read must fail here, not meet the OOM killer
    resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/full"])
def test_an_audit_log_that_is_a_symlink_to_a_device_is_refused_not_read_forever(
        device: str, sim: SimulatorServer, admin: UnleashAdmin, tmp_path: Path) -> None:
    """`audit_log` is a symlink to /dev/zero or /dev/full: the audit log is read (for unresolved intents) with no
    symlink followed, non-regular files refused and a bound on size, so the command says the audit log cannot be used,
    sends nothing and exits 1. The child runs under a 1.5 GB address-space limit so an unbounded read fails here
    rather than meeting the OOM killer."""
    admin.create_flag(FLAG, service="cart-api", rollout=50, enabled=True)
    link = tmp_path / "audit.log"
    link.symlink_to(device)
    with HostileProxy(sim.url) as proxy:
        config = tmp_path / "monotui.toml"
        write_config(config, proxy.url, link)
        child = subprocess.run(
            [sys.executable, "-m", "monotui", "flag", "off", FLAG, "--yes", "--config", str(config)],
            env={**os.environ, TOKEN_ENV: TOKEN}, capture_output=True, text=True, timeout=120,
            preexec_fn=_limit_memory, check=False)
    assert proxy.mutations == [] and admin.enabled(FLAG, "production")
    assert "Traceback" not in child.stderr and "MemoryError" not in child.stderr, child.stderr[-800:]
    assert child.returncode == 1 and "audit" in child.stderr, (child.returncode, child.stderr[-800:])


@pytest.mark.usefixtures("flag_on")
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


# ---- tokens -----------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("flag_on")
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


@pytest.mark.usefixtures("flag_on")
@pytest.mark.parametrize("token", ["tok\nSECRETLINE-2", "tökSECRET-NONASCII"])
def test_a_malformed_token_is_a_clear_error_and_never_printed(
        token: str, sim: SimulatorServer, admin: UnleashAdmin, tmp_path: Path, audit_path: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A token with a newline in the middle, or a non-ASCII one: the command exits non-zero with a clear message,
    no traceback, nothing sent, and no part of the token printed."""
    monkeypatch.setenv(TOKEN_ENV, token)
    with HostileProxy(sim.url) as proxy:
        config = write_config(tmp_path / "c.toml", proxy.url, audit_path)
        code = main(["flag", "off", FLAG, "--yes", "--config", str(config)])
    out = capsys.readouterr()
    text = out.out + out.err
    assert code in (1, 2) and "Traceback" not in text, text
    assert "token" in text.lower() or "header value" in text, text
    assert "SECRET" not in text and proxy.mutations == [] and admin.enabled(FLAG, "production")


# ---- names ------------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("flag_on")
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


def test_the_command_suggested_for_an_ambiguous_name_picks_a_flag(
        sim: SimulatorServer, world: World, tmp_path: Path, audit_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Two flags of one source differ only by an invisible character (`pay<U+200B>off`, `pay<U+2060>off`): `monotui
    flag off payoff` is ambiguous and suggests a command that, typed as shown, selects exactly one flag."""
    for name in ("pay\u200boff", "pay\u2060off"):
        world.flags.create("default", name)
        world.flags.set_enabled("default", name, "production", True)
    config = tmp_path / "monotui.toml"
    write_config(config, sim.url, audit_path)
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


# ---- garbage answers --------------------------------------------------------------------------------------------


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
