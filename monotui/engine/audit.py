"""The audit log: one JSON line per action attempt — done, failed, refused or outcome unknown.

Each record is written with a single `write()` on a file opened with O_APPEND, then fsynced, before the
outcome is shown: a crash leaves every earlier record whole, and two processes interleave whole lines only.
Records hold no tokens: nothing secret is ever passed in.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

Outcome = Literal["done", "failed", "refused", "unknown"]


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
    outcome: Outcome
    reason: str | None = None
    error: str | None = None
    idempotency_key: str | None = None
    automatic: bool = False
    time: str = ""

    def to_json(self) -> str:
        data = asdict(self)
        data["time"] = self.time or datetime.now(UTC).isoformat(timespec="milliseconds")
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path.expanduser()

    def append(self, record: AuditRecord) -> None:
        line = (record.to_json() + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            # A process killed in the middle of a write can leave a torn last line (Linux cuts a write short on
            # SIGKILL). Start on a fresh line, so the torn one never swallows this record.
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line
            written = os.write(fd, line)
            if written != len(line):  # a short write would leave half a line: say so loudly
                raise OSError(f"short write to audit log {self.path}")
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> list[dict[str, object]]:
        """Every whole record (a line torn by a killed writer is skipped)."""
        if not self.path.exists():
            return []
        records = []
        with self.path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    records.append(json.loads(line))
                except ValueError:
                    continue
        return records
