"""`monotui serve`: the control room in a browser for a colleague, through textual-serve.

Each browser tab gets its own monotui process, started **read-only** (`--read-only` wins over the config file and
the environment): an observer sees what the operator sees and can move, filter, sort and open help, but no action
key sends anything — actions stay with the named operator at the terminal. Closing the tab ends that process: after
asking it to quit, a process that has not exited within a few seconds is terminated, then killed.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import sys
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, web
from textual_serve.app_service import AppService
from textual_serve.server import Server

log = logging.getLogger("monotui.serve")
QUIT_GRACE_S = 3.0  # a session asked to quit has this long before it is terminated, then as long again to die


def session_command(config: str | None) -> str:
    """The command each browser tab runs: this monotui, read-only, on the same config. `exec`: the shell textual-serve
    starts it with is replaced, so ending the process ends monotui itself."""
    args = [sys.executable, "-m", "monotui", "--read-only"]
    if config:
        args += ["--config", str(Path(config).expanduser().resolve())]
    return "exec " + shlex.join(args)


class BrowserSession(AppService):
    """One tab's process, which never outlives its tab."""

    async def stop(self) -> None:
        process = self._process
        if self._task is not None:
            try:
                await asyncio.wait_for(super().stop(), QUIT_GRACE_S)
            except (TimeoutError, ConnectionError, RuntimeError):
                self._task = None
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), QUIT_GRACE_S)
            except TimeoutError:
                process.kill()
                await process.wait()


class MonotuiServer(Server):
    def __init__(self, command: str, **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self.sessions: set[BrowserSession] = set()
        self.sockets: set[web.WebSocketResponse] = set()

    async def on_shutdown(self, app: web.Application) -> None:
        """Stopping the server ends every tab's process at once (aiohttp would otherwise wait for the tabs)."""
        await asyncio.gather(*(session.stop() for session in list(self.sessions)), return_exceptions=True)
        for websocket in list(self.sockets):
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"monotui serve stopped")

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handler, with a session that is always ended when its tab goes."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = _int(request.query.get("width"), 80)
        height = _int(request.query.get("height"), 24)
        session: BrowserSession | None = None
        try:
            await websocket.prepare(request)
            session = BrowserSession(self.command, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                                     close=websocket.close,  # type: ignore[arg-type]  # as textual-serve does
                                     download_manager=self.download_manager,
                                     debug=self.debug)
            self.sockets.add(websocket)
            self.sessions.add(session)
            await session.start(width, height)
            await self._process_messages(websocket, session)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # a broken tab must not take the server down
            log.warning("browser session ended: %s", error)
        finally:
            self.sockets.discard(websocket)
            if session is not None:
                self.sessions.discard(session)
                await asyncio.shield(session.stop())
        return websocket


def _int(value: str | None, default: int) -> int:
    try:
        return max(1, int(value)) if value is not None else default
    except ValueError:
        return default


def serve(config: str | None, host: str, port: int) -> None:
    MonotuiServer(session_command(config), host=host, port=port, title="monotui (read-only)").serve()
