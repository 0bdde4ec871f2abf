"""What the Kubernetes API stand-in answers to `Accept: application/json;as=Table` (kubectl's `get`): a
meta.k8s.io/v1 Table with kube-apiserver's columns, and ages as kubectl prints them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

Column = tuple[str, str, int]  # name, type, priority (0: shown by `kubectl get`, 1: only with `-o wide`)


def age(value: Any, now: datetime) -> str:
    """An age as kubectl prints one (`40s`, `3m`, `2h`), from an RFC 3339 time."""
    try:
        seconds = (now - datetime.fromisoformat(str(value).replace("Z", "+00:00"))).total_seconds()
    except ValueError:
        return "<unknown>"
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit == "m" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def row(cells: list[Any], metadata: dict[str, Any]) -> dict[str, Any]:
    return {"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                       "metadata": metadata}}


def table(columns: list[Column], rows: list[dict[str, Any]], rv: int, *, name_format: bool) -> dict[str, Any]:
    """`name_format`: the Name column carries the `name` format (pods' does; events' does not)."""
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": str(rv)},
            "columnDefinitions": [{"name": name, "type": kind,
                                   "format": "name" if name_format and name == "Name" else "",
                                   "description": "", "priority": priority} for name, kind, priority in columns],
            "rows": rows}
