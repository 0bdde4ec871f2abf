"""The banner says when the team's trail is behind: with rsyslog down an action still happens and the banner shows
"trail not forwarded (n)"; once rsyslog is back the records arrive and the banner no longer says it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Button

from monotui.models import Phase, Strategy
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.confirm import ConfirmActionScreen

from .conftest import wait_until
from .rsyslog_server import Rsyslog, require_rsyslog
from .ui_helpers import make_app, rows_loaded, select, settle, static_text


async def test_the_banner_counts_records_the_team_syslog_has_not_received(
        sim: SimulatorServer, tmp_path: Path, engine_for: Any) -> None:
    require_rsyslog()
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    syslog = Rsyslog(tmp_path / "rsyslog")
    syslog.start()
    port = syslog.port
    syslog.stop()  # down before the action
    app = make_app(engine_for(sim.url, audit_syslog=f"tcp://127.0.0.1:{port}"))
    async with app.run_test(size=(160, 35)) as pilot:
        await rows_loaded(app)
        assert "trail not forwarded" not in static_text(app, "#banner")
        select(app, "prod/cart-api")
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmActionScreen)
        app.screen.query_one("#confirm", Button).press()
        await settle(pilot)
        await wait_until(lambda: sim.world.rollout("cart-api").phase is Phase.PAUSED, what="paused")
        await wait_until(lambda: "trail not forwarded (2)" in static_text(app, "#banner"), timeout=15,
                         what="the banner says two records wait")
        with Rsyslog(tmp_path / "rsyslog", port=port) as back:
            back.wait_for(2, timeout=40)  # the retry backs off, 30 s at most
            await wait_until(lambda: "trail not forwarded" not in static_text(app, "#banner"), timeout=15,
                             what="the banner no longer says it")
