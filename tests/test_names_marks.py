"""A name followed by a combining mark (or written with a precomposed accented letter) looks like the name it
imitates: protection and typed confirmations compare it as that name, for services and flags alike."""

from __future__ import annotations

import pytest

from monotui.config import build_settings
from monotui.names import canonical

MARKED = [
    "kill-payments\u0307",  # combining dot above after the last letter
    "kill-pa\u0301yments",  # combining acute accent inside
    "kill-\u1e57ayments",  # ṗ: precomposed p with dot above
    "kill-payments\u0307\u0323\u20dd",  # several marks, an enclosing one among them
    "KILL-PAYMENTS\u0307",
]


@pytest.mark.parametrize("name", MARKED)
def test_a_flag_name_with_a_combining_mark_is_protected(name: str) -> None:
    settings = build_settings({"protected_flags": ["kill-payments"]})
    assert settings.is_protected_flag(name)
    assert build_settings({"protected_flags": [name]}).is_protected_flag("kill-payments")


@pytest.mark.parametrize("name", ["payments-api\u0307", "pa\u0308yments-api", "\u1e57ayments-api"])
def test_a_service_name_with_a_combining_mark_is_protected(name: str) -> None:
    settings = build_settings({"protected_services": ["payments-api"]})
    assert settings.is_protected(name)
    assert canonical(name) == "payments-api"


def test_names_that_differ_by_more_than_marks_stay_apart() -> None:
    settings = build_settings({"protected_flags": ["kill-payments"], "protected_services": ["payments-api"]})
    assert not settings.is_protected_flag("kill-payment")
    assert not settings.is_protected("payments-apis\u0307")
    assert canonical("카트-api") == "카트-api"  # Hangul syllables come back composed
