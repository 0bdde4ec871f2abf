"""Links out: the operator's URL templates (top level, per source, per service) filled in for the selected rollout,
each value percent-encoded; listed in the detail panel and opened or copied with `u`; hyperlinks (OSC 8) only for
these URLs, never for a server's string, and every URL printed in full too; a bad template is a config error naming
the file and the key (exit 2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.strip import Strip

from monotui.cli import main
from monotui.config import ConfigError, build_settings, load_settings
from monotui.engine.core import Engine
from monotui.links import Link, rollout_links
from monotui.models import Phase, Rollout, Strategy
from monotui.render.links import links_line
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.links import LinksScreen
from monotui.ui.widgets.panels import RenderablePanel

from .conftest import ACTOR, make_world, wait_until
from .ui_helpers import make_app, notifications, rows_loaded, screen_lines, select

NOW = datetime(2026, 12, 7, 13, 30, 20, tzinfo=UTC)
LINKS = {
    "dashboard_url": "https://grafana.example.com/d/svc?var-service={service}&from={from_ms}&to={to_ms}",
    "logs_url": "https://logs.example.com/search?q={service}&ns={namespace}&from={from}&to={to}",
    "commit_url": "https://git.example.com/shop/commit/{commit}",
    "services": {"cart-api": {"dashboard_url": "https://grafana.example.com/d/cart?rev={revision}"}},
}


def rollout(**changes: Any) -> Rollout:
    base: dict[str, Any] = {"id": "payments/checkout-api", "service": "checkout-api", "environment": "prod/payments",
                            "strategy": Strategy.CANARY, "phase": Phase.PROGRESSING, "revision": 7, "version": "v7",
                            "commit": "abc1234", "started_at": NOW - timedelta(minutes=3)}
    return Rollout(**(base | changes))


def settings(**extra: Any) -> Any:
    return build_settings({"actor": ACTOR, "links": LINKS, **extra})


def test_templates_are_filled_in_with_the_rollout_and_the_incident_window() -> None:
    links = {link.kind: link.url for link in rollout_links(settings(), "k8s", rollout(), NOW)}
    start = NOW - timedelta(minutes=8)  # 5 minutes before the rollout started
    end = datetime(2026, 12, 7, 13, 31, tzinfo=UTC)  # now, up to the next minute
    assert links == {
        "dashboard_url": f"https://grafana.example.com/d/svc?var-service=checkout-api&from="
                         f"{int(start.timestamp() * 1000)}&to={int(end.timestamp() * 1000)}",
        "logs_url": "https://logs.example.com/search?q=checkout-api&ns=payments&from=2026-12-07T13%3A22%3A20Z"
                    "&to=2026-12-07T13%3A31%3A00Z",
        "commit_url": "https://git.example.com/shop/commit/abc1234",
    }


def test_a_service_template_wins_over_the_source_and_the_top_level_one() -> None:
    sources = [{"name": "prod", "kind": "http", "url": "http://127.0.0.1:1",
                "links": {"logs_url": "https://logs-eu.example.com/?q={service}",
                          "traces_url": "https://traces.example.com/?s={service}"}}]
    s = settings(sources=sources)
    cart = {link.kind: link.url for link in rollout_links(s, "prod", rollout(service="cart-api", id="cart-api"), NOW)}
    assert cart["dashboard_url"] == "https://grafana.example.com/d/cart?rev=7"  # the service's own
    assert cart["logs_url"] == "https://logs-eu.example.com/?q=cart-api"  # the source's over the top level
    assert cart["traces_url"] == "https://traces.example.com/?s=cart-api"


def test_server_values_are_percent_encoded_and_a_missing_one_leaves_its_link_out() -> None:
    hostile = rollout(service="x&to=0#@evil.example/\x1b]8;;https://evil", commit="")
    links = rollout_links(settings(), "k8s", hostile, NOW)
    assert [link.kind for link in links] == ["dashboard_url", "logs_url"]  # no commit: no commit link
    for link in links:
        assert link.url.startswith(("https://grafana.example.com/d/svc?", "https://logs.example.com/search?"))
        assert "evil.example/" not in link.url and "\x1b" not in link.url and "#" not in link.url
        assert "x%26to%3D0%23%40evil.example%2F%1B%5D8%3B%3Bhttps%3A%2F%2Fevil" in link.url


@pytest.mark.parametrize(("toml", "key", "problem"), [
    ('[links]\ndashboard_url = "javascript:alert(1)"', "links.dashboard_url", "http:// or https://"),
    ('[links]\nlogs_url = "https://logs.example.com/?q={svc}"', "links.logs_url", "unknown placeholder {svc}"),
    ('[links.services.cart-api]\ncommit_url = "ftp://git/{commit}"', "links.services.cart-api.commit_url",
     "http:// or https://"),
    ('[links]\ntraces = "https://x"', "links.traces", "unknown key"),
    ('[[sources]]\nname = "a"\nkind = "http"\nurl = "http://127.0.0.1:1"\n[sources.links]\n'
     'logs_url = "https://x/{from"', "sources[0].links.logs_url", "not a URL template"),
])
def test_a_bad_template_is_a_config_error_naming_the_file_and_the_key(
        tmp_path: Path, toml: str, key: str, problem: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'actor = "{ACTOR}"\n{toml}\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(info.value).startswith(f"config error in {path}: {key}: ") and problem in str(info.value)
    assert main(["status", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and key in err


def test_the_example_config_links_load_once_uncommented(tmp_path: Path) -> None:
    example = (Path(__file__).resolve().parent.parent / "monotui" / "config.example.toml").read_text()
    lines = example.splitlines()
    start = lines.index("# [links]")
    block = []
    for line in lines[start:]:
        if not line.startswith("# ") or line.startswith("# #"):
            break
        block.append(line[2:])
    path = tmp_path / "config.toml"
    path.write_text(f'actor = "{ACTOR}"\n' + "\n".join(block) + "\n")
    s = load_settings(path)
    assert s.links.dashboard_url and s.links.logs_url and s.links.traces_url and s.links.commit_url
    assert s.links.services["checkout-api"].dashboard_url


def test_only_the_operators_links_become_terminal_hyperlinks() -> None:
    link = Link("dashboard_url", "https://grafana.example.com/d/svc?var-service=cart-api")
    line = links_line((link,), "u")
    console = Console(width=120, force_terminal=True, color_system="truecolor")
    output = Strip(list(line.render(console))).render(console)
    assert "\x1b]8;id=" in output and f";{link.url}\x1b\\" in output
    assert links_line((link,), "u") is line  # the same links: the same line (the panel does not draw it again)


# ---- the TUI --------------------------------------------------------------------------------------------------


def link_urls(lines: list[Any]) -> set[str]:
    """Every hyperlink in the given lines."""
    out: set[str] = set()
    for line in lines:
        if isinstance(line, Text):
            for span in line.spans:
                style = span.style
                if not isinstance(style, str) and style.link:
                    out.add(style.link)
            if not isinstance(line.style, str) and line.style.link:
                out.add(line.style.link)
    return out


async def test_detail_panel_lists_the_links_and_u_opens_or_copies_them(
        engine_for: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world()
    world.deploy("cart-api", message="see https://evil.example/steal for details", author="https://evil.example")
    with SimulatorServer(world, tick_interval=None) as sim:
        app = make_app(engine_for({"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 60,
                                   "timeout": 5}, links=LINKS))
        opened: list[str] = []
        monkeypatch.setattr(type(app), "open_url", lambda self, url, new_tab=True: opened.append(url))
        async with app.run_test(size=(80, 24)) as pilot:
            await rows_loaded(app)
            select(app, "prod/cart-api")
            await pilot.pause()
            panel = app.query_one("#detail", RenderablePanel)
            await wait_until(lambda: any(line.startswith("Links") for line in panel.lines), what="the links line")
            assert any("dashboard · logs · commit" in line for line in panel.lines)
            expected = {link.url for link in rollout_links(app.engine.settings, "prod", sim.world.rollout("cart-api"),
                                                           app.rollouts.clock())}
            # hyperlinks: exactly the config's URLs, never the server's commit message or author
            assert link_urls(panel._lines) == expected
            assert any("https://grafana.example.com/d/cart?rev=" in url for url in expected)

            await pilot.press("u")
            await wait_until(lambda: isinstance(app.screen, LinksScreen), what="the links dialog")
            await pilot.pause()
            shown = "\n".join(screen_lines(app))
            assert "https://grafana.example.com/d/cart?rev=" in shown  # printed in full: the fallback
            await pilot.press("c")
            assert app.clipboard.startswith("https://grafana.example.com/d/cart?rev=")
            await pilot.press("down", "enter")
            assert opened == [next(u for u in expected if u.startswith("https://logs.example.com/"))]
            assert any(n.startswith("Opened logs: ") for n in notifications(app))
            await pilot.press("escape")
            assert not isinstance(app.screen, LinksScreen)


async def test_without_links_the_key_says_how_to_add_them(engine_for: Callable[..., Engine]) -> None:
    with SimulatorServer(make_world(), tick_interval=None) as sim:
        app = make_app(engine_for({"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 60,
                                   "timeout": 5}))
        async with app.run_test(size=(80, 24)) as pilot:
            await rows_loaded(app)
            select(app, "prod/cart-api")
            await pilot.press("u")
            await pilot.pause()
            assert not isinstance(app.screen, LinksScreen)
            assert any("add dashboard_url" in n for n in notifications(app))
            assert not any(line.startswith("Links") for line in app.query_one("#detail", RenderablePanel).lines)


def test_the_demo_has_links_so_u_can_be_tried_and_its_printed_config_carries_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from monotui.cli import Globals, demo_settings
    from monotui.links import has_links

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no user config
    monkeypatch.delenv("MONOTUI_CONFIG", raising=False)
    settings = demo_settings(Globals(config=None, read_only=False), "http://127.0.0.1:8799")
    assert has_links(settings, "demo", "cart-api")
    assert main(["demo", "--port", "8799", "--print-config"]) == 0
    printed = tmp_path / "demo.toml"
    printed.write_text(capsys.readouterr().out)
    assert load_settings(printed).links.dashboard_url == settings.links.dashboard_url
