"""Loopback servers (the simulator and the Kubernetes API stand-in): the listening socket, and running an ASGI
app under uvicorn in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Literal, Self

import uvicorn


def loopback_socket(port: int = 0, host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it: without it, small answers written in two parts wait ~40 ms for the
    # client's delayed ACK (Nagle)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    return sock


def replay_receive(body: bytes, receive: Any) -> Any:
    """An ASGI `receive` for an app whose body a wrapper already read: the body once, then the real channel (a
    streaming response waits on it for the disconnect; answering it with the body forever would spin)."""
    delivered = False

    async def replay() -> Any:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class BackgroundServer:
    """An ASGI app on 127.0.0.1 in a daemon thread: `with Subclass(...) as server: server.url`."""

    name = "server"

    def _serve(self, app: Any, *, port: int = 0, lifespan: Literal["on", "off"] = "on",
               tls: tuple[str, str] | None = None) -> None:
        """`tls`: (certificate file, key file) to serve https."""
        self._socket = loopback_socket(port)
        self.port: int = self._socket.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="critical", access_log=False, lifespan=lifespan,
                                timeout_graceful_shutdown=1, timeout_keep_alive=30,
                                ssl_certfile=tls[0] if tls else None, ssl_keyfile=tls[1] if tls else None)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=lambda: self._server.run(sockets=[self._socket]),
                                        name=f"monotui-{self.name}", daemon=True)

    def start(self, timeout: float = 10.0) -> Self:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
