"""The domain models (msgspec structs): copying, dumping, and checking a model built by keyword."""

from __future__ import annotations

from datetime import datetime

import msgspec
import pytest

from monotui.models import Phase, Rollout, Strategy, as_json, checked, replace
from monotui.providers.items import decode_items, unreadable_rollout

from .conftest import START


def _rollout(**extra: object) -> Rollout:
    return Rollout(id="r", service="cart-api", environment="prod", strategy=Strategy.CANARY, phase=Phase.HEALTHY,
                   revision=3, version="v3", started_at=START, **extra)  # type: ignore[arg-type]


def test_a_copy_changes_only_what_is_asked_and_the_original_stays() -> None:
    rollout = _rollout()
    paused = replace(rollout, phase=Phase.PAUSED)
    assert (rollout.phase, paused.phase, paused.version) == (Phase.HEALTHY, Phase.PAUSED, "v3")
    with pytest.raises(AttributeError):
        rollout.phase = Phase.PAUSED  # type: ignore[misc]


def test_as_json_reads_back_as_the_same_model() -> None:
    rollout = _rollout(current_step=1, errors=["x"])
    data = as_json(rollout, exclude={"errors"})
    assert data["phase"] == "Healthy" and data["started_at"].endswith("Z") and "errors" not in data
    assert msgspec.convert(as_json(rollout), Rollout) == rollout


def test_a_model_built_by_keyword_is_checked_like_an_answer() -> None:
    with pytest.raises(msgspec.ValidationError, match="timezone"):
        checked(_rollout(updated_at=datetime(2026, 1, 1)))
    with pytest.raises(msgspec.ValidationError, match=">= 0"):
        checked(_rollout(current_step=-1))
    assert checked(_rollout(current_step=1)) == _rollout(current_step=1)


def test_an_unreadable_item_names_its_nested_field_and_the_rest_are_read() -> None:
    good = msgspec.json.encode(_rollout())
    bad = good.replace(b'"steps":[]', b'"steps":[{"weight":10},{"pause":true},{"weight":-1}]').replace(
        b'"id":"r"', b'"id":"bad"')
    rows = decode_items([msgspec.Raw(good), msgspec.Raw(bad), msgspec.Raw(b'"not an object"')],
                        msgspec.json.Decoder(Rollout), lambda i, raw, why: unreadable_rollout(raw, i, why))
    assert [r.id for r in rows] == ["r", "bad", "#2"]
    assert rows[1].version == "? steps.2.weight" and rows[1].message == "unreadable: steps.2.weight: Expected int >= 0"
    assert rows[2].message == "unreadable: body: Expected object, got str"
