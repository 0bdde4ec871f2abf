"""Reading a list answer item by item, so that one item that cannot be read never hides the others.

A rollout that fails validation becomes a placeholder row that says which field is wrong (phase Degraded, its
error in `errors`); other items (health, events, alerts) that cannot be read are left out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from monotui.models import Phase, Rollout, Strategy
from monotui.providers.base import ProviderError

M = TypeVar("M", bound=BaseModel)
UNREADABLE = "unreadable"


def describe(exc: ValidationError) -> str:
    """`field.path: what is wrong` for the first error (never the value: it may be huge or hostile)."""
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in err["loc"]) or "body"
    return f"{loc}: {err['msg']}"


def json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        reason = e.msg if isinstance(e, json.JSONDecodeError) else type(e).__name__
        raise ProviderError("invalid", f"{what}: invalid response: not JSON ({reason})") from None
    if not isinstance(data, dict):
        raise ProviderError("invalid", f"{what}: invalid response: not a JSON object")
    return data


def item_list(data: dict[str, Any], key: str, what: str) -> list[Any]:
    items = data.get(key)
    if not isinstance(items, list):
        problem = "Field required" if key not in data else "Input should be a valid list"
        raise ProviderError("invalid", f"{what}: invalid response: {key}: {problem}")
    return items


def read_items(items: list[Any], model: type[M],
               on_bad: Callable[[int, Any, str], M | None] = lambda i, raw, why: None) -> list[M]:
    """Each item validated on its own; `on_bad(index, raw item, problem)` gives its stand-in (or None: dropped)."""
    out: list[M] = []
    for i, raw in enumerate(items):
        try:
            out.append(model.model_validate(raw))
        except ValidationError as e:
            stand_in = on_bad(i, raw, describe(e))
            if stand_in is not None:
                out.append(stand_in)
        except (RecursionError, ValueError, TypeError) as e:  # a validator's own failure on an odd value
            stand_in = on_bad(i, raw, type(e).__name__)
            if stand_in is not None:
                out.append(stand_in)
    return out


def _text(raw: Any, key: str) -> str | None:
    value = raw.get(key) if isinstance(raw, dict) else None
    return value[:200] if isinstance(value, str) and value else None


def unreadable_rollout(raw: Any, index: int, problem: str, first_seen: datetime | None = None) -> Rollout:
    """A row for a rollout that cannot be read: its id and service if those can be read, what is wrong in the
    message, and the field at fault in the Version column (`? started_at`)."""
    rollout_id = _text(raw, "id") or f"#{index}"
    field = problem.split(":", 1)[0] if ":" in problem else "?"
    revision = raw.get("revision") if isinstance(raw, dict) else None
    return Rollout(
        id=rollout_id, service=_text(raw, "service") or rollout_id, environment=_text(raw, "environment") or "?",
        strategy=Strategy.CANARY, phase=Phase.DEGRADED, message=f"{UNREADABLE}: {problem}",
        revision=revision if isinstance(revision, int) and not isinstance(revision, bool) and revision >= 0 else 0,
        version=f"? {field}", started_at=first_seen or datetime.now(UTC), errors=[f"{UNREADABLE}: {problem}"],
    )

