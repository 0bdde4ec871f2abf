"""A loopback HTTP proxy that passes reads through and mistreats the answers to mutating requests.

It forwards every request to the real upstream (the simulator, or the Kubernetes API stand-in), so the backend
really acts, then — for POST/PATCH only — does what `mode` says with the answer:

- "pass": forward it; "close": close the connection without answering (the answer is lost);
- "502"/"504": answer a gateway error instead; "drip": send the answer one byte per `drip_s` seconds;
- "other": answer 200 with `replacement` (an answer about another rollout).

`on_mutation` runs when a mutating request arrives, before it is forwarded (to look at the audit log then).
It runs its own event loop in a thread, so synchronous tests and subprocesses can use it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any

import httpx

MUTATING = {"POST", "PATCH", "PUT", "DELETE"}
READS_BY_POST = ("/api/admin/features-batch/export",)  # Unleash's feature export: a read sent as POST


def mutates(method: str, target: str) -> bool:
    return method in MUTATING and not target.startswith(READS_BY_POST)


class HostileProxy:
    def __init__(self, upstream: str, mode: str = "pass", *, drip_s: float = 1.0, replacement: bytes = b"",
                 on_mutation: Callable[[str, str], None] | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.mode = mode
        self.drip_s = drip_s
        self.replacement = replacement
        self.on_mutation = on_mutation
        self.mutations: list[tuple[str, str]] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        self._client = httpx.AsyncClient(base_url=self.upstream, timeout=30)
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._client.aclose()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = [tuple(x.split(":", 1)) for x in lines[1:] if ":" in x]
                length = next((int(v) for k, v in headers if k.strip().lower() == "content-length"), 0)
                body = await reader.readexactly(length) if length else b""
                if not await self._answer(method, target, headers, body, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _answer(self, method: str, target: str, headers: list[Any], body: bytes,
                      writer: asyncio.StreamWriter) -> bool:
        """Forward one request and answer it; False closes the connection."""
        mutating = mutates(method, target)
        if mutating:
            self.mutations.append((method, target))
            if self.on_mutation is not None:
                self.on_mutation(method, target)
        # the Host header is kept, so redirects the upstream builds point back at the proxy
        forward = {k.strip(): v.strip() for k, v in headers
                   if k.strip().lower() not in ("content-length", "connection", "accept-encoding")}
        response = await self._client.request(method, target, headers=forward, content=body)
        mode = self.mode if mutating else "pass"
        if mode == "close":
            return False
        if mode in ("502", "504"):
            text = b"<html><body>gateway error</body></html>"
            writer.write(f"HTTP/1.1 {mode} Gateway Error\r\ncontent-type: text/html\r\n"
                         f"content-length: {len(text)}\r\n\r\n".encode() + text)
            await writer.drain()
            return True
        payload = self.replacement if mode == "other" else response.content
        kept = "".join(f"{k}: {v}\r\n" for k, v in response.headers.items()
                       if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"))
        head = (f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n{kept}"
                f"content-length: {len(payload)}\r\n\r\n").encode()
        if mode != "drip":
            writer.write(head + payload)
            await writer.drain()
            return True
        writer.write(head)
        for i in range(len(payload)):
            if writer.is_closing() or (self._stop is not None and self._stop.is_set()):
                return False
            writer.write(payload[i:i + 1])
            await writer.drain()
            await asyncio.sleep(self.drip_s)
        return True
