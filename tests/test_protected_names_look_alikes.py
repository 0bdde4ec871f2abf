"""A protected service name stays protected under every look-alike: invisible and default-ignorable characters,
compatibility forms, confusable letters and hyphens, another case. Invisible characters are shown as `<U+XXXX>`."""

from __future__ import annotations

import pytest

from monotui.config import build_settings
from monotui.names import visible


@pytest.mark.parametrize("impostor", [
    "payments-api\U00016FE4",  # KHITAN SMALL SCRIPT FILLER: Mn, Default_Ignorable, zero cells wide
    "payments-api\U000E0080",  # unassigned in the tag block: Default_Ignorable, zero cells wide
    "payments-api\u2065",  # unassigned, Default_Ignorable, zero cells wide
])
def test_an_invisible_default_ignorable_character_does_not_unprotect_a_name(impostor: str) -> None:
    """Default_Ignorable code points that are neither Cf nor Cc draw nothing (rich counts the impostor as 12 cells,
    like `payments-api`): the impostor is protected and its invisible character shown."""
    settings = build_settings({"protected_services": ["payments-api"]})
    assert settings.is_protected(impostor), "a look-alike with an invisible character must be protected"
    assert "<U+" in visible(impostor), "and its invisible character must be shown"


@pytest.mark.parametrize("impostor", [
    "payments-api\u200b", "payments-api\u2060", "\ufeffpayments-api", "payments\u00ad-api", "payments-api\u115f",
    "payments-api\U000E0001", "ｐａｙｍｅｎｔｓ-api", "payments-api\u034f", "payments-api\ufe0f", " payments-api\u3000",
    "payments-api\u202e", "payments-api\u180e",
])
def test_covered_invisible_and_compatibility_characters_stay_protected(impostor: str) -> None:
    settings = build_settings({"protected_services": ["payments-api"]})
    assert settings.is_protected(impostor)
    if " " in impostor or "\u3000" in impostor or "ｐ" in impostor:
        return  # spaces and full-width letters are seen; only invisible characters are marked
    assert "<U+" in visible(impostor)


@pytest.mark.parametrize("impostor", [
    "payments\u2011api",  # NON-BREAKING HYPHEN: NFKC keeps it, looks exactly like '-'
    "payments\u2010api",  # HYPHEN
    "p\u0430yments-api",  # CYRILLIC SMALL LETTER A
])
def test_a_confusable_look_alike_does_not_unprotect_a_name(impostor: str) -> None:
    settings = build_settings({"protected_services": ["payments-api"]})
    assert settings.is_protected(impostor), f"{impostor!r} looks like payments-api but needs no typed name"


def test_a_protected_entry_written_in_another_case_protects_nothing() -> None:
    """`protected_services = ["Payments-API"]` protects the real payments-api: names are compared case-folded."""
    settings = build_settings({"protected_services": ["Payments-API"]})
    assert settings.is_protected("payments-api")
