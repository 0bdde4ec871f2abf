"""The audit log: one JSON line per record — an *intent* written before any request, then the action's outcome.

Write-ahead: the engine writes the intent (who, what, target, pinned revision, Idempotency-Key) and fsyncs it before
it sends anything; if that write fails nothing is sent. The outcome record follows: done, refused, failed or unknown.
An intent with no outcome (monotui was killed in flight) reads back as "outcome unknown".

Each record is written with a single `write()` on a file opened with O_APPEND, then fsynced: a crash leaves every
earlier record whole, and two processes interleave whole lines only. The file is opened without following a
symbolic link, created 0600, and a wider mode is tightened. Records hold no tokens: nothing secret is passed in.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import socket
import stat
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from monotui import __version__
from monotui.syslog_trail import TrailForwarder, parse_target

if TYPE_CHECKING:
    from monotui.config import Settings

log = logging.getLogger(__name__)

Outcome = Literal["done", "failed", "refused", "unknown"]
Stage = Literal["intent", "done", "failed", "refused", "unknown"]


UNRESOLVED_TAIL_BYTES = 4 * 1024 * 1024
# the record's own version: 2 added schema, host, monotui and session (a record without `schema` is version 1)
SCHEMA = 2
# one monotui process's records share it: the trail tells two runs of the same person on one host apart
SESSION = uuid.uuid4().hex[:16]


class AuditError(Exception):
    """The audit log cannot be written: the action must not be sent."""


@dataclass(frozen=True)
class AuditRecord:
    actor: str
    source: str
    environment: str
    service: str
    rollout: str
    action: str
    from_revision: int | None
    to_revision: int | None
    outcome: Stage  # "intent": written before the request; then one of the outcomes
    reason: str | None = None
    error: str | None = None
    idempotency_key: str | None = None
    automatic: bool = False
    confirmed_by: str | None = None  # "dialog", "typed-name", "prompt", "yes-flag", "yes-flag+confirm-name", …
    expected_revision: int | None = None  # the pin sent with the request
    expected_step: int | None = None
    target_revision: int | None = None  # rollback: the revision asked for
    attempt: int = 1  # > 1: sent again with the same Idempotency-Key after an unknown outcome
    pin: dict[str, object] | None = None  # everything confirmed: revision, step, phase, weight, engine version
    seen: dict[str, object] | None = None  # after an unknown outcome or a resend: the rollout as read back
    flag: dict[str, object] | None = None  # a kill switch: name, project, environment, from, to, strategies, …
    shown: dict[str, object] | None = None  # what the confirmation showed (from, to, effect): a resend shows it
    time: str = ""

    def to_json(self) -> str:
        """One line of JSON. A server's text is kept exactly (it is evidence) but inert: JSON escapes C0 controls
        itself; C1 controls and the bidi overrides/isolates are written as \\uXXXX too, so `cat`/`tail` of the log
        cannot act on a terminal nor reorder what is read."""
        data: dict[str, object] = {"schema": SCHEMA}
        data.update(asdict(self))
        data["time"] = self.time or datetime.now(UTC).isoformat(timespec="milliseconds")
        data["host"] = socket.gethostname()
        data["monotui"] = __version__
        data["session"] = SESSION
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# only inside JSON strings (nowhere else can they appear), so escaping them keeps the line valid and its meaning
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def open_private(path: Path) -> int:
    """Open for appending without following a symlink — neither the file nor its folder —, refuse what is not a
    plain file, keep it private (0600)."""
    for folder_path in (path.parent, *path.parent.parents):
        # a file where a folder is needed: mkdir would say only "File exists"
        if folder_path.exists() or folder_path.is_symlink():
            if folder_path.exists() and not folder_path.is_dir():
                raise AuditError(f"{path} cannot be created: {folder_path} is a file, not a folder (move it, or "
                                 "point audit_log elsewhere)")
            break
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR) and path.parent.is_symlink():
            raise AuditError(f"{path.parent} is a symbolic link: refused (use the real folder)") from None
        raise AuditError(f"{path} cannot be opened: {e.strerror or e}") from None
    try:
        fd = os.open(path.name, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                     dir_fd=folder)
    except OSError as e:
        if e.errno == errno.ELOOP:  # the file itself is a symbolic link
            raise AuditError(f"{path} is a symbolic link: refused (point audit_log at the real file)") from None
        raise AuditError(f"{path} cannot be opened: {e.strerror or e}") from None
    finally:
        os.close(folder)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise AuditError(f"{path} is not a regular file")
    if st.st_mode & 0o077:
        try:
            os.fchmod(fd, 0o600)
            log.warning("%s was readable by others (mode %o): tightened to 0600", path,
                        stat.S_IMODE(st.st_mode))
        except OSError:
            os.close(fd)
            raise AuditError(f"{path} is readable by others (mode {stat.S_IMODE(st.st_mode):o}) and "
                             f"cannot be tightened: chmod 600 it") from None
    return fd


class AuditLog:
    def __init__(self, path: Path, *, forwarder: TrailForwarder | None = None) -> None:
        self.path = path.expanduser()
        self.forwarder = forwarder  # the team's syslog: sent after the local write, never in its way

    def append(self, record: AuditRecord) -> None:
        """Write one record durably, or raise AuditError (disk full, a directory in the way, a symlink…)."""
        # a lone surrogate (an undecodable byte from argv or a server) is written as its escape, never refused
        line = (record.to_json() + "\n").encode("utf-8", "backslashreplace")
        fd = open_private(self.path)
        try:
            # A process killed in the middle of a write can leave a torn last line (Linux cuts a write short on
            # SIGKILL). Start on a fresh line, so the torn one never swallows this record.
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line
            written = os.write(fd, line)
            if written != len(line):  # a short write would leave half a line: say so loudly
                raise AuditError(f"short write to audit log {self.path} (disk full?)")
            os.fsync(fd)
        except OSError as e:
            raise AuditError(f"audit log {self.path} cannot be written: {e.strerror or e}") from None
        finally:
            os.close(fd)
        if self.forwarder is not None:
            self.forwarder.kick()

    def read(self, tail_bytes: int | None = None) -> list[dict[str, object]]:
        """Every whole record (a line torn by a killed writer is skipped); with `tail_bytes`, only the records in
        the file's last that many bytes."""
        try:
            # never through a symlink, never a device or a FIFO (/dev/zero would be read forever): writing
            # refuses those with the reason, so reading them only has to give nothing
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                return []
            with os.fdopen(fd, "rb") as f:
                if tail_bytes is not None and os.fstat(f.fileno()).st_size > tail_bytes:
                    f.seek(-tail_bytes, os.SEEK_END)
                    f.readline()  # the first line may start before the tail
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []
        records = []
        for line in lines:
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict):
                records.append(data)
        return records

    def outcomes(self) -> list[dict[str, object]]:
        """The records that say how an attempt ended (every record but the intents)."""
        return [r for r in self.read() if r.get("outcome") != "intent"]

    def last_by_key(self) -> dict[str, dict[str, object]]:
        """The last record of each attempt (by Idempotency-Key) in the log's tail, oldest first."""
        last: dict[str, dict[str, object]] = {}
        # start-up reads the log's tail only: the last hour of a busy log is far less than 4 MiB
        for record in self.read(tail_bytes=UNRESOLVED_TAIL_BYTES):
            key = record.get("idempotency_key")
            if isinstance(key, str) and key:
                last.pop(key, None)
                last[key] = record
        return last

    def unresolved(self, *, within: timedelta = timedelta(hours=1),
                   now: datetime | None = None) -> list[dict[str, object]]:
        """Actions whose last record says neither done, refused nor failed — an intent with no outcome (monotui
        stopped in flight) or an unknown outcome — from the last `within`, newest last."""
        return unresolved_of(self.last_by_key().values(), within=within, now=now)


def unresolved_of(records: Iterable[dict[str, object]], *, within: timedelta = timedelta(hours=1),
                  now: datetime | None = None) -> list[dict[str, object]]:
    """Of each attempt's last record, those that are an intent or an unknown outcome from the last `within`."""
    cutoff = (now or datetime.now(UTC)) - within
    out = []
    for record in records:
        if record.get("outcome") not in ("intent", "unknown"):
            continue
        try:
            when = datetime.fromisoformat(str(record.get("time")))
        except ValueError:
            continue
        if when.tzinfo is not None and when >= cutoff:
            out.append(record)
    return out


def audit_log_for(settings: Settings) -> AuditLog:
    """The configured audit log; with `audit_syslog`, its records also go to the team's syslog from a thread."""
    path = settings.audit_log.expanduser()
    if not settings.audit_syslog:
        return AuditLog(path)
    forwarder = TrailForwarder(path, parse_target(settings.audit_syslog), facility=settings.audit_syslog_facility,
                               app_name=settings.audit_syslog_app_name, ca_file=settings.audit_syslog_ca)
    forwarder.start()
    return AuditLog(path, forwarder=forwarder)
