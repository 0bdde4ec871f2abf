"""Readable at a glance: what a new on-call engineer sees at 80×24, with the Argo stand-in, and what
a key that cannot act says. Driven with Pilot against the simulator (or the Kubernetes stand-in) as real servers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.color import Color

from monotui.engine.core import Engine
from monotui.models import Phase
from monotui.simulator.kube_api import KubeStandin, StandinOptions, load_fixtures
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.confirm import ConfirmActionScreen
from monotui.ui.screens.silence import SilenceScreen

from .argo_fixtures import fixtures_dir
from .conftest import make_world, wait_until
from .test_suspects import go_bad
from .ui_helpers import (
    cell,
    make_app,
    notifications,
    panel_text,
    rows_loaded,
    screen_lines,
    select,
    settle,
    static_text,
)

SLOW = {"poll_interval": 60.0, "timeout": 5.0}


def http(url: str) -> dict[str, object]:
    return {"name": "prod", "kind": "http", "url": url, **SLOW}


async def test_a_suspect_says_SUSPECT_in_its_row_and_the_banner_gives_the_count_and_key(
        engine_for: Callable[..., Engine]) -> None:
    world = make_world(initial_deploys=0)
    with SimulatorServer(world, tick_interval=None) as sim:
        go_bad(world)
        app = make_app(engine_for(http(sim.url)))
        async with app.run_test(size=(80, 24)) as pilot:
            await rows_loaded(app)
            await wait_until(lambda: "1 suspect — s" in static_text(app, "#banner"), what="suspect in banner")
            status = cell(app, "prod/cart-api", "status")
            assert status == "⚠ SUSPECT Progressing", "the word and the phase, in the table"
            row = next(line for line in screen_lines(app) if "cart-api" in line)
            assert "⚠ SUSPECT Progressing" in row
            await pilot.press("slash", *"suspect", "enter")
            await settle(pilot)
            assert app.rollouts.table._order == ["prod/cart-api"], "the filter finds it by the word on screen"


async def test_80x24_keeps_service_status_version_step_weight_whole_and_the_footer_keeps_help_and_quit(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for(http(sim.url)))
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_loaded(app)
        await pilot.pause()
        shown = app.rollouts.table.shown_columns
        assert {"service", "status", "step", "weight", "version"} <= set(shown)
        assert "alerts" not in shown, "no alert source: the empty Alerts column takes no width"
        lines = screen_lines(app)
        for rollout in sim.world.rollouts():
            row = next(line for line in lines if f" {rollout.service} " in line)
            assert f" {rollout.version} " in row, f"version cut in {row!r}"
            assert rollout.phase.value in row
        footer = lines[-1]
        assert "? Help" in footer and "q Quit" in footer, footer
        assert max(len(line.rstrip()) for line in lines) <= 80


async def test_the_table_takes_the_rows_it_has_and_the_panels_the_rest(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for(http(sim.url)))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        await pilot.pause()
        table = app.rollouts.table
        assert table.size.height == table.row_count + 1, "header and rows, no empty rows under them"
        banner_and_footer = 2
        assert app.rollouts.detail_panel.outer_size.height == 35 - banner_and_footer - table.outer_size.height


async def test_argo_standin_at_120_shortens_where_and_keeps_version_whole(tmp_path: Path,
                                                                          engine_for: Callable[..., Engine]) -> None:
    options = StandinOptions(bookmark_interval=0.5)
    with KubeStandin(load_fixtures(fixtures_dir()), options=options) as kube:
        source = {"name": "k8s", "kind": "argo-rollouts", "kubeconfig": str(kube.kubeconfig(tmp_path / "kc")),
                  "context": "standin", "timeout": 5}
        app = make_app(engine_for(source))
        async with app.run_test(size=(120, 35)) as pilot:
            await rows_loaded(app)
            await pilot.pause()
            view = max(app.engine.state.by_key.values(), key=lambda v: len(v.rollout.environment))
            key = view.key
            assert len(view.rollout.environment) > 30  # standin/jesse-test-experiment-step
            where = cell(app, key, "where")
            assert len(where) <= 18 and "…" in where and where != view.rollout.environment
            assert where.split("…")[0] in view.rollout.environment
            lines = screen_lines(app)
            for other in app.engine.state.by_key.values():
                assert cell(app, other.key, "version") == other.rollout.version
                assert any(f" {other.rollout.version} " in line for line in lines), other.rollout.version
            select(app, key)
            await pilot.pause()
            assert view.rollout.environment in panel_text(app, "detail"), "the whole Where in the detail panel"


async def test_keys_that_cannot_act_say_why(sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for(http(sim.url)))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        healthy = next(r for r in sim.world.rollouts() if r.phase is Phase.HEALTHY)
        select(app, f"prod/{healthy.id}")
        await pilot.press("s")
        await pilot.press("n")
        await pilot.press("t")
        await pilot.press("S")
        await settle(pilot)
        said = notifications(app)
        assert "no alerts: no Alertmanager source is configured" in said
        assert "no suspect yet: no service breached its thresholds after a change" in said
        assert f"promote needs a paused or progressing rollout ({healthy.service} is Healthy)" in said
        assert any(m.startswith("retry: source prod has no such action") for m in said), said
        assert sim.state.mutating_requests() == []


async def test_read_only_keys_say_actions_are_off_and_the_suspect_line_offers_no_key(
        engine_for: Callable[..., Engine]) -> None:
    world = make_world(initial_deploys=0)
    with SimulatorServer(world, tick_interval=None) as sim:
        go_bad(world)
        app = make_app(engine_for(http(sim.url), read_only=True))
        async with app.run_test(size=(120, 35)) as pilot:
            await rows_loaded(app)
            select(app, "prod/cart-api")
            await wait_until(lambda: "SUSPECT" in panel_text(app, "detail"))
            detail = panel_text(app, "detail")
            assert "read-only: actions are off" in detail and "rolls it back" not in detail
            await pilot.press("b", "s", "p")
            await settle(pilot)
            assert notifications(app).count("read-only: actions are off") == 3
            assert sim.state.mutating_requests() == []


async def test_enter_in_the_reason_field_says_it_did_not_confirm(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for(http(sim.url)))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmActionScreen)
        await pilot.press("shift+tab", *"why", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmActionScreen) and app.screen.focused.id == "confirm"
        assert any("Enter in a field does not confirm" in m for m in notifications(app))
        assert sim.state.mutating_requests() == []


async def test_dialog_typed_name_field_looks_empty_and_silence_title_reads_as_a_question(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for(http(sim.url), protected_services=[r.service for r in sim.world.rollouts()]))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        service = app.rollouts.selected_view().rollout.service  # type: ignore[union-attr]
        await pilot.press("b")
        await settle(pilot)
        typed = app.screen.query_one("#typed-name")
        assert service not in typed.placeholder and typed.value == ""  # type: ignore[attr-defined]
        await pilot.press("escape")
        await settle(pilot)
        app.push_screen(SilenceScreen("auth-api", "alertmanager", 2))
        await settle(pilot)
        assert static_text(app, "#silence-title") == "Silence the alerts of auth-api?"


async def test_evidence_before_is_the_figure_at_the_start_for_a_rollout_live_before_monotui_started(
        engine_for: Callable[..., Engine]) -> None:
    world = make_world(initial_deploys=0)
    with SimulatorServer(world, tick_interval=None) as sim:
        for _ in range(4):
            world.step()
        at_start = next(h for h in world.health() if h.service == "cart-api").error_ratio
        world.deploy("cart-api", bad=True)
        for _ in range(4):
            world.step()
        async with engine_for(http(sim.url)) as engine:
            engine.state.clock = lambda: world.now  # the breach is stamped in the simulated time the steps move
            await engine.refresh_once()  # the first poll: the release is already live
            engine.state.views(world.now)
            while next(h for h in world.health() if h.service == "cart-api").error_ratio < 0.05:
                world.step()
            for _ in range(40):  # long enough that the health history no longer reaches the start
                world.step()
            await engine.refresh_once()
            [suspect] = [v for v in engine.state.views(world.now) if v.evidence]
    assert suspect.rollout.service == "cart-api" and suspect.evidence is not None
    assert suspect.evidence.before == at_start and at_start < 0.02


async def test_only_the_focused_dialog_button_stands_out(sim: SimulatorServer,
                                                         engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for(http(sim.url)))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        await pilot.press("b")
        await settle(pilot)
        cancel, confirm = app.screen.query_one("#cancel"), app.screen.query_one("#confirm")
        assert app.screen.focused is cancel
        focused, unfocused = cancel.styles.background, confirm.styles.background
        assert focused != unfocused and cancel.styles.text_style.bold
        await pilot.press("tab")
        await settle(pilot)
        assert app.screen.focused is confirm
        assert cancel.styles.background == unfocused, "Cancel is not bright once it loses the focus"
        assert confirm.styles.background != unfocused and confirm.styles.text_style.bold


async def test_no_color_carries_every_signal_in_attributes_on_the_terminals_colours(
        engine_for: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    world = make_world(initial_deploys=0)
    with SimulatorServer(world, tick_interval=None) as sim:
        go_bad(world)
        app = make_app(engine_for(http(sim.url)))
        async with app.run_test(size=(80, 24)) as pilot:
            await rows_loaded(app)
            await wait_until(lambda: "SUSPECT" in cell(app, "prod/cart-api", "status"))
            await pilot.press("G")  # the cursor row is reversed: look at the suspect's row without it
            await pilot.pause()
            strips = app.screen._compositor.render_strips()
            for line_filter in app.get_line_filters():
                strips = [strip.apply_filter(line_filter, Color(0, 0, 0)) for strip in strips]
            segments = [segment for strip in strips for segment in strip if segment.text.strip()]
            for segment in segments:
                style = segment.style
                assert style is None or ((style.color is None or style.color.is_default)
                                         and (style.bgcolor is None or style.bgcolor.is_default)), segment
            production = next(s for s in segments if "PRODUCTION" in s.text)
            suspect = next(s for s in segments if "SUSPECT" in s.text)
            errors = cell(app, "prod/cart-api", "errors")
            over = next(s for s in segments if s.text.strip() == errors)
            assert production.style.reverse and production.style.bold
            assert suspect.style.reverse and suspect.style.bold
            assert over.style.underline and over.style.bold and not over.style.reverse
            cursor = next(s for s in segments if s.style and s.style.meta.get("row") == app.rollouts.table.cursor_row)
            assert cursor.style.reverse, "the cursor row, in reverse"
