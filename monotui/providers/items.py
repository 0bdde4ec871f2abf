"""Reading a list answer item by item, so that one item that cannot be read never hides the others.

A rollout that fails validation becomes a placeholder row that says which field is wrong (phase Degraded, its
error in `errors`); other items (health, events, alerts) that cannot be read are left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from pydantic import BaseModel, ValidationError

from monotui.models import Phase, Rollout, Strategy
from monotui.providers.base import ProviderError

M = TypeVar("M", bound=BaseModel)
S = TypeVar("S", bound=msgspec.Struct)
E = TypeVar("E")
UNREADABLE = "unreadable"

# Nesting: the JSON decoders give up near 1,000 levels (RecursionError), which would make the whole answer
# unreadable for one item. An answer that deep is read again with every value nested deeper than MAX_DEPTH
# replaced by a marker, and each item holding the marker is that item's problem alone.
MAX_DEPTH = 128
TOO_DEEP = "\x00monotui: nested too deep"
_TOO_DEEP_JSON = b'"\\u0000monotui: nested too deep"'
TOO_DEEP_PROBLEM = f"body: nested more than {MAX_DEPTH} levels deep"
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def prune_deep(body: bytes, max_depth: int = MAX_DEPTH) -> bytes:
    """`body` with every array or object opened deeper than `max_depth` replaced by the TOO_DEEP marker (a string
    value); strings are skipped whole, so brackets inside them do not count. Malformed JSON stays malformed."""
    out: list[bytes] = []
    depth = 0
    kept = 0  # where the part of `body` still to copy starts
    for token in _TOKEN.finditer(body):
        char = token.group()[0]
        if char == 0x22:  # a string
            continue
        if char in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth == max_depth + 1:
                out += (body[kept:token.start()], _TOO_DEEP_JSON)
        else:
            if depth == max_depth + 1:
                kept = token.end()
            depth -= 1
    out.append(body[kept:])
    return b"".join(out)


class TooDeep(dict[str, Any]):
    """An item of a list answer that held a value nested too deep (what was left of it: its name, its id)."""


def holds_too_deep(value: Any) -> bool:
    """Whether parsed JSON (from `json_value`) held a value nested too deep."""
    return isinstance(value, TooDeep) or _holds_marker(value)


def _holds_marker(value: Any) -> bool:
    if isinstance(value, str):
        return value == TOO_DEEP
    if isinstance(value, dict):
        return any(_holds_marker(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_marker(v) for v in value)
    return False


def _mark_items(value: Any) -> Any:
    """Each element of a list that holds the marker (the shallowest lists: the answer's items) as TooDeep."""
    if isinstance(value, dict):
        return {k: _mark_items(v) for k, v in value.items()}
    if isinstance(value, list):
        return [(TooDeep(v) if isinstance(v, dict) else TooDeep()) if _holds_marker(v) else _mark_items(v)
                for v in value]
    return value


def json_value(body: bytes, what: str) -> Any:
    """Any JSON answer, parsed; an item nested too deep comes back as a TooDeep (read_items makes it that item's
    problem); ProviderError when it is not JSON."""
    try:
        return msgspec.json.decode(body)
    except RecursionError:
        pass
    except msgspec.DecodeError as e:
        raise ProviderError("invalid", f"{what}: invalid response: not JSON ({e})") from None
    try:
        return _mark_items(msgspec.json.decode(prune_deep(body)))
    except (msgspec.DecodeError, RecursionError) as e:
        reason = str(e) if isinstance(e, msgspec.DecodeError) else type(e).__name__
        raise ProviderError("invalid", f"{what}: invalid response: not JSON ({reason})") from None

_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]*)`$")


def describe(exc: msgspec.ValidationError | ValidationError) -> str:
    """`field.path: what is wrong` (never the value: it may be huge or hostile): msgspec's
    "Expected `int` >= 0 - at `$.steps[2].weight`" becomes "steps.2.weight: Expected int >= 0"."""
    if isinstance(exc, ValidationError):  # a pydantic wire model of another backend (Unleash)
        return _pydantic_problem(exc)
    found = _AT.match(str(exc))
    message, path = (found["msg"], found["path"] or "") if found else (str(exc), "")
    parts = [p for p in re.split(r"[.\[\]]+", path) if p]
    if missing := _MISSING.match(message):
        parts.append(missing["field"])
        message = "Object missing required field"
    return f"{'.'.join(parts) or 'body'}: {message.replace('`', '')}"


def _pydantic_problem(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in err["loc"]) or "body"
    return f"{loc}: {err['msg']}"


def envelope(decoder: msgspec.json.Decoder[E], body: bytes, what: str) -> E:
    """The answer's envelope (its item lists left as raw JSON, read one by one by `decode_items`), or
    ProviderError naming what is wrong."""
    try:
        try:
            return decoder.decode(body)
        except RecursionError:  # one item nested too deep: read again with it marked (`_decode_one`)
            return decoder.decode(prune_deep(body))
    except msgspec.ValidationError as e:
        raise ProviderError("invalid", f"{what}: invalid response: {describe(e)}") from None
    except (msgspec.DecodeError, RecursionError) as e:
        reason = str(e) if isinstance(e, msgspec.DecodeError) else type(e).__name__
        raise ProviderError("invalid", f"{what}: invalid response: not JSON ({reason})") from None


def json_object(body: bytes, what: str) -> dict[str, Any]:
    """An answer that must be a JSON object, parsed, or ProviderError saying why not."""
    data = json_value(body, what)
    if not isinstance(data, dict) or isinstance(data, TooDeep):
        raise ProviderError("invalid", f"{what}: invalid response: not a JSON object")
    return data


def item_list(data: dict[str, Any], key: str, what: str) -> list[Any]:
    """The list under `key` of a parsed answer, or ProviderError naming the field."""
    items = data.get(key)
    if not isinstance(items, list):
        problem = "Field required" if key not in data else "Input should be a valid list"
        raise ProviderError("invalid", f"{what}: invalid response: {key}: {problem}")
    return items


def _plain(raw: msgspec.Raw) -> Any:
    try:
        return msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return None


def _decode_one(raw: msgspec.Raw, decoder: msgspec.json.Decoder[S], text: bytes | None = None) -> S | str:
    """The item's model, or what is wrong with it (`text`: the item's bytes, when the caller has them)."""
    if _TOO_DEEP_JSON in (bytes(raw) if text is None else text):
        return TOO_DEEP_PROBLEM
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as e:
        return describe(e)
    except (msgspec.DecodeError, RecursionError) as e:
        return f"body: {type(e).__name__}"


def decode_items(items: list[msgspec.Raw], decoder: msgspec.json.Decoder[S],
                 on_bad: Callable[[int, Any, str], S | None] = lambda i, raw, why: None) -> list[S]:
    """Each item decoded on its own (a big answer decoded in a worker thread thus lets the event loop take the GIL
    between items); `on_bad(index, raw item as plain JSON data, problem)` gives its stand-in (or None: dropped)."""
    out: list[S] = []
    for i, raw in enumerate(items):
        model = _decode_one(raw, decoder)
        if isinstance(model, str):
            stand_in = on_bad(i, _plain(raw), model)
            if stand_in is not None:
                out.append(stand_in)
        else:
            out.append(model)
    return out


def decode_known(items: list[msgspec.Raw], decoder: msgspec.json.Decoder[S], known: dict[bytes, S],
                 on_bad: Callable[[int, Any, str], S | None] = lambda i, raw, why: None,
                 ) -> tuple[list[S], dict[bytes, S]]:
    """`decode_items` for a whole list read again at every poll: an item byte for byte the same as one of the last
    list's (`known`: item JSON → its model) is that model again, not decoded anew — no new objects, so the state
    sees at once that it did not change and the garbage collector has nothing new to walk. Returns the models and
    this list's `known` (its readable items' JSON, about the size of the body, kept until the next list)."""
    out: list[S] = []
    now: dict[bytes, S] = {}
    for i, raw in enumerate(items):
        text = bytes(raw)
        model = known.get(text)
        if model is None:
            decoded = _decode_one(raw, decoder, text)
            if isinstance(decoded, str):  # a stand-in is made again each time (it says since when)
                stand_in = on_bad(i, _plain(raw), decoded)
                if stand_in is not None:
                    out.append(stand_in)
                continue
            model = decoded
        now[text] = model
        out.append(model)
    return out, now


def read_items(items: list[Any], model: type[M],
               on_bad: Callable[[int, Any, str], M | None] = lambda i, raw, why: None) -> list[M]:
    """Each item of already parsed JSON validated on its own (for the pydantic wire models of Prometheus and
    Alertmanager); `on_bad(index, raw item, problem)` gives its stand-in (or None: dropped)."""
    out: list[M] = []
    for i, raw in enumerate(items):
        if isinstance(raw, TooDeep):
            stand_in = on_bad(i, raw, TOO_DEEP_PROBLEM)
            if stand_in is not None:
                out.append(stand_in)
            continue
        try:
            out.append(model.model_validate(raw))
        except ValidationError as e:
            stand_in = on_bad(i, raw, _pydantic_problem(e))
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

