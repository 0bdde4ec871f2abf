"""Numbers and times as an on-call engineer reads them out loud."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

_BLOCKS = "▁▂▃▄▅▆▇█"


def age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def since(then: datetime | None, now: datetime) -> str:
    return "-" if then is None else age((now - then).total_seconds())


def clock_time(when: datetime) -> str:
    """Local wall-clock time, HH:MM:SS: what an incident timeline is written in."""
    return when.astimezone().strftime("%H:%M:%S")


def percent(ratio: float | None, digits: int = 1) -> str:
    if ratio is None:
        return "-"
    return f"{ratio * 100:.{digits}f}%"


def share_number(share: float) -> str:
    """A share of traffic in %, without the sign: 50.0 → "50", 100/3 → "33.3"; a sliver above 0 is "<0.1" and one
    short of 100 is ">99.9", never rounded to all or nothing."""
    if 0 < share < 0.05:
        return "<0.1"
    if 99.95 <= share < 100:
        return ">99.9"
    return f"{share:.1f}".removesuffix(".0")


def traffic_percent(share: float | None) -> str:
    """A share of traffic: "50%"; "?" when there is no scale to measure it against."""
    return "?" if share is None else f"{share_number(share)}%"


def millis(ms: float | None) -> str:
    if ms is None:
        return "-"
    return f"{ms / 1000:.1f}s" if ms >= 1000 else f"{ms:.0f}ms"


def sparkline(values: Sequence[float], width: int = 20, floor: float = 0.0) -> str:
    """Unicode block sparkline of the last `width` values, scaled from 0 to the largest — or to `floor` when that
    is larger, so a flat healthy series stays low instead of filling the cells (pass the alert threshold)."""
    points = list(values)[-width:]
    if not points:
        return ""
    top = max(max(points), floor)
    if top <= 0:
        return _BLOCKS[0] * len(points)
    return "".join(_BLOCKS[min(len(_BLOCKS) - 1, int(v / top * (len(_BLOCKS) - 1) + 0.5))] for v in points)
