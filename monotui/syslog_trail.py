"""The audit trail leaves the machine: every record of the local audit log is also sent to the team's syslog.

The local file stays the write-ahead record; forwarding follows it and never blocks or fails an action. A small
cursor file beside the log (`<log>.forwarded`: the log's inode and the byte offset forwarded so far) says where the
forwarding stopped, so records that could not be sent (the receiver down, the network cut) are sent from the file
later — by this process when it retries, or by the next monotui that starts with the same log — once each, in the
order they were written.

Each record becomes one RFC 5424 message: the JSON record is the MSG, and a structured-data element repeats the
key fields (actor, action, service, outcome, session) for log engines that index them. Over TCP and TLS the
messages are framed by octet counting (RFC 6587 §3.4.1); over UDP and a local socket (`/dev/log`) one datagram is
one message.

Over TCP a batch counts as delivered only when the receiver, after reading our half-close, closes its end: a
receiver that dies after the kernel accepted our bytes but before it read them gets them again on the next try.
Plain syslog has no acknowledgement, so a receiver that reads the batch and then dies before it writes it loses
it; RELP would close that gap and is not spoken here. UDP and unix datagrams have no confirmation at all.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

FACILITIES = {
    "kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7, "uucp": 8,
    "cron": 9, "authpriv": 10, "ftp": 11, "local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20,
    "local5": 21, "local6": 22, "local7": 23,
}
# severity per record: an intent is a notice, a done action informational, the rest call for a look
SEVERITY = {"intent": 5, "done": 6, "refused": 4, "unknown": 4, "failed": 3}
# the structured-data id: 32473 is the enterprise number RFC 5612 reserves for documentation and examples
SD_ID = "monotui@32473"
SD_FIELDS = ("actor", "action", "service", "source", "outcome", "session")
SCHEMES = ("tcp", "tls", "udp", "unix")
BATCH = 200  # records sent per connection
CONNECT_TIMEOUT_S = 3.0
MAX_BACKOFF_S = 30.0


class TrailConfigError(ValueError):
    """An `audit_syslog` address that cannot be used."""


@dataclass(frozen=True)
class SyslogTarget:
    scheme: str
    host: str = ""
    port: int = 0
    path: str = ""

    def __str__(self) -> str:
        return f"unix://{self.path}" if self.scheme == "unix" else f"{self.scheme}://{self.host}:{self.port}"


def parse_target(url: str) -> SyslogTarget:
    """`tcp://HOST:PORT`, `tls://HOST:PORT`, `udp://HOST:PORT` or `unix:///dev/log`; a clear error otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise TrailConfigError(f"{url!r}: the scheme must be one of {', '.join(s + '://' for s in SCHEMES)}")
    if parts.scheme == "unix":
        if not parts.path.startswith("/") or parts.netloc:
            raise TrailConfigError(f"{url!r}: a local socket is written unix:///path/to/socket")
        return SyslogTarget("unix", path=parts.path)
    try:
        port = parts.port
    except ValueError:
        raise TrailConfigError(f"{url!r}: the port is not a number from 1 to 65535") from None
    if not parts.hostname or port is None or port == 0:
        raise TrailConfigError(f"{url!r}: give a host and a port, e.g. {parts.scheme}://logs.internal:6514")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise TrailConfigError(f"{url!r}: nothing may follow HOST:PORT")
    return SyslogTarget(parts.scheme, host=parts.hostname, port=port)


def _header_field(value: object, limit: int) -> str:
    """A header field of RFC 5424: printable US-ASCII without spaces, at most `limit` characters, '-' if empty."""
    text = "".join(c for c in str(value or "") if 33 <= ord(c) <= 126)[:limit]
    return text or "-"


def _sd_value(value: object) -> str:
    # RFC 5424 §6.3.3: '"', '\' and ']' are escaped with a backslash; controls never reach a log line
    text = "".join(c for c in str(value) if c.isprintable())
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def syslog_message(record: dict[str, object], *, facility: int, app_name: str, procid: int | str,
                   line: bytes | None = None) -> bytes:
    """One audit record as an RFC 5424 message: header, structured data with the key fields, the JSON record —
    `line`, the record exactly as the local file holds it, when given."""
    outcome = str(record.get("outcome") or "")
    pri = facility * 8 + SEVERITY.get(outcome, 5)
    params = " ".join(f'{name}="{_sd_value(record[name])}"' for name in SD_FIELDS
                      if record.get(name) not in (None, ""))
    sd = f"[{SD_ID} {params}]" if params else "-"
    header = (f"<{pri}>1 {_header_field(record.get('time'), 64)} {_header_field(record.get('host'), 255)} "
              f"{_header_field(app_name, 48)} {_header_field(procid, 128)} {_header_field(outcome, 32)} {sd} ")
    body = line if line is not None else json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "backslashreplace")
    return header.encode("ascii", "replace") + body


class _Cursor:
    """`<log>.forwarded`: the log's inode and the offset forwarded so far, replaced atomically."""

    def __init__(self, log_path: Path) -> None:
        self.path = log_path.with_name(log_path.name + ".forwarded")

    def read(self) -> tuple[int, int]:
        try:
            data = json.loads(self.path.read_text())
            return int(data["inode"]), int(data["offset"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0, 0

    def write(self, inode: int, offset: int) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, json.dumps({"inode": inode, "offset": offset}).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)


class TrailForwarder:
    """Sends the audit log's records to syslog from a thread of its own; `kick()` after each record written."""

    def __init__(self, log_path: Path, target: SyslogTarget, *, facility: str = "local0",
                 app_name: str = "monotui", ca_file: Path | None = None) -> None:
        if facility not in FACILITIES:
            raise TrailConfigError(f"facility {facility!r}: one of {', '.join(FACILITIES)}")
        self.log_path = log_path
        self.target = target
        self.facility = FACILITIES[facility]
        self.app_name = app_name
        self.ca_file = ca_file
        self.cursor = _Cursor(log_path)
        self.pending = 0  # records written locally and not yet forwarded, as of the last pass
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None

    # ---- the caller's side ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the thread; it forwards whatever an earlier run left behind straight away."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="audit-forward", daemon=True)
            self._thread.start()
        self.kick()

    def kick(self) -> None:
        """A record was written: forward it soon. Never blocks."""
        self._idle.clear()
        self._wake.set()

    def flush(self, timeout: float) -> bool:
        """Wait up to `timeout` for a pass after the last kick; True when nothing is left to forward."""
        self._idle.wait(timeout)
        return self.pending == 0 and self._idle.is_set()

    def close(self, timeout: float = 2.0) -> None:
        """Give the thread `timeout` to forward what is left (the file keeps the rest for the next run)."""
        if self._thread is None:
            return
        self.flush(timeout)
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=0.5)

    # ---- the thread ---------------------------------------------------------------------------------------

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop:
            self._wake.wait(None if self.pending == 0 else backoff)
            self._wake.clear()
            if self._stop:
                break
            try:
                self.forward_pending()
                self.last_error = None
                backoff = 0.5
            except OSError as e:
                self.last_error = f"{self.target}: {e.strerror or e}"
                log.warning("audit trail not forwarded to %s (%d pending): %s", self.target, self.pending, e)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
            if not self._wake.is_set():
                self._idle.set()

    def forward_pending(self) -> None:
        """One pass: send every whole record after the cursor, in order, moving the cursor after each batch
        that the receiver confirmed. Another monotui forwarding the same log holds the lock: it sends them."""
        if not self.log_path.exists():
            self.pending = 0  # nothing written yet
            return
        lock_path = self.cursor.path.with_name(self.cursor.path.name + ".lock")
        lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return
            self._forward_locked()
        finally:
            os.close(lock_fd)

    def _forward_locked(self) -> None:
        try:
            fd = os.open(self.log_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            self.pending = 0
            return
        with os.fdopen(fd, "rb") as f:
            inode = os.fstat(f.fileno()).st_ino
            seen_inode, offset = self.cursor.read()
            if seen_inode != inode:
                offset = 0  # a new or rotated log: its records have not been forwarded
            f.seek(offset)
            data = f.read()
        lines = data.split(b"\n")[:-1]  # a torn last line (no newline yet) waits for the next pass
        self.pending = sum(1 for line in lines if line.strip())
        while lines:
            batch, lines = lines[:BATCH], lines[BATCH:]
            messages = [m for m in (self._message(line) for line in batch) if m is not None]
            if messages:
                self._send(messages)
            offset += sum(len(line) + 1 for line in batch)
            self.cursor.write(inode, offset)
            self.pending -= sum(1 for line in batch if line.strip())

    def _message(self, line: bytes) -> bytes | None:
        try:
            record = json.loads(line)
        except ValueError:
            return None  # a line torn by a killed writer: the local log skips it too
        if not isinstance(record, dict):
            return None
        return syslog_message(record, facility=self.facility, app_name=self.app_name, procid=os.getpid(),
                              line=line.strip())

    def _send(self, messages: list[bytes]) -> None:
        target = self.target
        if target.scheme in ("udp", "unix"):
            family = socket.AF_UNIX if target.scheme == "unix" else socket.AF_INET
            if target.scheme == "udp" and ":" in target.host:
                family = socket.AF_INET6
            address: str | tuple[str, int] = target.path if target.scheme == "unix" else (target.host, target.port)
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.settimeout(CONNECT_TIMEOUT_S)
                sock.connect(address)
                for message in messages:
                    sock.send(message)
            return
        raw = socket.create_connection((target.host, target.port), timeout=CONNECT_TIMEOUT_S)
        with contextlib.closing(raw):
            framed = b"".join(str(len(m)).encode() + b" " + m for m in messages)
            if target.scheme == "tls":
                context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
                with context.wrap_socket(raw, server_hostname=target.host) as tls:
                    tls.sendall(framed)
                    # our close_notify; the receiver answers once it has read up to it (rsyslog by closing
                    # without a close_notify of its own: the same answer)
                    with contextlib.suppress(ssl.SSLEOFError):
                        tls.unwrap()
                return
            raw.sendall(framed)
            raw.shutdown(socket.SHUT_WR)
            # the receiver closes its end once it has read everything up to our half-close
            while raw.recv(4096):
                pass
