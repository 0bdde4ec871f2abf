"""`monotui serve` in a real browser: Debian's headless Chromium driven over the DevTools protocol (Playwright's
Python package, with the system browser). The page shows the table; keys move and open help; action keys in the
browser send nothing (sessions are read-only); closing a tab — even mid-resize — ends its process."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from monotui.simulator.server import SimulatorServer

from .test_cli_forms import forms, split

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DEADLINE = 60.0  # generous: a loaded 2-core machine starts a Textual process per tab

# textual-serve draws with xterm.js on a canvas: keep a handle on the page's terminal to read its screen as text.
READ_SCREEN = """
Object.defineProperty(Object.prototype, 'terminal', {configurable: true, set(value) {
  Object.defineProperty(this, 'terminal', {value, writable: true, configurable: true, enumerable: true});
  if (value && value.buffer) { window.__terminal = value; }
}});
window.__screen = () => {
  const t = window.__terminal;
  if (!t) { return ''; }
  const buffer = t.buffer.active, lines = [];
  for (let i = 0; i < t.rows; i++) {
    const line = buffer.getLine(buffer.viewportY + i);
    lines.push(line ? line.translateToString(true) : '');
  }
  return lines.join('\\n');
};
"""


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g}s")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sessions(config: Path) -> int:
    """monotui processes serving browser tabs for this test's config (read from /proc)."""
    count = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--read-only" in argv and str(config).encode() in argv and b"serve" not in argv:
            count += 1
    return count


@pytest.fixture
def served(sim: SimulatorServer, tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    config = tmp_path / "monotui.toml"
    config.write_text(f'audit_log = "{tmp_path / "audit.log"}"\nactor = "operator@bastion"\n'
                      f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{sim.url}"\npoll_interval = 1\n')
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    [form] = forms("serve")  # as the README writes it
    argv = [*split(form, {"path/to/config.toml": str(config)}), "--port", str(port)]
    server = subprocess.Popen([sys.executable, "-m", "monotui", *argv], stdout=log, stderr=subprocess.STDOUT,
                              env=os.environ.copy())
    url = ""

    def up() -> bool:
        nonlocal url
        if not url:  # the address with the session's token, printed once
            found = re.search(r"open (http://127\.0\.0\.1:\d+/\?token=\S+)", (tmp_path / "serve.log").read_text())
            if not found:
                return server.poll() is not None
            url = found.group(1)
        try:
            return httpx.get(url, timeout=2).status_code == 303  # the token traded for a cookie
        except httpx.HTTPError:
            return server.poll() is not None

    try:
        wait_for(up, "monotui serve answers")
        assert server.poll() is None, (tmp_path / "serve.log").read_text()
        yield url, config, server
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_browser_sessions_show_the_table_cannot_act_and_end_with_their_tab(
        served: tuple[str, Path, subprocess.Popen[bytes]], sim: SimulatorServer, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    url, config, server = served
    services = [r.service for r in sim.world.rollouts()]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, args=FLAGS, headless=True,
            viewport={"width": 1280, "height": 800})
        try:
            def open_tab():  # type: ignore[no-untyped-def]
                page = browser.new_page()
                page.add_init_script(READ_SCREEN)
                page.goto(url)
                return page

            def screen(page) -> str:  # type: ignore[no-untyped-def]
                return str(page.evaluate("window.__screen()"))

            page = open_tab()
            wait_for(lambda: all(s in screen(page) for s in services), "every rollout in the browser")
            assert "PRODUCTION" in screen(page) and "READ-ONLY" in screen(page)
            assert sessions(config) == 1

            page.locator(".textual-terminal").click()
            page.keyboard.press("?")
            wait_for(lambda: "monotui keys — READ-ONLY: actions are off" in screen(page), "help in the browser")
            page.keyboard.press("Escape")
            wait_for(lambda: "monotui keys" not in screen(page), "help closed")
            for key in ("b", "Tab", "Enter", "p", "A", "s", "Tab", "Enter"):  # as if confirming
                page.keyboard.press(key)
            wait_for(lambda: "read-only: actions are off" in screen(page), "the read-only notice")
            page.keyboard.press("?")  # keys are handled in order: once help shows, every key above was
            wait_for(lambda: "monotui keys" in screen(page), "help after the action keys")
            assert sim.state.mutating_requests() == [], "an action key in the browser sent something"
            audit = tmp_path / "audit.log"
            assert not audit.exists() or audit.read_text().strip() == ""

            second = open_tab()
            wait_for(lambda: "PRODUCTION" in screen(second), "a second tab")
            wait_for(lambda: sessions(config) == 2, "one process per tab")
            second.close()
            wait_for(lambda: sessions(config) == 1, "the closed tab's process ends")

            page.set_viewport_size({"width": 900, "height": 500})  # closed mid-resize
            page.set_viewport_size({"width": 1100, "height": 700})
            page.close()
            wait_for(lambda: sessions(config) == 0, "the last tab's process ends")

            last = open_tab()  # stopping the server ends the tabs' processes too, without waiting for them
            wait_for(lambda: sessions(config) == 1 and "PRODUCTION" in screen(last), "a tab before the stop")
            server.terminate()
            server.wait(DEADLINE)
            wait_for(lambda: sessions(config) == 0, "no process left after the server stopped")
        finally:
            browser.close()
