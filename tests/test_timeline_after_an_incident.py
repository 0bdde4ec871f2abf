"""`monotui timeline` after a scripted incident against real servers — the simulator (deploy API and its Unleash
Admin API on one HTTP server on 127.0.0.1) and a real Alertmanager: a bad deploy, the alert it fires, the platform's
automatic rollback, a flag flip, and a pause done through `monotui pause` (so it is in the audit log with its
actor). The Markdown postmortem draft lists every one of them, in order, with who did it; bad options are usage
errors (exit 2) with a clear message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from monotui.cli import main
from monotui.models import EventKind, Strategy
from monotui.simulator.flags import PRODUCTION
from monotui.simulator.prometheus import AlertmanagerServer
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import SimConfig, World

from .conftest import ACTOR

TOKEN = "sim-admin-token"
BAD, OTHER = "cart-api", "search-api"
FLAG = f"{OTHER}.fast-path"


@pytest.fixture
def world() -> World:
    """Nothing moves unless the test says; the world starts 25 minutes ago and is brought up to the real clock
    before monotui reads it, so its times, Alertmanager's and the audit log's are one clock."""
    return World(SimConfig(services=3, seed=3, deploy_interval=0, flag_share=0, initial_deploys=0,
                           auto_rollback=True, names=(BAD, OTHER, "auth-api")),
                 start=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=25))


@pytest.fixture
def sim(world: World) -> Iterator[SimulatorServer]:
    with SimulatorServer(world, tick_interval=None, token=TOKEN) as server:
        yield server


def config_file(tmp_path: Path, sim: SimulatorServer, alertmanager: str, audit_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'''actor = "{ACTOR}"
audit_log = "{audit_path}"

[[sources]]
name = "prod"
kind = "http"
url = "{sim.url}"
token_env = "MONOTUI_TEST_TOKEN"
timeout = 10.0

[[sources]]
name = "flags"
kind = "unleash"
url = "{sim.url}"
token_env = "MONOTUI_TEST_TOKEN"
timeout = 10.0

[[sources]]
name = "alerts"
kind = "alertmanager"
url = "{alertmanager}"
timeout = 10.0
''')
    return path


def incident(world: World, alertmanager: str) -> None:
    """The scripted incident, up to the manual pause (the test does that through monotui)."""
    flags = world.flags
    flags.create("default", FLAG)
    flags.tag(FLAG, "service", OTHER)
    flags.add_strategy("default", FLAG, PRODUCTION, "flexibleRollout",
                       {"rollout": "25", "stickiness": "default", "groupId": FLAG})
    for _ in range(60):  # its creation is history
        world.step(10.0)
    world.deploy(BAD, bad=True, strategy=Strategy.CANARY)  # the bad deploy
    while next(h.error_ratio for h in world.health() if h.service == BAD) < 0.05:
        world.step()
    for _ in range(200):  # the platform rolls the bad canary back when its analysis fails
        if world.rollout(BAD).rolled_back_at is not None:
            break
        world.step()
    assert any(e.kind is EventKind.ROLLED_BACK and e.actor == "auto-rollback" for e in world.events)
    world.step(10.0)
    # the error spike fires an alert once its rule held for a while (sent with Alertmanager's own API, as
    # Prometheus sends it)
    alert = [{"labels": {"alertname": "HighErrorRatio", "service": BAD, "severity": "page"},
              "annotations": {"summary": "cart-api | errors above 5%\nsee the runbook"},
              "startsAt": world.now.isoformat()}]
    httpx.post(f"{alertmanager}/api/v2/alerts", json=alert, timeout=10).raise_for_status()
    world.step(20.0)
    flags.set_enabled("default", FLAG, PRODUCTION, True, actor="bob")  # someone flips a flag
    world.step(20.0)
    while world.now < datetime.now(UTC) - timedelta(seconds=2):  # up to the real clock
        world.step(min(5.0, (datetime.now(UTC) - world.now).total_seconds()))
    world.deploy(OTHER, strategy=Strategy.CANARY)  # a deploy the on-call engineer will pause
    world.step(0.5)


def timeline_rows(markdown: str) -> list[list[str]]:
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and not line.startswith("| Time")]
    # split on the unescaped bars only
    return [[cell.strip() for cell in _cells(row)] for row in rows]


def _cells(row: str) -> list[str]:
    cells, cell, escaped = [], "", False
    for ch in row.strip()[1:-1]:
        if ch == "|" and not escaped:
            cells.append(cell)
            cell = ""
        else:
            cell += ch
        escaped = ch == "\\" and not escaped
    return [*cells, cell]


def first(rows: list[list[str]], *needles: str) -> int:
    for i, row in enumerate(rows):
        if all(n in " | ".join(row) for n in needles):
            return i
    raise AssertionError(f"no row with {needles}: {rows}")


def test_the_markdown_timeline_lists_the_incident_in_order_with_actors(
        world: World, sim: SimulatorServer, tmp_path: Path, audit_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MONOTUI_TEST_TOKEN", TOKEN)
    with AlertmanagerServer() as am:
        config = config_file(tmp_path, sim, am.url, audit_path)
        incident(world, am.url)
        assert main(["--config", str(config), "pause", OTHER, "--yes", "--reason", "checking the flag"]) == 0
        capsys.readouterr()
        assert main(["--config", str(config), "timeline", "--since", "30m", "--format", "markdown"]) == 0
        out = capsys.readouterr().out

    assert out.startswith("# Incident timeline")
    assert out.index("## Suspects") < out.index("## Timeline")
    rows = timeline_rows(out)
    assert all(len(row) == 4 for row in rows), [r for r in rows if len(r) != 4]  # no cell broke the table
    deploy = first(rows, f"{BAD}: deploy started")
    rollback = first(rows, f"{BAD}: rolled back automatically")
    alert = first(rows, f"{BAD}: alert HighErrorRatio firing")
    flip = first(rows, FLAG, "bob")
    pause = first(rows, f"monotui pause {OTHER}", "done")
    assert deploy < rollback < alert < flip < pause, out
    assert sum(1 for r in rows if "HighErrorRatio" in r[1]) == 1
    author = next(e.actor for e in world.events if e.kind is EventKind.DEPLOY_STARTED and e.service == BAD)
    assert rows[deploy][2] == author and rows[deploy][3] == "prod"
    assert "analysis failed" in rows[rollback][1] and rows[rollback][2] == "auto-rollback"
    assert rows[flip][2] == "bob" and rows[flip][3] == "flags"
    assert rows[pause][2] == ACTOR and rows[pause][3] == "audit log" and "checking the flag" in rows[pause][1]
    assert rows[alert][3] == "alerts"
    # the server's own record of the pause names the same person
    assert any(f"{OTHER}: paused" in r[1] and ACTOR in " ".join(r) for r in rows)
    # a server's text cannot break the table: its bar escaped, its newline shown as a symbol
    assert "cart-api \\| errors above 5%" in rows[alert][1] and "\n" not in rows[alert][1]
    times = [r[0] for r in rows]
    assert times == sorted(times)


def test_json_and_text_carry_the_same_entries_and_a_service_filter(
        world: World, sim: SimulatorServer, tmp_path: Path, audit_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MONOTUI_TEST_TOKEN", TOKEN)
    world.deploy(BAD, strategy=Strategy.CANARY)
    world.deploy(OTHER, strategy=Strategy.CANARY)
    world.step()
    config = tmp_path / "config.toml"
    config.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n[[sources]]\nname = "prod"\nkind = "http"\n'
                      f'url = "{sim.url}"\ntoken_env = "MONOTUI_TEST_TOKEN"\n')
    assert main(["--config", str(config), "timeline", "--format", "json", "--service", BAD]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["entries"] and {e["service"] for e in data["entries"]} == {BAD}
    assert {"time", "kind", "service", "what", "who", "source"} <= set(data["entries"][0])
    assert main(["--config", str(config), "timeline"]) == 0
    text = capsys.readouterr().out
    assert BAD in text and OTHER in text and "deploy started" in text


@pytest.mark.parametrize(("args", "said"), [
    (["--since", "banana"], "--since: 'banana' is not a duration"),
    (["--since", "0m"], "is no time at all"),
    (["--from", "yesterday-ish"], "--from: 'yesterday-ish' is not a time"),
    (["--to", "10:00"], "--to needs --from"),
    (["--from", "10:00", "--to", "09:00"], "is not after --from"),
    (["--since", "30m", "--from", "10:00"], "give one or the other"),
    (["--source", "nope"], "--source: no source named 'nope'"),
])
def test_bad_options_are_usage_errors(args: list[str], said: str, tmp_path: Path, audit_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n')
    assert main(["--config", str(config), "timeline", *args]) == 2
    err = capsys.readouterr().err
    assert said in err, err


def test_a_source_that_does_not_answer_is_named_and_the_rest_is_printed(
        sim: SimulatorServer, world: World, tmp_path: Path, audit_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MONOTUI_TEST_TOKEN", TOKEN)
    world.now = datetime.now(UTC).replace(microsecond=0)
    world.deploy(BAD, strategy=Strategy.CANARY)
    world.step()
    config = tmp_path / "config.toml"
    config.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n'
                      f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{sim.url}"\n'
                      'token_env = "MONOTUI_TEST_TOKEN"\n'
                      '[[sources]]\nname = "gone"\nkind = "http"\nurl = "http://127.0.0.1:9"\ntimeout = 2\n')
    assert main(["--config", str(config), "timeline", "--format", "markdown"]) == 1
    out, err = capsys.readouterr()
    assert f"{BAD}: deploy started" in out and "gone (unreachable)" in out
    assert "source gone did not answer" in err
