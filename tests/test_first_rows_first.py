"""On the way to the first rows the app does nothing else: the flag sources' first polls wait until the rows are
drawn (not only answered), and a TUI command starts without the cycle collector, which comes back once the rows
are drawn — or after a bound when no rows come — with what start-up built frozen out of its later passes."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.responses import Response

from monotui import startup_gc
from monotui.cli import main
from monotui.config import Settings
from monotui.engine import core
from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.ui.app import MonotuiApp

from .conftest import wait_until
from .hostile import HostileServer
from .test_startup_cost import DEPLOY_PATHS, following
from .ui_helpers import rows_loaded, screen_lines


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    yield
    startup_gc._paused = False  # a test that stopped half-way must not leave the collector off
    gc.enable()
    gc.unfreeze()


@pytest.fixture
def flags_never_time_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the app's word (or the first answers) can start the flag sources: their time limit is out of reach."""
    monkeypatch.setattr(core, "FLAGS_AFTER_S", 600.0)


def spy_on_first_rows(monkeypatch: pytest.MonkeyPatch, what: Callable[[MonotuiApp], Any]) -> list[Any]:
    """What `what` says at the moment the app's table draws its first rows."""
    seen: list[Any] = []
    drawn = MonotuiApp._first_rows_drawn

    def spy(self: MonotuiApp) -> None:
        seen.append(what(self))
        drawn(self)

    monkeypatch.setattr(MonotuiApp, "_first_rows_drawn", spy)
    return seen


def flag_requests(sim: SimulatorServer) -> int:
    return sum(r.path.startswith("/api/admin/") for r in sim.state.requests)


def deploys_and_flags(make_settings: Callable[..., Settings], deploys: str, flags: str) -> Engine:
    return Engine(make_settings({"name": "prod", "kind": "http", "url": deploys, "poll_interval": 2.0},
                                {"name": "flags", "kind": "unleash", "url": flags, "poll_interval": 2.0}))


async def test_the_flags_are_asked_for_once_the_first_rows_are_drawn(
        sim: SimulatorServer, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch,
        flags_never_time_out: None) -> None:
    asked_when_drawn = spy_on_first_rows(monkeypatch, lambda app: flag_requests(sim))
    app = MonotuiApp(deploys_and_flags(make_settings, sim.url, sim.url))
    async with app.run_test(size=(120, 35)):
        await rows_loaded(app)
        await wait_until(lambda: bool(app.engine.state.all_flags()), timeout=30, what="the flags")
        assert asked_when_drawn == [0], "no flag was asked for before the first rows were drawn"
        assert flag_requests(sim) > 0
        assert any(sorted(sim.world.services)[0] in line for line in screen_lines(app))


async def test_with_a_ui_that_draws_rows_the_flags_wait_for_its_word_not_only_the_first_answers(
        sim: SimulatorServer, make_settings: Callable[..., Settings], flags_never_time_out: None) -> None:
    engine = Engine(make_settings(sim.url, {"name": "flags", "kind": "unleash", "url": sim.url,
                                            "poll_interval": 2.0}))
    engine.rows_first = True  # as the app says at its start
    async with following(engine, "prod", "flags") as seen:
        await wait_until(lambda: len(seen["prod"]) >= 3, what="three polls of the deploy source (0.1 s apart)")
        assert all(seen["prod"]) and engine.first_answers_in
        assert flag_requests(sim) == 0, "answered, but not yet drawn: no flag asked for"
        engine.rows_shown()
        await wait_until(lambda: bool(engine.state.all_flags()), timeout=30, what="the flags")


async def test_a_deploy_source_that_failed_does_not_keep_the_flags_waiting(
        sim: SimulatorServer, make_settings: Callable[..., Settings], flags_never_time_out: None) -> None:
    async def down(request: Any) -> Any:
        return Response(b'{"detail": "down"}', status_code=503, media_type="application/json")

    with HostileServer(dict.fromkeys(DEPLOY_PATHS, down)) as deploys:
        app = MonotuiApp(deploys_and_flags(make_settings, deploys.url, sim.url))
        async with app.run_test(size=(120, 35)):
            # no rows will be drawn: the flags come anyway, long before their time limit
            await wait_until(lambda: bool(app.engine.state.all_flags()), timeout=30, what="the flags")
            assert app.rollouts.table.row_count == 0 and app.engine.state.status("prod").failures >= 1


async def test_start_up_runs_without_the_cycle_collector_until_the_first_rows_are_drawn(
        sim: SimulatorServer, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(startup_gc, "AFTER_FIRST_ROWS_S", 0.05)
    monkeypatch.setattr(startup_gc, "RESUME_AT_MOST_S", 600.0)  # only the rows can bring it back here
    collecting_when_drawn = spy_on_first_rows(monkeypatch, lambda app: gc.isenabled())
    startup_gc.pause()  # as `monotui` and `monotui demo` do before anything else
    assert not gc.isenabled()
    app = MonotuiApp(Engine(make_settings(sim.url)))
    async with app.run_test(size=(120, 35)):
        await rows_loaded(app)
        await wait_until(gc.isenabled, what="the collector back on")
        assert collecting_when_drawn == [False]
        assert gc.get_freeze_count() > 10_000, "what start-up built is out of the collector's later passes"
        assert not startup_gc.paused()


async def test_with_no_rows_the_collector_comes_back_after_its_bound(
        make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(startup_gc, "RESUME_AT_MOST_S", 0.3)

    async def never(request: Any) -> Any:
        return Response(b'{"detail": "down"}', status_code=503, media_type="application/json")

    with HostileServer(dict.fromkeys(DEPLOY_PATHS, never)) as down:
        startup_gc.pause()
        app = MonotuiApp(Engine(make_settings(down.url)))
        async with app.run_test(size=(120, 35)):
            await wait_until(gc.isenabled, timeout=10, what="the collector back on")
            assert app.rollouts.table.row_count == 0


def test_a_command_that_ends_before_the_app_turns_the_collector_back_on(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    collecting_at_resume: list[bool] = []
    resume = startup_gc.resume

    def spy() -> None:
        collecting_at_resume.append(gc.isenabled())
        resume()

    monkeypatch.setattr(startup_gc, "resume", spy)
    broken = tmp_path / "monotui.toml"
    broken.write_text("read_only = 3\n")
    assert main(["--config", str(broken)]) == 2  # the TUI command, stopped by its configuration
    assert main(["demo", "--config", str(broken)]) == 2
    assert collecting_at_resume == [False, False], "paused at the start of each, back on at its end"
    assert gc.isenabled()
