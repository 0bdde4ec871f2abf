"""Who owns an Argo Rollout: the annotations (else labels) named by the source's `owner_keys` — by default
`monotui.dev/team`, `monotui.dev/on-call`, `monotui.dev/runbook` and `monotui.dev/dashboard`."""

from __future__ import annotations

from typing import Any

from monotui.config import OwnerKeys
from monotui.models import Owner

MAX = 300  # characters kept of a value (monotui/owners.py cleans and cuts again for the screen)


def owner_of(ro: dict[str, Any], keys: OwnerKeys) -> Owner | None:
    meta = ro.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    found: dict[str, str] = {}
    for place in ("labels", "annotations"):  # annotations last: they win over labels
        values = meta.get(place)
        if not isinstance(values, dict):
            continue
        for field in ("team", "on_call", "runbook", "dashboard"):
            value = values.get(getattr(keys, field))
            if isinstance(value, str) and value.strip():
                found[field] = value.strip()[:MAX]
    return Owner(**found) if found else None
