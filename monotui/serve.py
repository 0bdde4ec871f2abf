"""`monotui serve`: the control room in a browser for a colleague, through textual-serve.

Each browser tab gets its own monotui process, started **read-only** (`--read-only` wins over the config file and
the environment): an observer sees what the operator sees and can move, filter, sort and open help, but no action
key sends anything — actions stay with the named operator at the terminal. Closing the tab ends that process: after
asking it to quit, a process that has not exited within a few seconds is terminated, then killed.

Who may watch: whoever holds the session token, printed once with the URL (`/?token=…`; `--token-file` keeps one
across restarts). Opening that URL trades the token for a cookie (HttpOnly, SameSite=Strict) and drops it from the
address bar; the page and its websocket both require it, and the websocket must come from the page's own origin —
a web page elsewhere in the observer's browser gets neither. At most `max_sessions` tabs at once (each is a
process), the next is told so on a plain page; a terminal is at most 500×200 cells whatever the browser asks.
SIGTERM ends every tab's process and the server within a few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import ipaddress
import logging
import os
import secrets
import shlex
import signal
import socket
import stat
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.web_runner import GracefulExit
from textual_serve.app_service import AppService
from textual_serve.server import Server

from monotui.compat.textual_serve import INDEX_TEMPLATE, app_process

log = logging.getLogger("monotui.serve")
QUIT_GRACE_S = 3.0  # a session asked to quit has this long before it is terminated, then as long again to die
SHUTDOWN_GRACE_S = 1.0  # the same when the server stops: every tab at once, promptly
SHUTDOWN_TIMEOUT_S = 2.0  # aiohttp's wait for handlers still running at shutdown (its default: 60 s)
DEFAULT_MAX_SESSIONS = 4
MAX_WIDTH, MAX_HEIGHT = 500, 200  # cells: a browser asking 10000×10000 gets this (a Textual screen costs per cell)
MAX_MESSAGE_BYTES = 64 * 1024  # a key, a paste or a resize; textual-serve's own limit is aiohttp's 4 MB
TOKEN_BYTES = 32
MIN_TOKEN_CHARS = 16
TOKEN_FILE_MAX_BYTES = 4096


class ServeError(Exception):
    """A setting of `monotui serve` that cannot be used; `str()` says why in one line."""


# ---- the token -------------------------------------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_from_file(path: Path) -> str:
    """The token kept in `path`, created (0600, a new random token) when the file does not exist. Only a regular
    file is read (a FIFO would hang, /dev/zero never end), and only its first few KB."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        pass
    except OSError as e:
        raise ServeError(f"--token-file {path}: {e.strerror or e}") from None
    else:
        token = new_token()
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        return token
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as e:
        raise ServeError(f"--token-file {path}: {e.strerror or e}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ServeError(f"--token-file {path}: not a regular file")
        if info.st_mode & 0o077:
            raise ServeError(f"--token-file {path}: readable by others (chmod 600 it)")
        data = f.read(TOKEN_FILE_MAX_BYTES + 1)
    if len(data) > TOKEN_FILE_MAX_BYTES:
        raise ServeError(f"--token-file {path}: longer than {TOKEN_FILE_MAX_BYTES} bytes")
    token = data.decode("ascii", "replace").strip()
    if len(token) < MIN_TOKEN_CHARS or not token.isascii() or not token.isprintable() or " " in token:
        raise ServeError(f"--token-file {path}: the token must be at least {MIN_TOKEN_CHARS} printable ASCII "
                         "characters without spaces")
    return token


# ---- where it listens ------------------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """True when every address `host` names is a loopback one (127.0.0.0/8, ::1; `localhost`)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)


def session_url(host: str, port: int, token: str) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/?token={token}"


def session_command(config: str | None, follow: Path | None = None) -> str:
    """The command each browser tab runs: this monotui, read-only, on the same config (and with `follow`, following
    the operator's view on that socket). `exec`: the shell textual-serve starts it with is replaced, so ending the
    process ends monotui itself."""
    args = [sys.executable, "-m", "monotui", "--read-only"]
    if config:
        args += ["--config", str(Path(config).expanduser().resolve())]
    if follow is not None:
        args += ["--follow", str(follow)]
    return "exec " + shlex.join(args)


def clamp(value: object, default: int, most: int) -> int:
    """A terminal dimension from the browser: an integer in 1..most, else `default`."""
    try:
        number = int(str(value))
    except ValueError:
        return default
    return max(1, min(most, number))


# ---- one tab -------------------------------------------------------------------------------------------------


class BrowserSession(AppService):
    """One tab's process, which never outlives its tab."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._started = False
        self._stopping: asyncio.Future[None] | None = None

    async def start(self, width: int, height: int) -> None:
        self._started = True
        await super().start(width, height)

    async def stop(self, grace: float = QUIT_GRACE_S) -> None:
        """Ask the app to quit; terminate it after `grace` seconds, kill it after as long again. Once, however
        often it is called (the tab's end and the server's shutdown both call it)."""
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stop(grace))
        await asyncio.shield(self._stopping)

    async def _stop(self, grace: float) -> None:
        process = app_process(self)
        if self._started:
            # CancelledError: the app's reader task was cancelled under textual-serve's stop
            with contextlib.suppress(TimeoutError, ConnectionError, RuntimeError, asyncio.CancelledError):
                await asyncio.wait_for(super().stop(), grace)
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()


# ---- the server ----------------------------------------------------------------------------------------------


def _page(status: int, title: str, text: str) -> web.Response:
    body = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body style='font-family: monospace; background: #0c181f; color: #eee; padding: 2em'>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>")
    return web.Response(status=status, text=body, content_type="text/html", headers=_SAFE_HEADERS)


_SAFE_HEADERS = {
    "Referrer-Policy": "no-referrer",  # the token never leaves in a Referer
    "X-Frame-Options": "DENY",  # no page elsewhere frames the control room
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Cache-Control": "no-store",
}


class MonotuiServer(Server):
    def __init__(self, command: str, *, token: str, max_sessions: int = DEFAULT_MAX_SESSIONS, **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self.token = token
        self.max_sessions = max_sessions
        self.cookie = f"monotui_serve_{self.port}"  # cookies are per host, not per port: one per server
        self.sessions: set[BrowserSession] = set()
        self.sockets: set[web.WebSocketResponse] = set()
        self._reserved = 0  # tabs past the checks whose process is starting

    # -- who may watch --

    def _given_token(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return header.removeprefix("Bearer ").strip()
        return request.query.get("token") or request.cookies.get(self.cookie)

    def authorised(self, request: web.Request) -> bool:
        given = self._given_token(request)
        return given is not None and hmac.compare_digest(given.encode("utf-8", "replace"), self.token.encode())

    @staticmethod
    def same_origin(request: web.Request) -> bool:
        """The websocket was opened by a page of this server: its Origin is this server as the browser reached it
        (a page elsewhere — another site, or a file — has its own origin, and always sends it)."""
        origin = request.headers.get("Origin")
        if not origin:
            return False
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc.lower() == request.host.lower()

    def full(self) -> bool:
        return len(self.sessions) + self._reserved >= self.max_sessions

    def _busy_page(self) -> web.Response:
        return _page(503, "monotui serve: every session is in use",
                     f"This server shows monotui to at most {self.max_sessions} browser tabs at once, and "
                     f"{self.max_sessions} are open. Close one (here or elsewhere), then reload this page.")

    @staticmethod
    def _no_token_page() -> web.Response:
        return _page(401, "monotui serve: the session token is needed",
                     "Open the address `monotui serve` printed when it started (it ends with ?token=…), or ask "
                     "the operator who started it for that address.")

    # -- the routes --

    def make_app(self) -> web.Application:
        """textual-serve's routes with monotui's page, websocket and download handlers."""
        app = web.Application()
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.get("/download/{key}", self.handle_download, name="download"),
            web.static("/static", self.statics_path, show_index=False, name="static"),
        ])
        app.on_shutdown.append(self.on_shutdown)
        return app

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        if not self.authorised(request):
            return self._no_token_page()
        if "token" in request.query:  # trade it for a cookie, and take it out of the address bar and history
            response = web.Response(status=303, headers={**_SAFE_HEADERS, "Location": "/"})
            response.set_cookie(self.cookie, self.token, httponly=True, samesite="Strict", path="/")
            return response
        if self.full():
            return self._busy_page()
        scheme = "wss" if request.secure else "ws"
        context = {
            "font_size": clamp(request.query.get("fontsize", "16"), 16, 64),
            "app_websocket_url": f"{scheme}://{request.host}/ws",
            "config": {"static": {"url": f"{request.scheme}://{request.host}/static/"}},
            "application": {"name": self.title},
        }
        response = aiohttp_jinja2.render_template(INDEX_TEMPLATE, request, context)
        response.headers.update(_SAFE_HEADERS)
        return response

    async def handle_download(self, request: web.Request) -> web.StreamResponse:
        if not self.authorised(request):
            return self._no_token_page()
        return await super().handle_download(request)

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        """A tab's session: checked (token, origin, room) before the upgrade, then its own read-only process."""
        if not self.authorised(request):
            return self._no_token_page()
        if not self.same_origin(request):
            return _page(403, "monotui serve: another origin", "The session's websocket opens from its own page.")
        if self.full():
            return self._busy_page()
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE_BYTES, timeout=SHUTDOWN_GRACE_S)
        width = clamp(request.query.get("width", "80"), 80, MAX_WIDTH)
        height = clamp(request.query.get("height", "24"), 24, MAX_HEIGHT)
        session: BrowserSession | None = None
        self._reserved += 1
        try:
            await websocket.prepare(request)
            session = BrowserSession(self.command, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                                     close=websocket.close,  # as textual-serve does
                                     download_manager=self.download_manager,
                                     debug=self.debug)
            self.sockets.add(websocket)
            self.sessions.add(session)
            self._reserved -= 1
            await session.start(width, height)
            await self.relay(websocket, session)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # a broken tab must not take the server down
            log.warning("browser session ended: %s", error)
        finally:
            if session is None:
                self._reserved -= 1
            self.sockets.discard(websocket)
            if session is not None:
                self.sessions.discard(session)
                await asyncio.shield(session.stop())
        return websocket

    @staticmethod
    async def relay(websocket: web.WebSocketResponse, session: BrowserSession) -> None:
        """What the page sends, to its app: keys, resizes (bounded), focus, pings — textual-serve's protocol."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            envelope = message.json()
            if not isinstance(envelope, list) or not envelope:
                continue
            kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
            if kind == "stdin" and isinstance(data, str):
                await session.send_bytes(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                await session.set_terminal_size(clamp(data.get("width"), 80, MAX_WIDTH),
                                                clamp(data.get("height"), 24, MAX_HEIGHT))
            elif kind == "ping":
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await session.blur()
            elif kind == "focus":
                await session.focus()

    async def on_startup(self, app: web.Application) -> None:
        """Quiet: `monotui serve` says where it listens itself (textual-serve prints a logo and the command)."""

    async def on_shutdown(self, app: web.Application) -> None:
        """Stopping the server ends every tab's process at once, promptly (aiohttp would otherwise wait for the
        tabs), then closes their websockets."""
        await asyncio.gather(*(session.stop(SHUTDOWN_GRACE_S) for session in list(self.sessions)),
                             return_exceptions=True)
        await asyncio.gather(*(websocket.close(code=WSCloseCode.GOING_AWAY, message=b"monotui serve stopped")
                               for websocket in list(self.sockets)), return_exceptions=True)

    def serve(self, debug: bool = False) -> None:
        """Until SIGINT or SIGTERM; either ends every tab's process and returns within a few seconds."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_exit)
        with contextlib.suppress(GracefulExit):
            web.run_app(self.make_app(), host=self.host, port=self.port, handle_signals=False, loop=loop,
                        shutdown_timeout=SHUTDOWN_TIMEOUT_S, print=None, access_log=None)


def serve(config: str | None, host: str, port: int, token: str,
          max_sessions: int = DEFAULT_MAX_SESSIONS, *, follow: bool = False) -> None:
    from monotui.follow import socket_path

    MonotuiServer(session_command(config, socket_path() if follow else None), host=host, port=port,
                  title="monotui (read-only)", token=token, max_sessions=max_sessions).serve()
