"""`monotui serve --follow` with two real processes and headless Chromium: the operator's monotui (in a terminal)
shares its view with w; every browser tab follows its selection, filter and dialog; a tab that browses on its own
stops following and f follows again; the operator's banner counts the tabs; a tab can never act."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from monotui.follow import socket_path
from monotui.simulator.server import SimulatorServer

from .terminal import Terminal
from .test_serve import CHROMIUM, FLAGS, READ_SCREEN, free_port, wait_for

ACTOR = "operator@bastion"


def test_browser_tabs_follow_the_operators_view_and_never_act(sim: SimulatorServer, tmp_path: Path) -> None:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    runtime = Path(tempfile.mkdtemp(prefix="mt-run-"))  # short: a unix socket's path is at most 107 bytes
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    config = tmp_path / "monotui.toml"
    config.write_text(f'audit_log = "{tmp_path / "audit.log"}"\nactor = "{ACTOR}"\n'
                      f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{sim.url}"\npoll_interval = 1\n')
    port = free_port()
    log_path = tmp_path / "serve.log"
    log = log_path.open("w")
    server = subprocess.Popen([sys.executable, "-m", "monotui", "serve", "--follow", "--config", str(config),
                               "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env)
    services = [r.service for r in sim.world.rollouts()]
    try:
        url = ""

        def up() -> bool:
            nonlocal url
            found = re.search(r"open (http://127\.0\.0\.1:\d+/\?token=\S+)", log_path.read_text())
            if not found:
                return server.poll() is not None
            url = found.group(1)
            try:
                return httpx.get(url, timeout=2).status_code == 303
            except httpx.HTTPError:
                return server.poll() is not None

        wait_for(up, "monotui serve answers")
        assert server.poll() is None, log_path.read_text()
        with Terminal(["--config", str(config)], env, size=(160, 40)) as operator, sync_playwright() as playwright:
            operator.wait_for(*services)
            browser = playwright.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, args=FLAGS, headless=True,
                viewport={"width": 1700, "height": 900})
            try:
                def open_tab():  # type: ignore[no-untyped-def]
                    page = browser.new_page()
                    page.add_init_script(READ_SCREEN)
                    page.goto(url)
                    return page

                def screen(page) -> str:  # type: ignore[no-untyped-def]
                    return str(page.evaluate("window.__screen()"))

                tabs = [open_tab(), open_tab()]
                for tab in tabs:
                    wait_for(lambda tab=tab: "waiting for the operator to share" in screen(tab), "a waiting tab")
                operator.type("w")
                operator.wait_for("sharing · 2 watching")
                assert stat_mode(socket_path({"XDG_RUNTIME_DIR": str(runtime)})) == 0o600
                for tab in tabs:
                    wait_for(lambda tab=tab: f"following {ACTOR}" in screen(tab), "a following tab")

                # the selection: the operator moves, every tab shows the row within a second or so
                def followed(tab) -> str:  # type: ignore[no-untyped-def]
                    found = re.search(rf"following {ACTOR} on (\S+)", screen(tab))
                    return found.group(1) if found else ""

                took = []
                for _ in range(3):
                    before = followed(tabs[0])
                    operator.type("j")
                    start = time.monotonic()
                    wait_for(lambda before=before: len({followed(tab) for tab in tabs} - {"", before}) == 1
                             and all(followed(tab) for tab in tabs) and followed(tabs[0]) == followed(tabs[1]),
                             "the tabs follow the selection")
                    took.append(time.monotonic() - start)
                print(f"followed the selection in {', '.join(f'{t:.2f}' for t in took)} s")

                # the filter: typed at the operator's terminal, applied in every tab
                other = next(s for s in services if s != "cart-api")
                operator.type("/cart\r")
                for tab in tabs:
                    wait_for(lambda tab=tab: f"following {ACTOR} on prod/cart-api" in screen(tab)
                             and other not in table_part(screen(tab)), "the tab follows the filter")

                # a tab browses on its own, then follows again
                first = tabs[0]
                first.locator(".textual-terminal").click()
                first.keyboard.press("j")  # its own move
                wait_for(lambda: "not following" in screen(first) and "f to follow" in screen(first), "stopped")
                operator.type("\x1b")  # the operator clears the filter: the first tab stays where it is
                wait_for(lambda: other in table_part(screen(tabs[1])), "the second tab follows the cleared filter")
                assert other not in table_part(screen(first))
                for key in ("p", "A", "b", "Enter"):  # and acting is not a thing a tab can do
                    first.keyboard.press(key)
                first.keyboard.press("f")
                wait_for(lambda: other in table_part(screen(first)) and f"following {ACTOR}" in screen(first),
                         "following again")
                assert sim.state.mutating_requests() == [], "a browser tab sent something"

                tabs[1].close()
                operator.wait_for("sharing · 1 watching")
            finally:
                browser.close()
            operator.type("q")
            operator.wait_exit()
        assert not socket_path({"XDG_RUNTIME_DIR": str(runtime)}).exists(), \
            "the socket is removed when the operator quits"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(runtime, ignore_errors=True)


def stat_mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777


def table_part(text: str) -> str:
    """The screen above the detail and events panels (the banner, the filter, the table)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "Rollout" in line and "What changed" in line:
            return "\n".join(lines[:i])
    return text
