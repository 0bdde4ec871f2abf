"""The resend ledger: the attempts whose outcome is unknown, which the same command sends again with the same
Idempotency-Key (so the backend acts at most once) instead of as a new intent.

It lives in two places: in memory (`pending`, this process's attempts and those adopted at start), and on disk in
a small file beside the audit log (`<audit_log>.unresolved`), which receives the intent and outcome records of
every resendable action. The audit log can be rotated (renamed, truncated, compressed) at any time; the ledger file
is not, so an unknown outcome is still known after a rotation and the next command resends it rather than acting a
second time. At start both are read: an attempt is unresolved while its last record, in either file, is an intent or
an unknown outcome (an outcome in the audit log settles it even if the ledger missed it).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

from monotui.engine.audit import AuditError, AuditLog, AuditRecord, open_private, unresolved_of

log = logging.getLogger(__name__)

P = TypeVar("P")
S = TypeVar("S")
COMPACT_ABOVE = 256 * 1024  # the ledger file is rewritten with only its unresolved attempts past this size
WITHIN = timedelta(hours=1)  # an unknown outcome older than this is settled by what the screen shows


def ledger_path(audit_log: Path) -> Path:
    return audit_log.with_name(audit_log.name + ".unresolved")


class ResendLedger(Generic[P, S]):
    """`pending[(source, target id, action)] = (plan, what the target looked like after the attempt)`."""

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit
        self.file = AuditLog(ledger_path(audit.path))
        self.pending: dict[tuple[str, str, str], tuple[P, S]] = {}

    # ---- on disk ----

    @contextmanager
    def _locked(self) -> Iterator[int]:
        fd = open_private(self.file.path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # releases the lock

    def record(self, record: AuditRecord) -> None:
        """Keep one record of a resendable action (written after the same record reached the audit log)."""
        try:
            with self._locked():
                self.file.append(record)
        except AuditError:
            raise
        except OSError as e:
            raise AuditError(f"resend ledger {self.file.path} cannot be written: {e.strerror or e}") from None

    def unresolved(self) -> list[dict[str, Any]]:
        """The attempts left unresolved, from the audit log's tail and the ledger file (which survives the log's
        rotation), newest last; compacts the ledger file when it has grown."""
        last = self.file.last_by_key()
        for key, record in self.audit.last_by_key().items():
            mine = last.get(key)
            if mine is None or str(record.get("time")) >= str(mine.get("time")):
                last.pop(key, None)
                last[key] = record
        out = unresolved_of(last.values(), within=WITHIN)
        out.sort(key=lambda r: str(r.get("time")))
        self._compact({str(r.get("idempotency_key")) for r in out})
        return out

    def _compact(self, keep: set[str]) -> None:
        try:
            if not self.file.path.is_file() or self.file.path.stat().st_size <= COMPACT_ABOVE:
                return
            with self._locked() as fd:
                kept = [r for r in self.file.read() if r.get("idempotency_key") in keep]
                data = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in kept)
                # rewritten in place (never replaced: a writer waiting on the lock holds this very file)
                os.ftruncate(fd, 0)
                os.pwrite(fd, data.encode("utf-8", "backslashreplace"), 0)
                os.fsync(fd)
        except (OSError, AuditError) as e:  # a ledger that cannot be compacted still works: say so, go on
            log.warning("resend ledger %s not compacted: %s", self.file.path, e)

    # ---- in memory ----

    def get(self, key: tuple[str, str, str]) -> tuple[P, S] | None:
        return self.pending.get(key)

    def keep(self, key: tuple[str, str, str], plan: P, seen: S) -> None:
        self.pending[key] = (plan, seen)

    def adopt(self, key: tuple[str, str, str], plan: P, seen: S) -> None:
        self.pending.setdefault(key, (plan, seen))

    def settle(self, key: tuple[str, str, str]) -> None:
        self.pending.pop(key, None)
