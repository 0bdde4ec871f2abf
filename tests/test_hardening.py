"""Nothing lost, nobody fooled: the audit log survives kills and concurrent writers, secrets stay out of every
output, and hostile strings stay inert in every place they are shown."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from monotui.action_kinds import ActionKind
from monotui.cli import main
from monotui.engine.core import Engine
from monotui.models import Strategy
from monotui.simulator.server import SimulatorServer
from monotui.text import clean

from .conftest import make_world
from .ui_helpers import cell, make_app, notifications, panel_text, rows_loaded, select, settle, static_text

WRITER = """
import sys
from pathlib import Path
from monotui.engine.audit import AuditLog, AuditRecord
log = AuditLog(Path(sys.argv[1]))
for i in range(int(sys.argv[2])):
    log.append(AuditRecord(actor=sys.argv[3], source="s", environment="e", service="svc", rollout="svc",
                           action="pause", from_revision=i, to_revision=i, outcome="done",
                           reason="x" * int(sys.argv[4])))
    if i == 0:
        print("started", flush=True)
"""


def test_killing_a_writer_leaves_every_earlier_record_whole(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    for delay in (0.0, 0.01, 0.05, 0.1, 0.2):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(log), "100000", "killed", "3000"],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    lines = [line for line in log.read_text().splitlines() if line]
    whole = []
    for line in lines:
        # a line that does not parse is the record being written when the writer was killed: never shown as done
        with contextlib.suppress(ValueError):
            whole.append(json.loads(line))
    assert len(whole) >= 5 and len(lines) - len(whole) <= 5, "at most one torn record per kill"
    # every other record is whole, none glued to a torn one
    assert all(r["actor"] == "killed" and len(r["reason"]) == 3000 for r in whole)
    from monotui.engine.audit import AuditLog

    assert len(AuditLog(log).read()) == len(whole)


def test_two_processes_interleave_whole_lines_only(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(log), "300", name, "4000"],
                                stdout=subprocess.DEVNULL) for name in ("alice", "bob")]
    for w in writers:
        assert w.wait(120) == 0
    # (a writer that sees the other's record half-way ends its own on a fresh line: an empty line, never a torn one)
    records = [json.loads(line) for line in log.read_text().splitlines() if line]
    assert sorted(r["actor"] for r in records) == ["alice"] * 300 + ["bob"] * 300
    for name in ("alice", "bob"):
        assert [r["from_revision"] for r in records if r["actor"] == name] == list(range(300))
    assert oct(log.stat().st_mode & 0o777) == "0o600"


TOKEN = "tok-3c5b1f0e9a77-never-print-me"


def test_a_planted_token_appears_nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    monkeypatch.setenv("MONOTUI_TEST_TOKEN", TOKEN)
    world = make_world()
    world.deploy("cart-api", strategy=Strategy.CANARY)
    with SimulatorServer(world, token=TOKEN, tick_interval=None) as sim:
        config = tmp_path / "c.toml"
        audit = tmp_path / "state" / "audit.log"
        config.write_text(f'audit_log = "{audit}"\nactor = "a@b"\n[[sources]]\nname = "prod"\nkind = "http"\n'
                          f'url = "{sim.url}"\ntoken_env = "MONOTUI_TEST_TOKEN"\npoll_interval = 0.2\n')
        assert main(["status", "--json", "--config", str(config)]) == 0
        assert main(["pause", "cart-api", "--yes", "--config", str(config)]) == 0
        assert main(["rollback", "cart-api", "--revision", "999", "--yes", "--config", str(config)]) == 1
        printed = capsys.readouterr()
        from monotui.cli import _log_to_state_dir
        from monotui.config import load_settings

        _log_to_state_dir(load_settings(config))  # the log file the TUI writes, searched below too
        logging.getLogger("monotui").warning("log check: the token must not follow this line")
        app = make_app(Engine(load_settings(config)))

        async def session() -> tuple[list[str], str]:
            async with app.run_test(size=(120, 35)) as pilot:
                await rows_loaded(app)
                select(app, "prod/cart-api")
                await pilot.press("r", "tab", "enter")
                await settle(pilot, 0.3)
                return notifications(app), app.export_screenshot()

        shown, screenshot = asyncio.run(session())
        logged = [json.dumps(r.headers) for r in sim.state.requests]
    haystacks = {"stdout": printed.out, "stderr": printed.err, "audit log": audit.read_text(),
                 "notifications": "\n".join(shown), "screenshot": screenshot,
                 "simulator's request log": "".join(logged)}
    state_dir = audit.parent
    logger = logging.getLogger("monotui")
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)
    assert (state_dir / "monotui.log").read_text().count("log check") == 1
    for path in state_dir.iterdir():
        haystacks[str(path)] = path.read_text()
    for where, text in haystacks.items():
        assert TOKEN not in text, f"the token leaked into {where}"
    # pause, refused rollback, resume: each an intent, then its outcome
    assert len(audit.read_text().splitlines()) == 6


HOSTILE = {
    "markup": "[bold red]pwn[/] [ERROR] [/]",
    "ansi": "svc\x1b[31mred\x1b[0m\x07",
    "bidi": "evil\u202etxt.exe",
    "long": "x" * 10_000,
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_strings_are_inert_everywhere(kind: str, engine_for: Callable[..., Engine], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    value = HOSTILE[kind]
    name = value if kind != "long" else "long-" + value[:60]
    world = make_world(names=(name,))
    world.deploy(name, strategy=Strategy.CANARY, message=value, author=value)
    with SimulatorServer(world, tick_interval=None) as sim:
        shown_as = clean(value)
        assert "\x1b" not in shown_as and "\u202e" not in shown_as and len(shown_as) <= 200

        app = make_app(engine_for({"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 60}))

        async def session() -> dict[str, str]:
            async with app.run_test(size=(200, 50)) as pilot:
                await rows_loaded(app)
                key = f"prod/{name}"
                select(app, key)
                await pilot.pause()
                out = {"table": cell(app, key, "service") + cell(app, key, "author"),
                       "detail": panel_text(app, "detail"), "events": panel_text(app, "events")}
                await pilot.press("p")
                await settle(pilot)
                out["confirmation"] = static_text(app, "#confirm-plan") + static_text(app, "#confirm-title")
                await pilot.press("tab", "enter")
                await settle(pilot, 0.3)
                out["notification"] = "\n".join(notifications(app))
                out["screen"] = app.export_screenshot()
                return out

        places = asyncio.run(session())
        config = tmp_path / "c.toml"
        config.write_text(f'audit_log = "{tmp_path / "a.log"}"\n[[sources]]\nname = "prod"\nkind = "http"\n'
                          f'url = "{sim.url}"\n')
        assert main(["status", "--config", str(config)]) == 0
        places["status"] = capsys.readouterr().out
    for where, text in places.items():
        assert "\x1b[31m" not in text and "\x07" not in text, f"raw escape sequence in {where}"
        assert "\u202e" not in text, f"raw bidi override in {where}"
    if kind == "markup":
        for where in ("table", "detail", "confirmation", "notification", "status"):
            assert "[bold red]pwn[/]" in places[where], where
    if kind == "ansi":
        assert "␛[31m" in places["table"] and "␛[31m" in places["detail"]
    if kind == "bidi":
        assert "<U+202E>" in places["table"] and "<U+202E>" in places["confirmation"]
    if kind == "long":
        assert all(len(line) < 400 for line in places["status"].splitlines())



async def test_a_double_key_press_sends_one_action(engine_for: Callable[..., Engine]) -> None:
    world = make_world()
    world.deploy("cart-api", strategy=Strategy.CANARY)
    with SimulatorServer(world, tick_interval=None) as sim:
        app = make_app(engine_for({"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 60}))
        async with app.run_test(size=(120, 35)) as pilot:
            await rows_loaded(app)
            select(app, "prod/cart-api")
            await pilot.press("p", "p")  # the second press lands on the open confirmation: ignored
            await pilot.press("tab", "enter", "enter")  # a double Enter: the second hits the table
            await settle(pilot, 0.3)
            await pilot.press("p", "tab", "enter")  # now Paused: pause does not fit, nothing opens
            await settle(pilot, 0.3)
        assert len(sim.state.mutating_requests()) == 1


async def test_a_retry_after_a_timeout_reuses_the_key_and_never_acts_twice(engine_for: Callable[..., Engine],
                                                                          tmp_path: Path) -> None:
    from monotui.engine.audit import AuditLog
    from monotui.simulator.server import Faults

    world = make_world()
    world.deploy("cart-api", strategy=Strategy.CANARY)
    with SimulatorServer(world, tick_interval=None) as sim:
        async with engine_for({"name": "prod", "kind": "http", "url": sim.url, "timeout": 0.3}) as engine:
            await engine.refresh_once()
            rollout = engine.state.rollout("prod", "cart-api")
            plan = engine.plan("prod", rollout, ActionKind.PAUSE)
            sim.state.faults = Faults(latency_s=1.0)  # the server acts after the client has given up
            sim.state.fault_rng.random = lambda: 1.0  # type: ignore[method-assign]  # exactly 1 s
            first = await engine.execute(plan)
            assert first.outcome == "unknown"
            await wait_for_pause(world)
            sim.state.faults = Faults()
            again = await engine.execute(plan)  # the operator retries the same intent
            assert again.ok
        posted = sim.state.mutating_requests()
        assert len(posted) == 2 and posted[0].headers["idempotency-key"] == posted[1].headers["idempotency-key"]
        assert [e.kind.value for e in world.events if e.service == "cart-api"].count("paused") == 1
        assert [r["outcome"] for r in AuditLog(engine.settings.audit_log).outcomes()] == ["unknown", "done"]


async def wait_for_pause(world: object) -> None:
    import asyncio

    from monotui.models import Phase

    for _ in range(100):
        if world.rollout("cart-api").phase is Phase.PAUSED:  # type: ignore[attr-defined]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the server never acted")


async def test_two_monotui_processes_acting_at_once_do_one_thing(engine_for: Callable[..., Engine]) -> None:
    import asyncio

    world = make_world()
    world.deploy("cart-api", strategy=Strategy.CANARY)
    with SimulatorServer(world, tick_interval=None) as sim:
        source = {"name": "prod", "kind": "http", "url": sim.url}
        async with engine_for(source) as alice, engine_for(source) as bob:
            await asyncio.gather(alice.refresh_once(), bob.refresh_once())
            outcomes = await asyncio.gather(*(
                e.execute(e.plan("prod", e.state.rollout("prod", "cart-api"), ActionKind.PAUSE))
                for e in (alice, bob)))
        assert sorted(o.outcome for o in outcomes) == ["done", "refused"]
        assert "409" in next(o.error or "" for o in outcomes if o.outcome == "refused")
        assert [e.kind.value for e in world.events if e.service == "cart-api"].count("paused") == 1
