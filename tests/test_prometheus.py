"""Prometheus as a health source, against a real Prometheus scraping the simulator (Debian package
`prometheus`; `.ci/run` installs it)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from monotui.config import PrometheusSourceConfig
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.models import Strategy
from monotui.providers.prometheus import PrometheusProvider
from monotui.simulator.prometheus import (
    DEMO_RULES,
    INSTALL_HINT,
    AlertmanagerServer,
    PrometheusServer,
    find_alertmanager,
    find_prometheus,
)
from monotui.simulator.server import SimulatorServer

from .conftest import ACTOR, make_world, wait_until
from .ui_helpers import cell, cell_or_blank, make_app, panel_text, rows_loaded, select, settle

# skipped with the reason where the binary is absent; in CI (.ci/run installs it) a missing binary fails instead
pytestmark = pytest.mark.skipif(find_prometheus() is None and not os.environ.get("CI"),
                                reason=f"prometheus is not installed: {INSTALL_HINT}")


@pytest.fixture
def live() -> Iterator[tuple[SimulatorServer, PrometheusServer]]:
    world = make_world(services=6, seed=4, initial_deploys=0)  # starts now: see make_world
    with SimulatorServer(world, tick_interval=0.25) as sim, \
            PrometheusServer([urlparse(sim.url).netloc], scrape_interval="1s") as prom:
        yield sim, prom


def sources(sim: SimulatorServer, prom: PrometheusServer) -> list[dict[str, object]]:
    return [{"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 0.5},
            {"name": "prom", "kind": "prometheus", "url": prom.url, "poll_interval": 0.5, "window": "10s"}]


class CountingTransport(httpx.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.queries: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.queries.append(request.url.params.get("query", ""))
        return await super().handle_async_request(request)


async def test_one_query_per_figure_for_every_service(live: tuple[SimulatorServer, PrometheusServer]) -> None:
    sim, prom = live
    transport = CountingTransport()
    provider = PrometheusProvider(PrometheusSourceConfig(name="prom", kind="prometheus", url=prom.url,
                                                         window="10s"), transport=transport)
    try:
        for _ in range(120):  # Prometheus needs two scrapes before rate() has a value
            result = await provider.poll()
            if len(result.health) == 6:
                break
            await asyncio.sleep(0.5)
        transport.queries.clear()
        result = await provider.poll()
    finally:
        await provider.aclose()
    assert len(transport.queries) == 3, "one query per figure, all services at once"
    assert all("by (service" in q for q in transport.queries)
    assert {h.service for h in result.health} == set(sim.world.services)
    for figures in result.health:  # healthy services: traffic, a sane p99, few errors
        assert figures.rps > 0 and 0 < figures.p99_ms < 5000 and 0 <= figures.error_ratio < 0.05


async def test_a_bad_deploy_shows_as_a_rising_error_ratio_next_to_its_row(
        live: tuple[SimulatorServer, PrometheusServer], engine_for: Callable[..., Engine]) -> None:
    sim, prom = live
    app = make_app(engine_for(*sources(sim, prom)))
    async with app.run_test(size=(120, 35)):
        await rows_loaded(app, 6)
        await wait_until(lambda: len(app.engine.state.sources["prom"].health) == 6, timeout=30,
                         what="prometheus has every service")
        before = app.engine.state.sources["prom"].health["cart-api"].error_ratio
        assert before < 0.05
        sim.world.deploy("cart-api", bad=True, strategy=Strategy.CANARY)
        await wait_until(lambda: app.engine.state.sources["prom"].health["cart-api"].error_ratio >= 0.05,
                         timeout=60, what="the error ratio, as Prometheus computes it, crosses 5%")
        await wait_until(lambda: app.rollouts.table._order[0] == "prod/cart-api", timeout=10,
                         what="the unhealthy rollout sorted to the top")
        # changed just before its service breached, as Prometheus sees it: the suspect, with the evidence (the
        # breach is judged on the poll after the one that crossed: wait for it, never read it at once)
        def suspects() -> list[Any]:
            return [v for v in app.engine.state.views() if v.evidence is not None]

        await wait_until(lambda: len(suspects()) == 1, timeout=30, what="the rollout becomes the suspect")
        [suspect] = suspects()
        assert suspect.rollout.service == "cart-api" and suspect.evidence is not None
        assert suspect.evidence.now >= 0.05 and suspect.evidence.before is not None
        assert suspect.evidence.before < 0.05

        # the row shows Prometheus' figure (it moves with every poll: compare with the state the row came from)
        def row_follows() -> bool:
            shown = float(cell(app, "prod/cart-api", "errors").rstrip("%"))
            latest = app.engine.state.sources["prom"].health["cart-api"].error_ratio * 100
            return abs(shown - latest) < 3.0 and shown > before * 100 * 3

        await wait_until(row_follows, timeout=20, what="the row shows Prometheus' rising error ratio")
        history = app.engine.state.sources["prom"].health["cart-api"].series.error_ratio
        assert history[-1] > history[0], "the sparkline series rises"
        # the detail panel: 30 minutes from a range query, the rollout's start marked on it
        select(app, "prod/cart-api")
        await wait_until(lambda: "30 min" in panel_text(app, "detail"), timeout=20, what="the 30-minute history")
        detail = panel_text(app, "detail")
        assert "▲" in detail and "started" in detail


async def test_an_alert_rule_fires_and_shows_against_its_service(engine_for: Callable[..., Engine]) -> None:
    if find_alertmanager() is None and not os.environ.get("CI"):
        pytest.skip("alertmanager is not installed: apt-get install prometheus-alertmanager")
    world = make_world(services=6, seed=4, initial_deploys=0)  # starts now: see make_world
    with SimulatorServer(world, tick_interval=0.25) as sim, AlertmanagerServer() as am, \
            PrometheusServer([urlparse(sim.url).netloc], alertmanager=am.address, rules=DEMO_RULES) as prom:
        app = make_app(engine_for(*sources(sim, prom), {"name": "alerts", "kind": "alertmanager", "url": am.url,
                                                         "poll_interval": 0.5}))
        async with app.run_test(size=(160, 40)) as pilot:
            await rows_loaded(app, 6)
            assert cell_or_blank(app, "prod/cart-api", "alerts") == ""
            sim.world.deploy("cart-api", bad=True, strategy=Strategy.CANARY)
            await wait_until(lambda: cell_or_blank(app, "prod/cart-api", "alerts") == "! 1", timeout=90,
                             what="the alert reaches monotui against cart-api")
            await pilot.pause(0.3)
            [alert] = app.engine.state.all_alerts()
            assert (alert.name, alert.service, alert.severity) == ("HighErrorRatio", "cart-api", "page")
            assert "cart-api fails" in alert.summary
            assert "HighErrorRatio" in panel_text(app, "events")
            assert all(cell_or_blank(app, f"prod/{s}", "alerts") == "" for s in sim.world.services if s != "cart-api")
            # silence it from the keyboard: S, Cancel is focused; type a comment, confirm
            select(app, "prod/cart-api")
            await pilot.pause()
            await pilot.press("S")
            await settle(pilot)
            assert app.screen.focused.id == "cancel"
            app.screen.query_one("#comment").focus()
            await pilot.pause()
            await pilot.press(*"bad canary, rolling back", "enter", "enter")
            await settle(pilot, 0.5)
            silences = httpx.get(f"{am.url}/api/v2/silences").json()
            [active] = [s for s in silences if s["status"]["state"] == "active"]
            assert active["createdBy"] == ACTOR and active["comment"] == "bad canary, rolling back"
            assert active["matchers"] == [{"name": "service", "value": "cart-api", "isRegex": False,
                                           "isEqual": True}]
            await wait_until(lambda: cell_or_blank(app, "prod/cart-api", "alerts") == "" and
                             all(a.silenced for a in app.engine.state.all_alerts()), timeout=30,
                             what="the alert shows as silenced")
            assert "silenced" in panel_text(app, "events")
            # and expire it: E, Tab, Enter
            await pilot.press("E", "tab", "enter")
            await settle(pilot, 0.5)
            states = [s["status"]["state"] for s in httpx.get(f"{am.url}/api/v2/silences").json()]
            assert states == ["expired"]
        records = AuditLog(app.engine.settings.audit_log).outcomes()
        assert [(r["action"], r["outcome"], r["service"]) for r in records] == [
            ("silence", "done", "cart-api"), ("expire-silence", "done", "cart-api")]
