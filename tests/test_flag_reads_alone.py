"""One flag whose own read fails or hangs is that flag's problem alone: it is `unreadable` with
the reason, its read has its own deadline, and every other flag (and its kill switch) stays."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from starlette.responses import JSONResponse, Response

from monotui.providers.unleash import UnleashProvider

from .flag_hostile import FlagServer, feature


@pytest.fixture
def server() -> Iterator[FlagServer]:
    with FlagServer() as server:
        for name in ("checkout-v2", "search-boost", "cart-fast", "pay-retry"):
            server.features[name] = feature(name)
        yield server


def _by_name(provider: UnleashProvider) -> dict[str, object]:
    return {f.name: f for f in provider.flags}


@pytest.mark.parametrize("answer", [
    lambda: JSONResponse({"message": "internal error"}, status_code=500),
    lambda: Response(b"<html>bad gateway</html>", status_code=502),
    lambda: JSONResponse({"message": "You need permission READ"}, status_code=403),
], ids=["500", "502", "403"])
async def test_a_flag_whose_own_read_fails_is_unreadable_and_the_others_stay(
        server: FlagServer, answer: object) -> None:
    server.own_answer["search-boost"] = answer  # type: ignore[assignment]
    provider = UnleashProvider(server.config())
    try:
        await provider.poll()
        flags = {f.name: f for f in provider.flags}
        assert set(flags) == {"checkout-v2", "search-boost", "cart-fast", "pay-retry"}
        bad = flags["search-boost"]
        assert "HTTP 5" in bad.unreadable or "HTTP 403" in bad.unreadable
        for name in ("checkout-v2", "cart-fast", "pay-retry"):
            assert not flags[name].unreadable and flags[name].strategies == ["rollout 25%"]
        # the kill switch of another flag still works
        after = await provider.set_flag(flags["cart-fast"], False)
        assert after.enabled is False and server.toggles == ["cart-fast/off"]
        # the flag answers again: readable at the next poll
        del server.own_answer["search-boost"]
        await provider.poll()
        assert not {f.name: f for f in provider.flags}["search-boost"].unreadable
    finally:
        await provider.aclose()


async def test_a_flag_whose_own_read_hangs_has_its_own_deadline(server: FlagServer) -> None:
    server.own_answer["search-boost"] = "hang"
    server.own_answer["pay-retry"] = "hang"
    provider = UnleashProvider(server.config(timeout=2.0))
    try:
        t0 = time.monotonic()
        await provider.poll()
        took = time.monotonic() - t0
        flags = {f.name: f for f in provider.flags}
        assert len(flags) == 4
        for name in ("search-boost", "pay-retry"):
            assert "did not come within 1s" in flags[name].unreadable
        for name in ("checkout-v2", "cart-fast"):
            assert not flags[name].unreadable and flags[name].strategies == ["rollout 25%"]
        assert took < 2 * 2.0 + 1, f"the poll outlived the engine's bound on it ({took:.1f} s)"
    finally:
        await provider.aclose()


async def test_many_hanging_flags_still_leave_a_poll_within_its_bound(server: FlagServer) -> None:
    for i in range(12):
        server.features[f"slow-{i}"] = feature(f"slow-{i}")
        server.own_answer[f"slow-{i}"] = "hang"
    provider = UnleashProvider(server.config(timeout=1.0))
    try:
        t0 = time.monotonic()
        await provider.poll()
        took = time.monotonic() - t0
        flags = {f.name: f for f in provider.flags}
        assert len(flags) == 16 and all(flags[f"slow-{i}"].unreadable for i in range(12))
        assert not flags["checkout-v2"].unreadable or "not read within" in flags["checkout-v2"].unreadable
        assert took < 2 * 1.0 + 1, f"the poll outlived the engine's bound on it ({took:.1f} s)"
    finally:
        await provider.aclose()
