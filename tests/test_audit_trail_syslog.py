"""The audit trail leaves the machine: every record reaches a real rsyslog as an RFC 5424 message, also when the
receiver was down during the action, once each and in order; the local file stays the write-ahead record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monotui.action_kinds import ActionKind
from monotui.cli import main
from monotui.engine.audit import SCHEMA, AuditLog
from monotui.models import Phase, Strategy
from monotui.simulator.server import SimulatorServer
from monotui.syslog_trail import SD_ID, TrailConfigError, parse_target, syslog_message

from .conftest import ACTOR, wait_until
from .rsyslog_server import Rsyslog, free_udp_port, missing_tls, require_rsyslog
from .test_tls import tls_files  # noqa: F401 — a fixture: a private CA and a certificate for 127.0.0.1


def write_config(tmp_path: Path, url: str, audit_path: Path, syslog: str, extra: str = "") -> str:
    path = tmp_path / "monotui.toml"
    path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\naudit_syslog = "{syslog}"\n{extra}\n'
                    f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{url}"\ntimeout = 2\n')
    return str(path)


def received(line: str) -> tuple[str, str, str, int, str, dict[str, object]]:
    app, host, msgid, pri, sd, msg = line.split("|", 5)
    return app, host, msgid, int(pri), sd, json.loads(msg)


def test_a_command_line_action_arrives_as_intent_and_outcome_with_the_local_records_fields(
        sim: SimulatorServer, tmp_path: Path, audit_path: Path) -> None:
    require_rsyslog()
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    with Rsyslog(tmp_path / "rsyslog") as syslog:
        path = write_config(tmp_path, sim.url, audit_path, f"tcp://127.0.0.1:{syslog.port}")
        assert main(["pause", "cart-api", "--yes", "--reason", "error spike", "--config", path]) == 0
        lines = syslog.wait_for(2)
    local = AuditLog(audit_path).read()
    assert [r["outcome"] for r in local] == ["intent", "done"]
    assert len(lines) == 2
    for line, record in zip(lines, local, strict=True):
        app, _host, msgid, _pri, sd, message = received(line)
        assert message == record  # the JSON record is the message, field for field
        assert app == "monotui"
        assert msgid == record["outcome"]
        assert sd.startswith(f"[{SD_ID} ") and f'actor="{ACTOR}"' in sd and 'service="cart-api"' in sd
    assert [received(line)[3] for line in lines] == [16 * 8 + 5, 16 * 8 + 6]  # local0: notice, then info


def test_records_carry_schema_host_version_and_session(sim: SimulatorServer, tmp_path: Path,
                                                        audit_path: Path) -> None:
    import socket

    from monotui import __version__

    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    path = tmp_path / "plain.toml"
    path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n'
                    f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{sim.url}"\ntimeout = 2\n')
    assert main(["pause", "cart-api", "--yes", "--config", str(path)]) == 0
    intent, done = AuditLog(audit_path).read()
    for record in (intent, done):
        assert record["schema"] == SCHEMA
        assert record["host"] == socket.gethostname()
        assert record["monotui"] == __version__
    assert isinstance(intent["session"], str) and intent["session"] == done["session"]


def test_with_rsyslog_down_the_action_happens_and_its_records_arrive_later_once_each_in_order(
        sim: SimulatorServer, tmp_path: Path, audit_path: Path) -> None:
    require_rsyslog()
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    sim.world.deploy("search-api", strategy=Strategy.CANARY)
    syslog = Rsyslog(tmp_path / "rsyslog")
    syslog.start()
    port = syslog.port
    syslog.stop()  # the receiver is down during the first action
    path = write_config(tmp_path, sim.url, audit_path, f"tcp://127.0.0.1:{port}")
    assert main(["pause", "cart-api", "--yes", "--config", path]) == 0
    assert sim.world.rollout("cart-api").phase is Phase.PAUSED  # forwarding never stands in the action's way
    assert [r["outcome"] for r in AuditLog(audit_path).read()] == ["intent", "done"]

    with Rsyslog(tmp_path / "rsyslog", port=port) as syslog:
        # the next monotui to start with this log sends what the first could not, then its own records
        assert main(["pause", "search-api", "--yes", "--config", path]) == 0
        lines = syslog.wait_for(4)
        local = AuditLog(audit_path).read()
        assert [received(line)[5] for line in lines] == local
        assert [(r["service"], r["outcome"]) for r in local] == [
            ("cart-api", "intent"), ("cart-api", "done"), ("search-api", "intent"), ("search-api", "done")]
        # a third run has nothing left to send: nothing arrives twice
        assert main(["status", "--config", path]) == 0
        assert main(["resume", "cart-api", "--yes", "--config", path]) == 0
        lines = syslog.wait_for(6)
        assert [received(line)[5] for line in lines] == AuditLog(audit_path).read()


async def test_a_running_monotui_sends_what_it_could_not_once_rsyslog_is_back(
        sim: SimulatorServer, tmp_path: Path, engine_for, audit_path: Path) -> None:  # type: ignore[no-untyped-def]
    require_rsyslog()
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    syslog = Rsyslog(tmp_path / "rsyslog")
    syslog.start()
    port = syslog.port
    syslog.stop()
    async with engine_for(sim.url, audit_syslog=f"tcp://127.0.0.1:{port}") as engine:
        await engine.refresh_once()
        source, rollout = engine.find("cart-api")[0]
        outcome = await engine.execute(engine.plan(source, rollout, ActionKind.PAUSE), "investigating",
                                       confirmed_by="dialog")
        assert outcome.ok
        forwarder = engine.audit.forwarder
        assert forwarder is not None
        await wait_until(lambda: forwarder.pending == 2 and forwarder.last_error is not None)
        with Rsyslog(tmp_path / "rsyslog", port=port) as syslog:
            lines = syslog.wait_for(2, timeout=40)  # the retry backs off, 30 s at most
            assert [received(line)[5]["outcome"] for line in lines] == ["intent", "done"]
            await wait_until(lambda: forwarder.pending == 0)


def test_udp_delivers_each_record_as_one_datagram(sim: SimulatorServer, tmp_path: Path, audit_path: Path) -> None:
    require_rsyslog()
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    udp_port = free_udp_port()
    with Rsyslog(tmp_path / "rsyslog", udp_port=udp_port) as syslog:
        path = write_config(tmp_path, sim.url, audit_path, f"udp://127.0.0.1:{udp_port}",
                            'audit_syslog_facility = "authpriv"\naudit_syslog_app_name = "monotui-prod"')
        assert main(["pause", "cart-api", "--yes", "--config", path]) == 0
        lines = syslog.wait_for(2)
    assert [received(line)[0] for line in lines] == ["monotui-prod", "monotui-prod"]
    assert [received(line)[3] for line in lines] == [10 * 8 + 5, 10 * 8 + 6]  # authpriv


def test_tls_reaches_rsyslog_through_the_configured_ca_and_is_refused_without_it(
        sim: SimulatorServer, tmp_path: Path, audit_path: Path,
        tls_files: tuple[Path, Path, Path]) -> None:  # noqa: F811
    require_rsyslog()
    if why := missing_tls():
        pytest.skip(why)
    ca = tls_files[0]
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    with Rsyslog(tmp_path / "rsyslog", tls=tls_files) as syslog:
        # without the CA the receiver is not trusted: nothing is sent, the records wait in the file
        path = write_config(tmp_path, sim.url, audit_path, f"tls://127.0.0.1:{syslog.port}")
        assert main(["pause", "cart-api", "--yes", "--config", path]) == 0
        assert syslog.lines() == []
        path = write_config(tmp_path, sim.url, audit_path, f"tls://127.0.0.1:{syslog.port}",
                            f'audit_syslog_ca = "{ca}"')
        assert main(["resume", "cart-api", "--yes", "--config", path]) == 0
        lines = syslog.wait_for(4)
    assert [received(line)[5] for line in lines] == AuditLog(audit_path).read()


@pytest.mark.parametrize(("value", "words"), [
    ("http://logs:514", "scheme"), ("tcp://logs", "port"), ("tcp://logs:99999", "port"),
    ("unix://dev/log", "unix:///"), ("tcp://logs:514/x", "nothing may follow")])
def test_a_bad_syslog_address_is_a_config_error_naming_the_key(tmp_path: Path, audit_path: Path, value: str,
                                                               words: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, "http://127.0.0.1:1", audit_path, value)
    assert main(["status", "--config", path]) == 2
    err = capsys.readouterr().err
    assert "audit_syslog" in err and words in err
    with pytest.raises(TrailConfigError):
        parse_target(value)


def test_structured_data_escapes_what_rfc5424_reserves_and_drops_controls() -> None:
    message = syslog_message({"outcome": "done", "time": "2026-12-07T10:00:00.000+00:00", "host": "b 1",
                              "actor": 'ev"il]\\\x1b[2J', "service": "svc"}, facility=16, app_name="monotui",
                             procid=1).decode()
    header, _, body = message.partition("] ")
    assert header.startswith("<134>1 2026-12-07T10:00:00.000+00:00 b1 monotui 1 done [monotui@32473 ")
    assert 'actor="ev\\"il\\]\\\\[2J"' in header
    assert "\x1b" not in header
    assert json.loads(body)["actor"] == 'ev"il]\\\x1b[2J'  # the record itself is kept whole, as JSON escapes it
