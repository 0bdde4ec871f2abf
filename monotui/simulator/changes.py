"""What the simulator's change feed needs: which keys changed at which version, and when health has moved enough
to be worth sending (docs/deploy-api.md, "Changes since a cursor")."""

from __future__ import annotations

import secrets
from collections import OrderedDict

# Health figures are sent again only when they moved by more than this share of the last figure sent, or by
# more than an absolute floor: the simulator's noise (±10% per sample) never crosses it, a bad canary does.
HEALTH_STEP = 0.25
ERROR_RATIO_FLOOR = 0.0005
P99_MS_FLOOR = 5.0
RPS_FLOOR = 1.0


class ChangeLog:
    """Key → the version it last changed at, kept in version order so "what changed since v" costs O(changes),
    not O(keys)."""

    def __init__(self) -> None:
        self.epoch = secrets.token_hex(4)  # a new log (a restarted server) never honours an old cursor
        self._at: OrderedDict[str, int] = OrderedDict()

    def mark(self, key: str, version: int) -> None:
        self._at[key] = version
        self._at.move_to_end(key)

    def since(self, version: int) -> list[str]:
        """Keys changed after `version`, oldest change first."""
        out = []
        for key in reversed(self._at):
            if self._at[key] <= version:
                break
            out.append(key)
        out.reverse()
        return out

    def cursor(self, version: int) -> str:
        return f"{self.epoch}.{version}"

    def parse(self, cursor: str) -> int | None:
        """The version a cursor of this log stands for; None when it belongs to another log (or is garbage)."""
        epoch, _, version = cursor.partition(".")
        if epoch != self.epoch or not version.isdigit():
            return None
        return int(version)


def moved(sent: float, now: float, floor: float) -> bool:
    return abs(now - sent) > max(floor, HEALTH_STEP * abs(sent))
