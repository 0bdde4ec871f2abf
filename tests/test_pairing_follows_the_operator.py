"""Pairing that follows the operator: the operator's monotui shares its view (w) on a private unix socket that
carries view state only; an observer (a `monotui serve --follow` session) follows the selected row, the filter and
the open dialog, stops following when it browses on its own and follows again with f; the operator's banner counts
who watches."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monotui.follow import ShareServer, socket_path
from monotui.models import Strategy
from monotui.simulator.server import SimulatorServer

from .conftest import wait_until
from .ui_helpers import make_app, rows_loaded, select, settle, static_text


@pytest.fixture
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A runtime dir of the test's own, short enough for a unix socket's path."""
    folder = Path(tempfile.mkdtemp(prefix="mt-run-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


async def test_the_socket_is_private_and_what_an_observer_sends_is_never_read(runtime_dir: Path) -> None:
    share = ShareServer()
    await share.start()
    try:
        path = socket_path()
        assert path == runtime_dir / "monotui" / "follow.sock"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
        share.publish({"row": "prod/cart-api", "filter": "cart", "dialog": "", "actor": "op@bastion"})
        reader, writer = await asyncio.open_unix_connection(str(path))
        first = json.loads(await reader.readline())  # the view as it is now, at once
        assert first == {"row": "prod/cart-api", "filter": "cart", "dialog": "", "actor": "op@bastion",
                         "dialog_kind": "", "dialog_body": "", "dialog_buttons": ""}
        await wait_until(lambda: share.watching == 1)
        writer.write(b'{"action": "pause", "row": "prod/cart-api"}\n' * 100)  # an observer cannot ask anything
        await writer.drain()
        share.publish({"row": "prod/search-api", "filter": "", "dialog": "", "actor": "op@bastion"})
        assert json.loads(await reader.readline())["row"] == "prod/search-api"
        with pytest.raises(OSError, match="already shares"):
            await ShareServer().start()  # a second operator does not take the socket over
        writer.close()
        await wait_until(lambda: share.watching == 0)
    finally:
        await share.close()
    assert not socket_path().exists()


async def test_the_operators_banner_counts_who_watches(sim: SimulatorServer, engine_for: Any,
                                                       runtime_dir: Path) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    sim.world.deploy("search-api", strategy=Strategy.CANARY)
    app = make_app(engine_for(sim.url))
    async with app.run_test(size=(160, 35)) as pilot:
        await rows_loaded(app)
        await pilot.press("w")
        await wait_until(lambda: "sharing · 0 watching" in static_text(app, "#banner"), what="sharing")
        observers = [await asyncio.open_unix_connection(str(socket_path())) for _ in range(2)]
        await wait_until(lambda: "sharing · 2 watching" in static_text(app, "#banner"), what="2 watching")
        reader = observers[0][0]
        select(app, "prod/search-api")
        await wait_until(lambda: app.rollouts.table.selected_key == "prod/search-api")
        rows = []
        while not rows or rows[-1] != "prod/search-api":
            rows.append(json.loads(await asyncio.wait_for(reader.readline(), 10))["row"])
        await pilot.press("p")  # a dialog opens: observers are told which
        while True:  # the dialog is named as it opens; its lines and buttons once it is drawn (the next state)
            state = json.loads(await asyncio.wait_for(reader.readline(), 10))
            if state["dialog"] and state["dialog_buttons"]:
                break
        drawn = {k: state.pop(k) for k in ("dialog_kind", "dialog_body", "dialog_buttons")}
        assert state == {"row": "prod/search-api", "filter": "", "dialog": "Pause search-api?",
                         "actor": app.engine.settings.actor}
        # and what draws it read-only (ui/screens/mirror.py): its kind, its cleaned lines, its button labels
        assert drawn["dialog_kind"] == "ConfirmAction" and drawn["dialog_buttons"] == "Cancel\nPause"
        assert "Service  search-api" in drawn["dialog_body"].splitlines()
        await pilot.press("escape")
        while json.loads(await asyncio.wait_for(reader.readline(), 10))["dialog"]:
            pass  # closed: the next state names no dialog
        observers[1][1].close()
        await wait_until(lambda: "sharing · 1 watching" in static_text(app, "#banner"), what="1 watching")
        await pilot.press("w")  # stop sharing
        await wait_until(lambda: "watching" not in static_text(app, "#banner"), what="sharing stopped")
        assert await asyncio.wait_for(reader.read(), 10) == b""  # the observer was let go


async def test_an_observer_follows_browses_on_its_own_and_follows_again(sim: SimulatorServer, engine_for: Any,
                                                                        runtime_dir: Path) -> None:
    for name in ("cart-api", "search-api", "checkout-api"):
        sim.world.deploy(name, strategy=Strategy.CANARY)
    share = ShareServer()
    await share.start()
    try:
        app = make_app(engine_for(sim.url, read_only=True), follow=socket_path())
        async with app.run_test(size=(160, 35)) as pilot:
            await rows_loaded(app)
            await wait_until(lambda: share.watching == 1, what="the observer connected")
            share.publish({"row": "prod/search-api", "filter": "", "dialog": "", "actor": "op@bastion"})
            await wait_until(lambda: app.rollouts.table.selected_key == "prod/search-api", what="followed the row")
            assert "following op@bastion" in static_text(app, "#banner")
            share.publish({"row": "prod/cart-api", "filter": "cart", "dialog": "Pause cart-api?",
                           "actor": "op@bastion"})
            await wait_until(lambda: app.rollouts.table.row_count == 1
                             and app.rollouts.table.selected_key == "prod/cart-api", what="followed the filter")
            await wait_until(lambda: "in dialog: Pause cart-api?" in static_text(app, "#banner"))
            await pilot.press("escape")  # the observer's own key: it browses on its own
            await settle(pilot)
            await wait_until(lambda: "not following op@bastion — f to follow" in static_text(app, "#banner"))
            share.publish({"row": "prod/checkout-api", "filter": "", "dialog": "", "actor": "op@bastion"})
            await wait_until(lambda: app.rollouts.pairing.state.get("row") == "prod/checkout-api", what="received")
            assert app.rollouts.table.selected_key != "prod/checkout-api", "not following: the operator's row waits"
            await pilot.press("f")
            await wait_until(lambda: app.rollouts.table.selected_key == "prod/checkout-api", what="following again")
            assert "following op@bastion" in static_text(app, "#banner")
            await pilot.press("w")  # an observer does not share
            await settle(pilot)
            assert share.watching == 1
    finally:
        await share.close()
