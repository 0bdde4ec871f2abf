"""Names compared as a person reads them: a look-alike of a protected service is protected too, and shown with
its invisible characters."""

from __future__ import annotations

import pytest

from monotui.config import build_settings
from monotui.names import canonical, visible

LOOK_ALIKES = [
    "payments-api\u200b",  # zero-width space
    "pay\u200dments-api",  # zero-width joiner
    "\ufeffpayments-api",  # byte-order mark
    "payments\u2060-api",  # word joiner
    "\u202epayments-api",  # right-to-left override
    "payments-api\u00ad",  # soft hyphen
    "ｐａｙｍｅｎｔｓ-api",  # full-width letters
    "payments-api\ufe0f",  # variation selector
    "payments-api ",
]


@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_look_alikes_have_the_same_canonical_form(name: str) -> None:
    assert canonical(name) == "payments-api"


@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_a_look_alike_of_a_protected_service_is_protected(name: str) -> None:
    settings = build_settings({"protected_services": ["payments-api"]})
    assert settings.is_protected(name)
    assert build_settings({"protected_services": [name]}).is_protected("payments-api")


def test_other_names_stay_apart() -> None:
    settings = build_settings({"protected_services": ["payments-api"]})
    assert not settings.is_protected("payments-api2")
    assert not settings.is_protected("payments")
    assert canonical("cart-api") != canonical("carts-api")


def test_visible_shows_each_invisible_character() -> None:
    assert visible("payments-api\u200b") == "payments-api<U+200B>"
    assert visible("\u202epay\u2066") == "<U+202E>pay<U+2066>"
    assert visible("cart-api") == "cart-api"
    assert visible("ｐａｙ") == "ｐａｙ"  # visible already: shown as it is
