"""An attempt whose outcome is unknown is sent again with its own key, and shown as it will be sent.

The resend ledger keeps every unresolved attempt beside the audit log, so rotating the log does not turn the same
command into a second action; and what a resend shows (the CLI's prompt, the TUI's dialog after a restart) is built
from the intent record that will be sent again, never from the rollout as it is now. Real loopback servers: the
simulator, behind a proxy that lets it act and loses the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from monotui.action_kinds import ActionKind
from monotui.cli import main
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.models import Phase
from monotui.simulator.server import SimulatorServer

from .conftest import ACTOR
from .hostile_proxy import HostileProxy


def source(url: str) -> dict[str, object]:
    return {"name": "prod", "kind": "http", "url": url, "poll_interval": 60.0, "timeout": 2.0}


def config(tmp_path: Path, url: str, audit_path: Path) -> str:
    path = tmp_path / "monotui.toml"
    path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n'
                    f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{url}"\ntimeout = 2\n')
    return str(path)


async def _lost_rollback(sim: SimulatorServer, engine_for: Callable[..., Engine], proxy: HostileProxy) -> str:
    """`rollback cart-api` whose answer is lost after the simulator acted: returns its Idempotency-Key."""
    async with engine_for(source(proxy.url)) as engine:
        await engine.refresh_once()
        rollout = engine.state.rollout("prod", "cart-api")
        assert rollout is not None
        outcome = await engine.execute(engine.plan("prod", rollout, ActionKind.ROLLBACK), confirmed_by="yes-flag")
    assert outcome.outcome == "unknown", outcome.message()
    return outcome.plan.idempotency_key


@pytest.mark.parametrize("rotation", ["rename", "truncate"])
def test_rotating_the_audit_log_after_an_unknown_outcome_does_not_act_twice(
        sim: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], rotation: str) -> None:
    """r12 → r11 (answer lost), the log rotated, the same command again: it resends r12 → r11 with the same key
    (the server replays it), never r11 → r10."""
    import asyncio

    start = sim.world.rollout("cart-api").revision
    with HostileProxy(sim.url, "close") as proxy:
        key = asyncio.run(_lost_rollback(sim, engine_for, proxy))
        after_first = sim.world.rollout("cart-api").revision
        assert after_first < start, "the simulator acted on the first attempt"
        if rotation == "rename":  # logrotate's default: the log moves away, a new one starts empty
            audit_path.rename(audit_path.with_name(audit_path.name + ".1"))
        else:  # copytruncate
            audit_path.write_bytes(b"")
        proxy.mode = "pass"
        assert main(["rollback", "cart-api", "--yes", "--config", config(tmp_path, proxy.url, audit_path)]) == 0
    out = capsys.readouterr().out
    assert "sent again" in out and "same key" in out, out
    assert sim.world.rollout("cart-api").revision == after_first, "rolled back once, not twice"
    [record] = AuditLog(audit_path).outcomes()
    assert (record["idempotency_key"], record["attempt"], record["outcome"]) == (key, 2, "done")


def test_a_settled_attempt_is_not_sent_again_after_rotation(
        sim: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Once the resend is done, the ledger has nothing left: the next command is a new intent."""
    import asyncio

    with HostileProxy(sim.url, "close") as proxy:
        key = asyncio.run(_lost_rollback(sim, engine_for, proxy))
        proxy.mode = "pass"
        assert main(["rollback", "cart-api", "--yes", "--config", config(tmp_path, proxy.url, audit_path)]) == 0
        audit_path.rename(audit_path.with_name(audit_path.name + ".1"))
        capsys.readouterr()
        main(["rollback", "cart-api", "--yes", "--config", config(tmp_path, proxy.url, audit_path)])
    out = capsys.readouterr().out
    assert "sent again" not in out, out
    assert all(r["idempotency_key"] != key for r in AuditLog(audit_path).read())


async def _killed_in_flight_rollback(sim: SimulatorServer, engine_for: Callable[..., Engine]) -> tuple[int, str]:
    """An intent written, then monotui killed before the request left; then a new release lands, so the rollout's
    own rollback target moves. Returns (the revision the intent targets, its key)."""
    async with engine_for(source(sim.url)) as engine:
        await engine.refresh_once()
        rollout = engine.state.rollout("prod", "cart-api")
        assert rollout is not None
        plan = engine.plan("prod", rollout, ActionKind.ROLLBACK)
        engine._record(plan, "intent", None, None, confirmed_by="yes-flag")
    assert plan.target_revision is not None
    sim.world.deploy("cart-api")
    for _ in range(400):
        sim.world.step()
        if sim.world.rollout("cart-api").phase is Phase.HEALTHY:
            break
    now = sim.world.rollout("cart-api")
    assert now.rollback_to is not None and now.rollback_to.revision != plan.target_revision, \
        "the rollout's own rollback target moved"
    return plan.target_revision, plan.idempotency_key


def test_the_cli_prompt_of_a_resend_names_the_target_that_is_resent(
        sim: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    target, key = asyncio.run(_killed_in_flight_rollback(sim, engine_for))
    main(["rollback", "cart-api", "--yes", "--config", config(tmp_path, sim.url, audit_path)])
    out = capsys.readouterr().out
    assert "sent again" in out, out
    assert f"all traffic moves to r{target}" in out, out
    assert set(re.findall(r"moves to r(\d+)", out)) == {str(target)}, out
    assert re.search(rf"→ r{target}\b", out), out
    sent = [r for r in AuditLog(audit_path).read() if r["outcome"] == "intent" and r.get("attempt") == 2]
    assert [(r["idempotency_key"], r["target_revision"]) for r in sent] == [(key, target)]


async def test_the_plan_a_dialog_shows_after_a_restart_is_the_intent_record(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    """The TUI's dialog is built from the plan `adopt_unresolved` and `plan` give: every field it shows (target,
    revisions, effect) is the record's."""
    target, key = await _killed_in_flight_rollback(sim, engine_for)
    async with engine_for(source(sim.url)) as engine:
        await engine.refresh_once()
        [adopted] = engine.adopt_unresolved()
        rollout = engine.state.rollout("prod", "cart-api")
        assert rollout is not None
        plan = engine.plan("prod", rollout, ActionKind.ROLLBACK)
    assert plan.idempotency_key == adopted.idempotency_key == key and plan.resend
    assert plan.target_revision == plan.to_revision.revision == target
    assert rollout.rollback_to is not None
    assert f"r{target}" in plan.effect and f"r{rollout.rollback_to.revision} " not in plan.effect + " "
    assert f"→ r{target}" in plan.summary()


async def test_the_tui_dialog_after_a_restart_shows_the_intent_it_resends(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    from monotui.ui.screens.confirm import ConfirmActionScreen

    from .ui_helpers import make_app, rows_loaded, select, settle, static_text

    target, _ = await _killed_in_flight_rollback(sim, engine_for)
    moved_to = sim.world.rollout("cart-api").rollback_to
    assert moved_to is not None
    app = make_app(engine_for(source(sim.url)))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        select(app, "prod/cart-api")
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmActionScreen)
        shown = static_text(app, "#confirm-plan")
        assert "same Idempotency-Key" in static_text(app, "#resend-note")
        await pilot.press("escape")
    assert f"all traffic moves to r{target}" in shown, shown
    assert f"r{moved_to.revision} (" not in shown.split("→")[-1], shown


def test_the_ledger_file_keeps_only_unresolved_attempts_once_it_has_grown(audit_path: Path) -> None:
    from datetime import UTC, datetime

    from monotui.engine.audit import AuditRecord
    from monotui.engine.resend_ledger import COMPACT_ABOVE, ResendLedger, ledger_path

    def line(key: str, outcome: str) -> str:
        return AuditRecord(actor=ACTOR, source="prod", environment="e", service="cart-api", rollout="cart-api",
                           action="pause", from_revision=1, to_revision=1, outcome=outcome,  # type: ignore[arg-type]
                           idempotency_key=key, time=datetime.now(UTC).isoformat()).to_json() + "\n"

    path = ledger_path(audit_path)
    path.parent.mkdir(parents=True)
    settled = "".join(line(f"k{i}", stage) for i in range(2000) for stage in ("intent", "done"))
    path.write_text(settled + line("open", "intent") + line("open", "unknown"))
    path.chmod(0o600)
    assert path.stat().st_size > COMPACT_ABOVE
    [record] = ResendLedger(AuditLog(audit_path)).unresolved()
    assert (record["idempotency_key"], record["outcome"]) == ("open", "unknown")
    assert path.stat().st_size < 2048, "compacted"
    [again] = ResendLedger(AuditLog(audit_path)).unresolved()
    assert again["idempotency_key"] == "open"
