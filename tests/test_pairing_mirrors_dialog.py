"""Pairing mirrors the operator's open dialog: the operator's monotui runs in a real terminal (its own process) and
shares its view with w; an observer session (`--follow`, driven with Pilot in this process) draws the operator's
confirmation read-only — its text, the owner line, its buttons drawn disabled — and closes it when the operator
closes theirs. Nothing in the mirror can act; Esc in it stops following."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Button, Static

from monotui.config import build_settings
from monotui.engine.core import Engine
from monotui.follow import socket_path
from monotui.models import Strategy
from monotui.simulator.owners import owner_for
from monotui.simulator.server import SimulatorServer
from monotui.ui.app import MonotuiApp
from monotui.ui.screens.mirror import MirrorScreen

from .conftest import wait_until
from .terminal import Terminal
from .ui_helpers import rows_loaded, text_of

pytestmark = pytest.mark.terminal  # a real terminal with timing: run alone, after the parallel suite

OPERATOR = "operator@bastion"


async def until(operator: Terminal, predicate: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Wait on the observer, reading the operator's terminal meanwhile (its process blocks if nobody reads)."""
    await wait_until(lambda: operator._drain(0) is not None and predicate(), timeout=timeout, step=0.05, what=what)


def mirror_text(app: MonotuiApp) -> str:
    screen = app.screen
    assert isinstance(screen, MirrorScreen)
    return "\n".join(text_of(w.content) for w in screen.query(Static) if not isinstance(w, Button))


async def test_the_observer_mirrors_the_operators_dialog_read_only(sim: SimulatorServer, tmp_path: Path) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    runtime = Path(tempfile.mkdtemp(prefix="mt-run-"))  # short: a unix socket's path is at most 107 bytes
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    config = tmp_path / "monotui.toml"
    config.write_text(f'audit_log = "{tmp_path / "audit.log"}"\nactor = "{OPERATOR}"\n'
                      f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{sim.url}"\npoll_interval = 1\n')
    observer = MonotuiApp(Engine(build_settings({
        "sources": [{"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 1, "timeout": 5}],
        "actor": "observer@bastion", "audit_log": str(tmp_path / "observer-audit.log"), "read_only": True})),
        follow=socket_path(env))
    try:
        with Terminal(["--config", str(config)], env, size=(120, 35)) as operator:
            operator.wait_for("cart-api")
            async with observer.run_test(size=(80, 24)) as pilot:
                await rows_loaded(observer)
                operator.type("w")  # share
                await until(operator, lambda: observer.rollouts.pairing.connected, "the observer connects")
                operator.type("/cart-api\r")
                await until(operator, lambda: observer.rollouts.table.selected_key == "prod/cart-api",
                            "the observer follows the row")
                operator.type("p")  # the operator opens the pause confirmation

                await until(operator, lambda: isinstance(observer.screen, MirrorScreen), "the mirrored dialog")
                await until(operator, lambda: "owner: cart-team" in mirror_text(observer)
                            and len(observer.screen.query(Button)) == 2, "its whole text and its buttons")
                shown = mirror_text(observer)
                assert f"{OPERATOR}'s dialog, mirrored read-only" in shown
                assert "Pause cart-api in PRODUCTION?" in shown
                assert f"owner: cart-team, on call: {owner_for('cart-api').on_call}" in shown
                buttons = list(observer.screen.query(Button))
                assert [str(b.label) for b in buttons] == ["Cancel", "Pause"]
                assert all(b.disabled for b in buttons), "the mirror's buttons are drawn, never pressable"
                for key in ("tab", "enter", "p", "space"):  # acting is not a thing the mirror can do
                    await pilot.press(key)
                await pilot.click(".mirror-button")
                assert isinstance(observer.screen, MirrorScreen)
                assert sim.state.mutating_requests() == [], "the observer sent something"

                operator.type("\x1b")  # the operator cancels: the mirror closes, the observer still follows
                await until(operator, lambda: not isinstance(observer.screen, MirrorScreen), "the mirror closes")
                assert observer.rollouts.pairing.following

                operator.type("p")  # again; this time the observer leaves the mirror with Esc
                await until(operator, lambda: isinstance(observer.screen, MirrorScreen), "mirrored again")
                await pilot.press("escape")
                await until(operator, lambda: not isinstance(observer.screen, MirrorScreen)
                            and not observer.rollouts.pairing.following, "the observer browses on its own")
                operator.type("\x1b")  # (the observer still hears the operator's view while browsing)
                await until(operator, lambda: observer.rollouts.pairing.state.get("dialog_kind") == "",
                            "the operator's dialog closed")
                operator.type("q")
                operator.wait_exit()
        assert sim.state.mutating_requests() == []
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
