"""Every confirmation names another operator who acted on the same rollout in the last minutes: the TUI's dialog
(also when they act while it is open) and the command line's prompt, for the deploy API and for Argo Rollouts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monotui.action_kinds import ActionKind
from monotui.cli import main
from monotui.config import build_settings
from monotui.engine.core import Engine
from monotui.models import Strategy
from monotui.simulator.kube_api import KubeStandin, load_fixtures
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.confirm import ConfirmActionScreen

from .argo_fixtures import fixtures_dir
from .conftest import ACTOR, wait_until
from .ui_helpers import make_app, rows_loaded, select, settle, static_text

ALICE = "alice@bastion-2"


async def dialog_open(app: Any) -> None:
    await wait_until(lambda: isinstance(app.screen, ConfirmActionScreen) and bool(app.screen.query("#others-acted")),
                     what="the confirmation")


async def act_as(engine: Engine, service: str, kind: ActionKind, reason: str) -> None:
    await engine.refresh_once()
    source, rollout = engine.find(service)[0]
    outcome = await engine.execute(engine.plan(source, rollout, kind), reason, confirmed_by="dialog")
    assert outcome.ok, outcome.message()


async def test_the_dialog_names_a_colleagues_pause_with_their_reason(sim: SimulatorServer, engine_for: Any) -> None:
    sim.world.now = datetime.now(UTC)  # the events' times: now, however long the session has run
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    sim.world.deploy("search-api", strategy=Strategy.CANARY)
    async with engine_for(sim.url, actor=ALICE) as alice:
        await act_as(alice, "cart-api", ActionKind.PAUSE, "investigating")
    app = make_app(engine_for(sim.url))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        select(app, "prod/cart-api")
        await pilot.press("r")  # resume what alice paused
        await settle(pilot)
        await dialog_open(app)
        warning = static_text(app, "#others-acted")
        assert "Someone else acted on this recently" in warning
        assert f"{ALICE} paused this " in warning and " ago: 'investigating'" in warning
        await pilot.press("escape")
        await settle(pilot)
        select(app, "prod/search-api")  # another rollout: no warning
        await pilot.press("p")
        await settle(pilot)
        await dialog_open(app)
        assert not app.screen.query_one("#others-acted").display


async def test_a_colleague_who_acts_while_the_dialog_is_open_is_named_at_once(
        sim: SimulatorServer, engine_for: Any) -> None:
    sim.world.now = datetime.now(UTC)  # the events' times: now, however long the session has run
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    app = make_app(engine_for(sim.url))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        select(app, "prod/cart-api")
        await pilot.press("p")
        await settle(pilot)
        await dialog_open(app)
        assert not app.screen.query_one("#others-acted").display
        async with engine_for(sim.url, actor=ALICE) as alice:
            await act_as(alice, "cart-api", ActionKind.PAUSE, "error spike")
        await wait_until(lambda: f"{ALICE} paused this " in static_text(app, "#others-acted")
                         and bool(app.screen.query_one("#others-acted").display), timeout=15,
                         what="the colleague named in the open dialog")


def test_the_command_line_prompt_names_a_colleagues_pause(sim: SimulatorServer, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    sim.world.now = datetime.now(UTC)  # the events' times: now, however long the session has run
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    config = tmp_path / "monotui.toml"

    def write(actor: str) -> str:
        config.write_text(f'actor = "{actor}"\naudit_log = "{tmp_path / actor / "audit.log"}"\n'
                          f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{sim.url}"\ntimeout = 2\n')
        return str(config)

    assert main(["pause", "cart-api", "--yes", "--reason", "investigating", "--config", write(ALICE)]) == 0
    capsys.readouterr()
    assert main(["resume", "cart-api", "--yes", "--config", write(ACTOR)]) == 0
    out = capsys.readouterr().out
    [warning] = [line for line in out.splitlines() if "WARNING" in line]
    assert f"WARNING: {ALICE} paused this " in warning and warning.endswith(" ago: 'investigating'")
    # my own resume is no warning to me: the next prompt still names alice only
    assert main(["pause", "cart-api", "--yes", "--config", write(ACTOR)]) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and ALICE in warnings[0]


async def test_the_dialog_names_a_colleagues_argo_pause_read_from_the_cluster(tmp_path: Path) -> None:
    with KubeStandin(load_fixtures(fixtures_dir() / "canary")) as kube:
        def engine(actor: str) -> Engine:
            folder = tmp_path / actor
            folder.mkdir(exist_ok=True)
            return Engine(build_settings({
                "sources": [{"name": "k8s", "kind": "argo-rollouts",
                             "kubeconfig": str(kube.kubeconfig(folder / "kubeconfig")), "timeout": 2.0}],
                "actor": actor, "audit_log": str(folder / "audit.log")}))

        async with engine(ALICE) as alice:
            await act_as(alice, "canary-demo", ActionKind.PAUSE, "investigating")
        app = make_app(engine(ACTOR))
        async with app.run_test(size=(120, 35)) as pilot:
            await rows_loaded(app)
            select(app, "k8s/jesse-test/canary-demo")
            await pilot.press("R")  # restart
            await settle(pilot)
            await dialog_open(app)
            warning = static_text(app, "#others-acted")
            assert f"{ALICE} paused this " in warning and " ago: 'investigating'" in warning
