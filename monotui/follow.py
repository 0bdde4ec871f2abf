"""Pairing that follows the operator: the operator's monotui shares its *view* — the selected row, the filter, the
open dialog — over a local unix socket, and observers (`monotui serve --follow`'s browser sessions) mirror it.

The socket lives in the user's runtime directory (`$XDG_RUNTIME_DIR/monotui/follow.sock`, else
`/tmp/monotui-<uid>/follow.sock`), in a folder of its own made 0700, and is itself 0600: only the same user reaches
it. It carries view state only: the operator's process writes one JSON object per line and never reads what an
observer sends (it reads only to notice the observer left), so nothing an observer does can reach the operator's
process, let alone act. An observer takes only the known fields, as bounded strings.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# everything a view state holds: the selected row, the filter, the open dialog's title, who shares; and to draw the
# open dialog read-only (ui/screens/mirror.py): its kind, its lines of text and its button labels, already cleaned
FIELDS = ("row", "filter", "dialog", "actor", "dialog_kind", "dialog_body", "dialog_buttons")
MAX_FIELD = 300  # characters per field
LIMITS = {"dialog_body": 6000}  # fields allowed more than MAX_FIELD characters
MAX_LINE = 32768  # bytes per state: an observer refuses a longer line
RECONNECT_S = 0.5


def socket_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the operator's monotui shares its view: in `env`'s runtime directory (this process's by default)."""
    runtime = (os.environ if env is None else env).get("XDG_RUNTIME_DIR")
    base = Path(runtime) / "monotui" if runtime else Path(f"/tmp/monotui-{os.getuid()}")
    return base / "follow.sock"


def _private_folder(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise OSError(f"{folder} is not a folder of this user's")
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(folder, 0o700)


def clean_state(data: Any) -> dict[str, str] | None:
    """The known fields of a view state, each a bounded string (None: not a view state)."""
    if not isinstance(data, dict):
        return None
    out: dict[str, str] = {}
    for key in FIELDS:
        value = data.get(key)
        if isinstance(value, str):
            out[key] = value[:LIMITS.get(key, MAX_FIELD)]
    return out


class ShareServer:
    """The operator's side: `await share.start()`, then `share.publish(state)` whenever the view changes."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or socket_path()
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.StreamWriter] = set()
        self._line = b""
        self.on_change: Callable[[], None] = lambda: None  # the count of observers changed

    @property
    def watching(self) -> int:
        return len(self._clients)

    @property
    def sharing(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        """Listen; OSError when the folder is not this user's, or another monotui shares already."""
        _private_folder(self.path.parent)
        try:
            _, writer = await asyncio.open_unix_connection(str(self.path))
        except OSError:
            pass  # nobody listens there
        else:
            writer.close()
            raise OSError(f"another monotui already shares its view on {self.path}")
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(os.lstat(self.path).st_mode):
                self.path.unlink()  # a socket left by a monotui that was killed
        old = os.umask(0o177)  # created 0600, never wider even for an instant
        try:
            self._server = await asyncio.start_unix_server(self._client, path=str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.add(writer)
        self.on_change()
        try:
            if self._line:
                writer.write(self._line)
                await writer.drain()
            while await reader.read(1024):  # never interpreted: read only to notice the observer left
                pass
        except (ConnectionError, OSError):
            pass
        finally:
            self._clients.discard(writer)
            writer.close()
            self.on_change()

    def publish(self, state: dict[str, str]) -> None:
        line = (json.dumps({k: state.get(k, "")[:LIMITS.get(k, MAX_FIELD)] for k in FIELDS}, ensure_ascii=False)
                + "\n").encode()
        if line == self._line:
            return
        self._line = line
        for writer in list(self._clients):
            try:
                writer.write(line)
            except (ConnectionError, OSError):
                self._clients.discard(writer)

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._clients):
            writer.close()
        self._clients.clear()
        with contextlib.suppress(Exception):
            await self._server.wait_closed()
        self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


async def follow(path: Path, on_state: Callable[[dict[str, str]], None],
                 on_connected: Callable[[bool], None] = lambda _: None) -> None:
    """The observer's side, forever: connect (again and again while no operator shares), pass on each state."""
    while True:
        try:
            reader, writer = await asyncio.open_unix_connection(str(path), limit=MAX_LINE)
        except OSError:
            await asyncio.sleep(RECONNECT_S)
            continue
        on_connected(True)
        try:
            while line := await reader.readline():
                try:
                    state = clean_state(json.loads(line))
                except ValueError:
                    continue
                if state is not None:
                    on_state(state)
        except (ConnectionError, OSError, ValueError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            on_connected(False)
        await asyncio.sleep(RECONNECT_S)
