"""`monotui serve` shows the control room only to whoever holds its session token, only to its own
pages' websockets, to a bounded number of tabs, on a bounded terminal, on loopback unless told otherwise, and stops
promptly on SIGTERM. Checked with raw websockets (aiohttp's client) and with headless Chromium."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import aiohttp
import httpx
import pytest

from monotui.serve import MAX_HEIGHT, MAX_WIDTH, ServeError, token_from_file
from monotui.simulator.server import SimulatorServer

from .test_serve import CHROMIUM, DEADLINE, FLAGS, READ_SCREEN, free_port, wait_for

MAX_SESSIONS = 2


@dataclass
class Served:
    base: str  # http://127.0.0.1:P
    url: str  # the address printed, with the token
    token: str
    config: Path
    server: subprocess.Popen[bytes]
    log: Path

    @property
    def ws(self) -> str:
        return self.base.replace("http://", "ws://") + "/ws"


def start(config: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    out = log.open("w")
    try:
        return subprocess.Popen([sys.executable, "-m", "monotui", "serve", "--config", str(config), *args],
                                stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy())
    finally:
        out.close()


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def printed_url(log: Path, server: subprocess.Popen[bytes]) -> str:
    url = ""

    def found() -> bool:
        nonlocal url
        match = re.search(r"open (http://\S+/\?token=\S+)", log.read_text())
        url = match.group(1) if match else ""
        return bool(url) or server.poll() is not None

    wait_for(found, "monotui serve prints its address")
    assert url, log.read_text()
    return url


def session_pids(config: Path) -> list[int]:
    """monotui processes serving browser tabs for this config (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--read-only" in argv and str(config).encode() in argv and b"serve" not in argv:
            found.append(int(entry.name))
    return found


def environ(pid: int) -> dict[str, str]:
    pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(p.decode(errors="replace").split("=", 1) for p in pairs if b"=" in p)


@pytest.fixture
def served(sim: SimulatorServer, tmp_path: Path) -> Iterator[Served]:
    config = tmp_path / "monotui.toml"
    config.write_text(f'audit_log = "{tmp_path / "audit.log"}"\nactor = "operator@bastion"\n'
                      f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{sim.url}"\npoll_interval = 1\n')
    port = free_port()
    log = tmp_path / "serve.log"
    server = start(config, log, "--port", str(port), "--max-sessions", str(MAX_SESSIONS))
    try:
        url = printed_url(log, server)
        base = f"http://127.0.0.1:{port}"
        assert url.startswith(base + "/?token=")
        token = url.split("token=", 1)[1]
        assert len(token) >= 32
        assert log.read_text().count(token) == 1  # printed once
        wait_for(lambda: _answers(url) or server.poll() is not None, "monotui serve answers")
        assert server.poll() is None, log.read_text()
        yield Served(base, url, token, config, server, log)
    finally:
        stop(server)
        wait_for(lambda: session_pids(config) == [], "no tab's process left")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 303
    except httpx.HTTPError:
        return False


# ---- raw HTTP and websockets -------------------------------------------------------------------------------------


def test_the_page_and_the_websocket_need_the_token_and_the_websocket_its_own_origin(served: Served) -> None:
    assert httpx.get(served.base + "/").status_code == 401
    refused = httpx.get(served.base + "/?token=" + "x" * 43)
    assert refused.status_code == 401 and "session token is needed" in refused.text
    assert served.token not in refused.text

    first = httpx.get(served.url)  # the printed address: the token becomes a cookie, the address loses it
    assert first.status_code == 303 and first.headers["location"] == "/"
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = httpx.get(served.base + "/", cookies=first.cookies)
    assert page.status_code == 200 and f'data-session-websocket-url="{served.ws}"' in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    assert httpx.get(served.base + "/download/anything").status_code == 401

    async def handshake(headers: dict[str, str], url: str = served.ws) -> int:
        async with aiohttp.ClientSession() as client:
            try:
                async with client.ws_connect(url + "?width=80&height=24", headers=headers) as ws:
                    await ws.close()
                    return 101
            except aiohttp.WSServerHandshakeError as e:
                return e.status

    good_cookie = f"monotui_serve_{served.base.rsplit(':', 1)[1]}={served.token}"
    own = served.base
    assert asyncio.run(handshake({"Origin": own})) == 401  # no token
    assert asyncio.run(handshake({"Origin": own, "Cookie": good_cookie.replace(served.token, "y" * 43)})) == 401
    assert asyncio.run(handshake({"Origin": "http://evil.example", "Cookie": good_cookie})) == 403
    assert asyncio.run(handshake({"Origin": "http://127.0.0.1:1", "Cookie": good_cookie})) == 403
    assert asyncio.run(handshake({"Cookie": good_cookie})) == 403  # a browser always says where it comes from
    assert session_pids(served.config) == []  # nothing refused ever started a process
    assert asyncio.run(handshake({"Origin": own, "Cookie": good_cookie})) == 101


def test_sessions_are_bounded_and_so_is_their_terminal(served: Served) -> None:
    cookie = {"Cookie": f"monotui_serve_{served.base.rsplit(':', 1)[1]}={served.token}", "Origin": served.base}

    async def scenario() -> None:
        async with aiohttp.ClientSession() as client:
            huge = await client.ws_connect(served.ws + "?width=10000&height=10000", headers=cookie,
                                           max_msg_size=0)
            other = await client.ws_connect(served.ws + "?width=80&height=24", headers=cookie)
            try:
                await asyncio.to_thread(wait_for, lambda: len(session_pids(served.config)) == MAX_SESSIONS,
                                        "a process per session")
                sizes = sorted((environ(pid).get("COLUMNS"), environ(pid).get("ROWS"))
                               for pid in session_pids(served.config))
                assert sizes == [(str(MAX_WIDTH), str(MAX_HEIGHT)), ("80", "24")]

                with pytest.raises(aiohttp.WSServerHandshakeError) as full:
                    await client.ws_connect(served.ws + "?width=80&height=24", headers=cookie)
                assert full.value.status == 503
                async with client.get(served.base + "/", headers=cookie) as page:
                    assert page.status == 503
                    assert "every session is in use" in await page.text()
                assert len(session_pids(served.config)) == MAX_SESSIONS

                # a resize asks 10000×10000 too: the app draws 200 rows at most
                await huge.send_json(["resize", {"width": 10000, "height": 10000}])
                drawn = b""
                while f"\x1b[{MAX_HEIGHT};".encode() not in drawn:
                    message = await asyncio.wait_for(huge.receive(), DEADLINE)
                    assert message.type == aiohttp.WSMsgType.BINARY, message
                    drawn += message.data
                rows = [int(r) for r in re.findall(rb"\x1b\[(\d+);\d+H", drawn)]
                assert max(rows) == MAX_HEIGHT
            finally:
                await other.close()
            await asyncio.to_thread(wait_for, lambda: len(session_pids(served.config)) == 1, "the closed one ends")
            async with client.get(served.base + "/", headers=cookie) as page:
                assert page.status == 200  # room again
            await huge.close()

    asyncio.run(scenario())


def test_sigterm_ends_the_server_and_every_tab_promptly(served: Served) -> None:
    cookie = {"Cookie": f"monotui_serve_{served.base.rsplit(':', 1)[1]}={served.token}", "Origin": served.base}

    async def scenario() -> float:
        async with aiohttp.ClientSession() as client:
            sockets = [await client.ws_connect(served.ws + f"?width={MAX_WIDTH}&height={MAX_HEIGHT}",
                                               headers=cookie, max_msg_size=0) for _ in range(MAX_SESSIONS)]
            await asyncio.to_thread(wait_for, lambda: len(session_pids(served.config)) == MAX_SESSIONS,
                                    "the sessions run")
            for ws in sockets:  # the screens are being drawn, and nobody reads them any more
                await ws.receive()
            served.server.send_signal(signal.SIGTERM)
            asked = time.monotonic()
            await asyncio.to_thread(served.server.wait, DEADLINE)
            return time.monotonic() - asked

    took = asyncio.run(scenario())
    print(f"monotui serve exited {took:.1f} s after SIGTERM with {MAX_SESSIONS} sessions at "
          f"{MAX_WIDTH}x{MAX_HEIGHT}")
    assert took < 10.0
    assert served.server.returncode == 0, served.log.read_text()
    wait_for(lambda: session_pids(served.config) == [], "no tab's process left", timeout=5)


# ---- where it listens, and the token file ------------------------------------------------------------------------


def test_a_host_beyond_loopback_needs_allow_remote_and_is_warned_about(sim: SimulatorServer, tmp_path: Path) -> None:
    config = tmp_path / "monotui.toml"
    config.write_text(f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{sim.url}"\n')
    port = str(free_port())
    refused = subprocess.run([sys.executable, "-m", "monotui", "serve", "--config", str(config), "--host",
                              "0.0.0.0", "--port", port], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "--host 0.0.0.0 is not a loopback address" in refused.stderr and "--allow-remote" in refused.stderr
    log = tmp_path / "serve.log"
    server = start(config, log, "--host", "0.0.0.0", "--port", port, "--allow-remote")
    try:
        printed_url(log, server)
        assert "WARNING: listening on 0.0.0.0" in log.read_text()
    finally:
        stop(server)


def test_the_token_file_keeps_one_token_and_only_a_private_regular_file_is_read(sim: SimulatorServer,
                                                                                tmp_path: Path) -> None:
    path = tmp_path / "serve.token"
    token = token_from_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(token) >= 32
    assert token_from_file(path) == token  # the same at the next start
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(ServeError, match="not a regular file"):
        token_from_file(fifo)  # no hang
    shared = tmp_path / "shared.token"
    shared.write_text("s" * 40)
    shared.chmod(0o644)
    with pytest.raises(ServeError, match="readable by others"):
        token_from_file(shared)
    short = tmp_path / "short.token"
    short.write_text("abc\n")
    short.chmod(0o600)
    with pytest.raises(ServeError, match="at least 16"):
        token_from_file(short)

    config = tmp_path / "monotui.toml"
    config.write_text(f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{sim.url}"\n')
    log = tmp_path / "serve.log"
    server = start(config, log, "--port", str(free_port()), "--token-file", str(path))
    try:
        assert printed_url(log, server).endswith(f"?token={token}")
    finally:
        stop(server)


# ---- headless Chromium ---------------------------------------------------------------------------------------


class _Foreign(BaseHTTPRequestHandler):
    """A page elsewhere (another origin) that tries the control room's websocket from the observer's browser."""

    target = ""

    def do_GET(self) -> None:
        body = (f"<html><body><script>document.title = 'trying';"
                f"const ws = new WebSocket('{self.target}?width=80&height=24');"
                "ws.onopen = () => { document.title = 'opened'; };"
                "ws.onmessage = () => { document.title = 'received'; };"
                "ws.onerror = () => { document.title = 'refused'; };"
                "</script></body></html>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_in_chromium_the_token_opens_the_room_a_foreign_page_does_not_and_a_full_room_says_so(
        served: Served, sim: SimulatorServer, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    handler = type("Foreign", (_Foreign,), {"target": served.ws})
    foreign = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=foreign.serve_forever, daemon=True).start()
    services = [r.service for r in sim.world.rollouts()]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, args=FLAGS, headless=True,
            viewport={"width": 1280, "height": 800})
        try:
            def screen(page) -> str:  # type: ignore[no-untyped-def]
                return str(page.evaluate("window.__screen()"))

            def tab(url: str):  # type: ignore[no-untyped-def]
                page = browser.new_page()
                page.add_init_script(READ_SCREEN)
                page.goto(url)
                return page

            stranger = tab(served.base + "/")
            assert "the session token is needed" in stranger.content()
            stranger.close()

            first = tab(served.url)
            wait_for(lambda: all(s in screen(first) for s in services), "the room with the token")
            assert "token" not in first.url  # the address bar and history do not keep it

            # a page elsewhere, in the same browser that holds the cookie
            evil = browser.new_page()
            evil.goto(f"http://localhost:{foreign.server_address[1]}/")
            wait_for(lambda: evil.title() != "trying", "the foreign page's websocket settles")
            assert evil.title() == "refused"
            assert len(session_pids(served.config)) == 1

            second = tab(served.base + "/")  # the cookie is enough for another tab of the observer
            wait_for(lambda: "PRODUCTION" in screen(second), "a second tab")
            third = tab(served.base + "/")
            assert "every session is in use" in third.content()
            assert len(session_pids(served.config)) == MAX_SESSIONS
        finally:
            browser.close()
            foreign.shutdown()
