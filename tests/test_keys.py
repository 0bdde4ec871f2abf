"""Keys as people already type them: j/k/g/G as in k9s, a [keymap] table in the config remapping any
binding id, sorting by column shown in the header with attention order one key away."""

from __future__ import annotations

from collections.abc import Callable

from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.confirm import ConfirmActionScreen
from monotui.ui.screens.help import HelpScreen

from .ui_helpers import make_app, notifications, panel_text, rows_loaded, screen_lines, settle

SLOW = {"poll_interval": 60.0, "timeout": 5.0}


def http(url: str) -> dict[str, object]:
    return {"name": "prod", "kind": "http", "url": url, **SLOW}


def header(app) -> str:  # type: ignore[no-untyped-def]
    return next(line for line in screen_lines(app) if "Service" in line and "Status" in line)


async def test_j_k_g_G_move_and_the_action_keys_are_unchanged(sim: SimulatorServer,
                                                             engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for(http(sim.url)))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        last = app.rollouts.table.row_count - 1
        await pilot.press("j", "j")
        assert app.rollouts.table.cursor_row == 2
        await pilot.press("k")
        assert app.rollouts.table.cursor_row == 1
        await pilot.press("G")
        assert app.rollouts.table.cursor_row == last
        await pilot.press("g")
        assert app.rollouts.table.cursor_row == 0
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmActionScreen)


async def test_keymap_from_config_remaps_by_binding_id(sim: SimulatorServer,
                                                       engine_for: Callable[..., Engine]) -> None:
    keymap = {"cursor.down": "ctrl+n", "cursor.up": "ctrl+k", "rollout.rollback": "x", "no.such": "z"}
    app = make_app(engine_for(http(sim.url), keymap=keymap))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        await settle(pilot)
        assert any("keymap: unknown binding id(s) no.such" in m for m in notifications(app))
        await pilot.press("ctrl+n", "ctrl+n")
        assert app.rollouts.table.cursor_row == 2
        await pilot.press("j")
        assert app.rollouts.table.cursor_row == 2, "j was replaced by ctrl+n"
        await pilot.press("ctrl+k")
        assert app.rollouts.table.cursor_row == 1
        await pilot.press("b")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmActionScreen), "b was replaced by x"
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmActionScreen)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        # the keymap id sits under its command's line: the key is on that line or the one above it
        lines = screen_lines(app)
        at = next(i for i, line in enumerate(lines) if "rollout.rollback" in line)
        assert " x " in lines[at - 1] + lines[at], "\n".join(lines[at - 1:at + 1])
        assert sim.state.mutating_requests() == []


async def test_sort_by_column_is_shown_in_the_header_and_O_returns_to_attention_order(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for(http(sim.url)))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        attention = list(app.rollouts.table._order)
        assert "▼" not in header(app) and "▲" not in header(app)
        await pilot.press("o")
        await settle(pilot)
        assert "Service ▲" in header(app)
        services = [app.engine.state.by_key[k].rollout.service for k in app.rollouts.table._order]
        assert services == sorted(services) and app.rollouts.table._order != attention
        for _ in range(10):
            if "Age ▲" in header(app):
                break
            await pilot.press("o")
            await settle(pilot)
        assert "Age ▲" in header(app)
        starts = [app.engine.state.by_key[k].rollout.started_at for k in app.rollouts.table._order]
        assert starts == sorted(starts, reverse=True), "newest first"
        await pilot.press("O")
        await settle(pilot)
        assert "▼" not in header(app) and "▲" not in header(app) and app.rollouts.table._order == attention


async def test_the_documented_keymap_example_loads_and_works(sim: SimulatorServer,
                                                            engine_for: Callable[..., Engine]) -> None:
    import tomllib

    from .argo_fixtures import ROOT

    text = (ROOT / "config.example.toml").read_text()
    block = text[text.index("# [keymap]"):text.index("# Deploy sources")]
    example = tomllib.loads("\n".join(line.removeprefix("# ") for line in block.splitlines()))
    assert example["keymap"]["cursor.down"] == "j,ctrl+n"
    app = make_app(engine_for(http(sim.url), keymap=example["keymap"]))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        await pilot.press("ctrl+n", "j", "L")
        assert app.rollouts.table.cursor_row == app.rollouts.table.row_count - 1
        await pilot.press("H", "ctrl+n")
        assert app.rollouts.table.cursor_row == 1
        assert not any("keymap" in m for m in notifications(app))


async def test_a_click_selects_a_row_and_a_click_on_a_label_sorts_by_its_column(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    app = make_app(engine_for(http(sim.url)))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        third = app.rollouts.table._order[2]
        await pilot.click("#rollouts", offset=(3, 3))  # line 0 is the header: line 3 is the third row
        await settle(pilot)
        assert app.rollouts.table.selected_key == third and app.rollouts.table.cursor_row == 2
        assert app.engine.state.by_key[third].rollout.service in panel_text(app, "detail"), \
            "the detail panel follows the click"
        await pilot.press("down", "end")
        assert app.rollouts.table.cursor_row == app.rollouts.table.row_count - 1
        await pilot.press("home")
        assert app.rollouts.table.cursor_row == 0
        first = app.rollouts.table.selected_key
        await pilot.click("#rollouts", offset=(3, 0))  # the Service label
        await settle(pilot)
        assert "Service ▲" in header(app)
        services = [app.engine.state.by_key[k].rollout.service for k in app.rollouts.table._order]
        assert services == sorted(services)
        assert first is not None and app.rollouts.table.selected_key == first, \
            "the cursor stays on its rollout as rows move"
        assert app.rollouts.table.cursor_row == app.rollouts.table._order.index(first)
