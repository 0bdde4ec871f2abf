"""Snapshots of what moved on purpose: the help with its legend (120×35, and 80×24 under NO_COLOR), the main screen
and a read-only session in the terminal's 16 colours (the readable pairs of ui/readable_colours.py). Frozen world and
clock, as tests/test_snapshots.py. Update with --snapshot-update."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from .test_snapshots import frozen_app, frozen_sim, loaded, utc  # noqa: F401  (fixtures)


async def help_open(pilot: Pilot[None]) -> None:
    await loaded(pilot)
    await pilot.press("question_mark")
    await pilot.pause()


async def help_at_legend(pilot: Pilot[None]) -> None:
    await help_open(pilot)
    await pilot.press("end")
    await pilot.pause()


def test_help_with_legend_120x35(snap_compare, frozen_sim, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    assert snap_compare(frozen_app(frozen_sim, tmp_path), terminal_size=(120, 35), run_before=help_at_legend)


def test_help_legend_no_color_80x24(snap_compare, frozen_sim, tmp_path,  # type: ignore[no-untyped-def]  # noqa: F811
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(frozen_app(frozen_sim, tmp_path), terminal_size=(80, 24), run_before=help_at_legend)


def test_main_screen_16_colours_120x35(snap_compare, frozen_sim, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    assert snap_compare(frozen_app(frozen_sim, tmp_path, theme="ansi-dark"), terminal_size=(120, 35),
                        run_before=loaded)


def test_read_only_16_colours_80x24(snap_compare, frozen_sim, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    assert snap_compare(frozen_app(frozen_sim, tmp_path, theme="ansi-dark", read_only=True),
                        terminal_size=(80, 24), run_before=loaded)
