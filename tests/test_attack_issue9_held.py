"""Attacks on the action safety contract of issue 9 that held: each test tries one and shows it failed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from monotui.cli import main
from monotui.config import build_settings
from monotui.engine.actions import ROLLOUT_ACTIONS
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.models import ActionKind, Phase
from monotui.names import visible
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.confirm import ConfirmActionScreen

from .conftest import ACTOR
from .hostile_proxy import HostileProxy
from .test_action_safety import canary, planned, source
from .ui_helpers import make_app, rows_loaded, select, settle


def _config(tmp_path: Path, url: str, audit_path: Path) -> str:
    path = tmp_path / "monotui.toml"
    path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n'
                    f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{url}"\ntimeout = 2\n')
    return str(path)


@pytest.mark.parametrize("form", [
    ["pause", "--read-only", "cart-api", "--yes", "--config", "{c}"],
    ["pause", "cart-api", "-y", "--config", "{c}", "--read-only"],
    ["--read-only", "--config", "{c}", "pause", "cart-api", "-y"],
    ["--read-only", "pause", "cart-api", "--yes", "--config={c}"],
    ["pause", "cart-api", "--yes", "--config", "{c}", "--", "--read-only"],  # usage error, nothing sent
    ["pause", "cart-api", "--yes", "--config", "{c}", "--read-o"],  # no prefix matching: usage error
])
def test_read_only_cannot_be_dropped_in_any_cli_position(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                                         form: list[str]) -> None:
    canary(sim)
    path = _config(tmp_path, sim.url, audit_path)
    code = main([arg.format(c=path) for arg in form])
    assert code in (1, 2)
    assert sim.state.mutating_requests() == []
    assert sim.world.rollout("cart-api").phase is Phase.PROGRESSING


def test_read_only_from_the_environment_sends_nothing(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    canary(sim)
    monkeypatch.setenv("MONOTUI_READ_ONLY", "1")
    assert main(["pause", "cart-api", "--yes", "--config", _config(tmp_path, sim.url, audit_path)]) == 1
    assert sim.state.mutating_requests() == []


async def test_no_key_sends_anything_in_read_only_mode(sim: SimulatorServer, engine_for: Callable[..., Engine],
                                                       audit_path: Path) -> None:
    """Every action key, the suspect key `s`, and the command palette (ctrl+p, typing an action) in read-only."""
    canary(sim)
    app = make_app(engine_for({**source(sim.url), "poll_interval": 0.2}, read_only=True))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        select(app, "prod/cart-api")
        for spec in ROLLOUT_ACTIONS:
            await pilot.press(spec.key)
            await settle(pilot)
            assert not isinstance(app.screen, ConfirmActionScreen)
            await pilot.press("tab", "enter", "enter")
            await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Pause", "enter")
        await settle(pilot, 0.3)
        await pilot.press("tab", "enter", "enter")
        await settle(pilot)
    assert sim.state.mutating_requests() == []
    assert [r["outcome"] for r in AuditLog(audit_path).read() if r["outcome"] != "refused"] == []


@pytest.mark.parametrize("impostor", [
    "payments-api\u200b", "payments-api\u2060", "\ufeffpayments-api", "payments\u00ad-api", "payments-api\u115f",
    "payments-api\U000E0001", "ｐａｙｍｅｎｔｓ-api", "payments-api\u034f", "payments-api\ufe0f", " payments-api\u3000",
    "payments-api\u202e", "payments-api\u180e",
])
def test_covered_invisible_and_compatibility_characters_stay_protected(impostor: str) -> None:
    settings = build_settings({"protected_services": ["payments-api"]})
    assert settings.is_protected(impostor)
    if " " in impostor or "\u3000" in impostor or "ｐ" in impostor:
        return  # spaces and full-width letters are seen; only invisible characters are marked
    assert "<U+" in visible(impostor)


async def test_a_gateway_error_after_the_backend_acted_is_unknown_and_read_back(
        sim: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    canary(sim)
    with HostileProxy(sim.url, "502") as proxy:
        async with engine_for(source(proxy.url)) as engine:
            outcome = await engine.execute(await planned(engine, ActionKind.PAUSE))
    assert outcome.outcome == "unknown" and outcome.now is not None and "Paused" in outcome.now
    assert [r["outcome"] for r in AuditLog(audit_path).read()] == ["intent", "unknown"]


async def test_a_failed_rollback_is_not_offered_again_after_a_new_release(
        sim: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    """A rollback that provably never left (nothing listens) is "failed", and is not offered for resending after a
    new release landed."""
    start = sim.world.rollout("cart-api").revision
    async with engine_for(source("http://127.0.0.1:9")) as engine:  # nothing listens: failed, not sent
        engine.state.apply_rollout("prod", sim.world.rollout("cart-api"))
        failed = await engine.execute(engine.plan("prod", sim.world.rollout("cart-api"), ActionKind.ROLLBACK))
    assert failed.outcome == "failed"
    canary(sim)
    assert sim.world.rollout("cart-api").revision > start
    async with engine_for(source(sim.url)) as engine:
        await engine.refresh_once()
        assert engine.adopt_unresolved() == [], "a failed intent is not offered for resending"
    assert sim.state.mutating_requests() == []
