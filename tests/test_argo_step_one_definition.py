"""One definition of the step, shown the same everywhere: the Step column and the promote
confirmation say the same `currentStepIndex/steps` for the same rollout, and an index past the end reads as the
plugin prints it (`11/8`), never clamped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monotui.action_kinds import ActionKind
from monotui.config import build_settings
from monotui.engine.actions import plan_action
from monotui.engine.attention import Attention
from monotui.engine.core import Engine, describe
from monotui.engine.state import RolloutView
from monotui.models import Phase, Rollout, Step, Strategy
from monotui.render.rollouts import step_text
from monotui.simulator.kube_api import KubeStandin, StandinOptions, load_fixtures

from .argo_fixtures import fixtures_dir


def rollout(index: int | None, steps: int) -> Rollout:
    return Rollout(id="a", service="a", environment="e", strategy=Strategy.CANARY, phase=Phase.PAUSED, revision=2,
                   version="v2", started_at=datetime(2026, 12, 7, 10, tzinfo=UTC), steps=[Step(weight=10)] * steps,
                   current_step=index)


def column(r: Rollout) -> str:
    return step_text(RolloutView("k", r, None, Attention.PROGRESSING, False, False))


@pytest.mark.parametrize(("index", "steps", "shown", "promote"), [
    (0, 5, "0/5", "step 0/5 → 1/5"),
    (2, 5, "2/5", "step 2/5 → 3/5"),
    (4, 5, "4/5", "step 4/5 → 5/5, done"),
    (5, 5, "5/5", "step 5/5 (past the last step)"),
    (7, 5, "7/5", "step 7/5 (past the last step)"),
])
def test_the_column_and_the_promote_confirmation_say_the_same_step(index: int, steps: int, shown: str,
                                                                   promote: str) -> None:
    r = rollout(index, steps)
    assert column(r) == shown
    assert promote in plan_action("k8s", r, ActionKind.PROMOTE).effect
    assert r.step_text() == shown
    assert describe(r).endswith(f", step {shown}")  # what a re-read after an unknown outcome shows


def test_no_step_is_a_dash() -> None:
    assert column(rollout(None, 5)) == "-" and column(rollout(3, 0)) == "-"


@pytest.fixture
def kube() -> Iterator[KubeStandin]:
    objects = load_fixtures(fixtures_dir() / "canary")
    at = {"canary-demo": 2, "canary-demo-pingpong": 11}  # the third of 8 steps; past the end of its 8 steps
    for obj in objects:
        if obj["kind"] == "Rollout" and obj["metadata"]["name"] in at:
            # paused on a step by a controller that sets status.phase (promote is offered on a paused rollout)
            obj["status"].update(currentStepIndex=at[obj["metadata"]["name"]], phase="Paused",
                                 message="CanaryPauseStep",
                                 pauseConditions=[{"reason": "CanaryPauseStep", "startTime": "2026-12-07T10:00:00Z"}])
    with KubeStandin(objects, options=StandinOptions(bookmark_interval=0.2)) as server:
        yield server


async def test_the_tui_shows_one_step_in_the_table_and_the_confirmation(kube: KubeStandin, tmp_path: Path) -> None:
    from monotui.ui.app import MonotuiApp
    from monotui.ui.screens.confirm import ConfirmActionScreen

    from .conftest import wait_until
    from .ui_helpers import cell, panel_text, rows_loaded, select, settle, static_text

    settings = build_settings({
        "sources": [{"name": "k8s", "kind": "argo-rollouts", "context": "standin",
                     "kubeconfig": str(kube.kubeconfig(tmp_path / "kubeconfig"))}],
        "actor": "oncall@bastion", "audit_log": str(tmp_path / "audit.log")})
    app = MonotuiApp(Engine(settings))
    seen: dict[str, Any] = {}

    def detail_of(name: str) -> Callable[[], bool]:
        return lambda: panel_text(app, "detail").startswith(name)

    async with app.run_test(size=(180, 40)) as pilot:
        await rows_loaded(app, 6)
        for name, step in (("canary-demo", "2/8"), ("canary-demo-pingpong", "11/8")):
            key = f"k8s/jesse-test/{name}"
            seen[name] = cell(app, key, "step")
            select(app, key)
            await pilot.pause()
            await wait_until(detail_of(name))
            seen[f"{name} detail"] = panel_text(app, "detail")
            await pilot.press("n")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmActionScreen)
            seen[f"{name} plan"] = static_text(app, "#confirm-plan")
            await pilot.press("escape")
            await settle(pilot)
            assert seen[name] == step, seen
    assert "step 2/8 → 3/8" in seen["canary-demo plan"], seen
    assert "step 11/8 (past the last step)" in seen["canary-demo-pingpong plan"], seen
    assert "step 2/8 ·" in seen["canary-demo detail"] and "step 11/8 (done) ·" in seen["canary-demo-pingpong detail"]
