"""The history screen (`h` on a row): the revisions newest first with how each ended, fitting 80×24; `d` shows what
changed (the image among it, with +/- even without colour); `Enter` on an older revision opens the roll-back
confirmation pinned to it, and what the server receives and the audit log say name that revision; read-only mode
refuses it, audited."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.simulator.kube_api import KubeStandin, load_fixtures
from monotui.simulator.server import SimulatorServer
from monotui.ui.app import MonotuiApp
from monotui.ui.screens.confirm import ConfirmActionScreen
from monotui.ui.screens.history import HistoryScreen
from monotui.ui.widgets.panels import RenderablePanel

from .argo_fixtures import fixtures_dir
from .conftest import ACTOR, wait_until
from .test_revision_history import SERVICE, argo_source, staged_world
from .ui_helpers import make_app, notifications, rows_loaded, screen_lines, select, settle, static_text


@pytest.fixture
def staged() -> Iterator[SimulatorServer]:
    with SimulatorServer(staged_world(), tick_interval=None) as server:
        yield server


def source(url: str) -> dict[str, Any]:
    return {"name": "prod", "kind": "http", "url": url, "poll_interval": 60, "timeout": 5}


async def open_history(app: MonotuiApp, pilot: Any, key: str) -> HistoryScreen:
    await rows_loaded(app)
    select(app, key)
    await pilot.press("h")
    await wait_until(lambda: isinstance(app.screen, HistoryScreen) and bool(app.screen.revisions), timeout=20,
                     what="the history screen and its revisions")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, HistoryScreen)
    return screen


def panel(screen: HistoryScreen) -> str:
    return "\n".join(screen.query_one("#revision-detail", RenderablePanel).lines)


async def test_history_fits_80x24_and_says_how_each_revision_ended(
        staged: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for(source(staged.url)))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_history(app, pilot, f"prod/{SERVICE}")
        await pilot.pause()
        lines = screen_lines(app)
        assert len(lines) == 24
        shown = "\n".join(lines)
        # every revision on screen, each with how it ended, within 80 columns
        for revision, ending in ((15, "rolled back"), (14, "live"), (13, "aborted"), (12, "promoted"),
                                 (11, "promoted"), (10, "promoted")):
            row = next((line for line in lines if f"r{revision} " in line), None)
            assert row is not None and ending in row, (revision, shown)
        assert "Roll back to" in lines[-1] and "Diff" in lines[-1]  # the footer's keys
        assert "r15" in panel(screen) and "p99 doubled" in panel(screen)  # the selected one in full: why it ended


async def test_d_shows_the_image_change_with_signs(staged: SimulatorServer, engine_for: Callable[..., Engine],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(engine_for(source(staged.url)))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_history(app, pilot, f"prod/{SERVICE}")
        await pilot.press("d")  # r15 against r14
        await pilot.pause()
        text = panel(screen)
        r14, r15 = (staged.world.services[SERVICE].history[i] for i in (-2, -1))
        assert f"--- r14 ({r14.version})" in text and f"+++ r15 ({r15.version})" in text
        assert f"- image: {r14.image}" in text and f"+ image: {r15.image}" in text
        shown = "\n".join(screen_lines(app))
        assert f"- image: {r14.image}"[:60] in shown and f"+ image: {r15.image}"[:60] in shown
        # two marked revisions: r10 against r13
        await pilot.press("escape")  # back from the diff to the revision
        await pilot.press("down", "down", "space", "down", "down", "down", "space", "d")
        await pilot.pause()
        assert "--- r10" in panel(screen) and "+++ r13" in panel(screen)


async def test_enter_rolls_back_to_the_chosen_revision_pinned_and_audited(
        staged: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    app = make_app(engine_for(source(staged.url)))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_history(app, pilot, f"prod/{SERVICE}")
        await pilot.press("down", "enter")  # r14: the revision it is at: nothing to roll back to
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        assert any("r14 is the revision checkout-api is at now" in n for n in notifications(app))
        await pilot.press("down", "down")  # r12: not the default rollback target
        assert screen.selected is not None and screen.selected.revision == 12
        version = screen.selected.version
        await pilot.press("enter")
        await wait_until(lambda: isinstance(app.screen, ConfirmActionScreen), what="the confirmation")
        plan = static_text(app, "#confirm-plan")
        assert f"r14 ({staged.world.rollout(SERVICE).version}) → r12 ({version})" in plan
        await pilot.press("shift+tab", *"back to r12", "tab", "tab", "enter")
        await settle(pilot)
        await wait_until(lambda: bool(staged.state.mutating_requests()), what="the request")
        [posted] = staged.state.mutating_requests()
        assert posted.path == f"/v1/rollouts/{SERVICE}/actions/rollback"
        assert json.loads(posted.body) == {"actor": ACTOR, "reason": "back to r12", "revision": 12,
                                           "expected_revision": 14}
        records = AuditLog(audit_path).read()
        assert [r["outcome"] for r in records] == ["intent", "done"]
        assert all(r["target_revision"] == 12 and r["confirmed_by"] == "dialog" for r in records)
        # the history reads the revisions again: r12 is live and stable now
        await wait_until(lambda: isinstance(app.screen, HistoryScreen) and any(
            r.revision == 12 and r.stable for r in app.screen.revisions), what="the history read again")


async def test_enter_in_read_only_mode_sends_nothing_and_is_audited(
        staged: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    app = make_app(engine_for(source(staged.url), read_only=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_history(app, pilot, f"prod/{SERVICE}")
        await pilot.press("down", "down", "down", "enter")
        await settle(pilot)
        await wait_until(lambda: any("read-only" in n for n in notifications(app)), what="the refusal")
        assert isinstance(app.screen, HistoryScreen)
    assert not staged.state.mutating_requests()
    [record] = AuditLog(audit_path).read()
    assert record["outcome"] == "refused" and record["target_revision"] == 12


async def test_history_of_an_argo_rollout_from_the_kubernetes_standin(
        tmp_path: Path, make_settings: Callable[..., Any]) -> None:
    with KubeStandin(load_fixtures(fixtures_dir())) as kube:
        app = make_app(Engine(make_settings(argo_source(kube, tmp_path))))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_history(app, pilot, "k8s/jesse-test/canary-demo")
            assert [r.revision for r in screen.revisions] == [31, 30, 29]
            shown = "\n".join(screen_lines(app))
            assert "rolled back" in shown and "live" in shown
            await pilot.press("d")
            await pilot.pause()
            text = panel(screen)
            assert "- image[canary-demo]: argoproj/rollouts-demo:green" in text
            assert "+ image[canary-demo]: argoproj/rollouts-demo:does-not-exist" in text


async def test_the_history_reads_again_when_the_rollout_moves_on(
        staged: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for({"name": "prod", "kind": "http", "url": staged.url, "poll_interval": 0.2,
                               "timeout": 5}))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_history(app, pilot, f"prod/{SERVICE}")
        assert screen.revisions[0].revision == 15
        staged.world.deploy(SERVICE)  # r16 starts
        await wait_until(lambda: bool(screen.revisions) and screen.revisions[0].revision == 16, timeout=30,
                         what="the new revision listed")
        assert screen.revisions[0].current and screen.revisions[0].ended.value == "live"
