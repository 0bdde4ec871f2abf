"""One event stamped in the future never blinds the flag feed: the change cursor never moves past
the reader's own clock plus a bounded skew, a future-stamped event is shown as such, and the kill switch on a
flag whose rollout changed acts on the first try (the state shown is the one confirmed, and it is read fresh)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from monotui.providers.unleash import UnleashProvider

from .flag_hostile import FlagServer, ago, feature, now, rollout_event


@pytest.fixture
def server() -> Iterator[FlagServer]:
    with FlagServer() as server:
        server.features["checkout-v2"] = feature("checkout-v2", rollout=25)
        server.features["search-boost"] = feature("search-boost", rollout=50)
        server.events.append(rollout_event(1, "checkout-v2", 10, 25, ago(600)))
        yield server


async def test_a_future_stamped_event_does_not_hide_the_changes_after_it(server: FlagServer) -> None:
    server.events.append(rollout_event(2, "search-boost", 40, 50, now() + timedelta(days=1)))
    provider = UnleashProvider(server.config())
    try:
        await provider.poll()
        # the rollout changes on the server: the change is reported, the flag shows it
        for event_id, (before, after) in enumerate([(25, 75), (75, 100)], start=3):
            server.set_rollout("checkout-v2", after)
            server.events.append(rollout_event(event_id, "checkout-v2", before, after, now()))
            result = await provider.poll()
            assert [c.id for c in result.flag_changes] == [event_id], "a change after the future one was lost"
            assert result.flag_changes[0].summary == f"rollout {before}% → {after}%"
            shown = {f.name: f for f in provider.flags}["checkout-v2"]
            assert shown.strategies == [f"rollout {after}%"]
        # the future event is never reported again
        again = await provider.poll()
        assert again.flag_changes == []
        # the kill switch on the flag as shown (what the person confirms) acts on the first try
        after_off = await provider.set_flag(shown, False)
        assert after_off.enabled is False and server.toggles == ["checkout-v2/off"]
    finally:
        await provider.aclose()


async def test_a_future_stamped_event_is_shown_as_such(server: FlagServer) -> None:
    server.events.append(rollout_event(2, "search-boost", 40, 50, now() + timedelta(days=1)))
    provider = UnleashProvider(server.config())
    try:
        history = await provider.poll()
        [future] = [c for c in history.flag_changes if c.id == 2]
        assert future.summary.startswith("rollout 40% → 50% (stamped ") and future.summary.endswith(" in the future)")
        [past] = [c for c in history.flag_changes if c.id == 1]
        assert past.summary == "rollout 10% → 25%"
    finally:
        await provider.aclose()


async def test_a_server_clock_running_an_hour_ahead_loses_and_repeats_nothing(server: FlagServer) -> None:
    ahead = timedelta(hours=1)
    server.events[0] = rollout_event(1, "checkout-v2", 10, 25, ago(600) + ahead)
    provider = UnleashProvider(server.config())
    try:
        await provider.poll()
        reported: list[int] = []
        for event_id in range(2, 7):
            server.events.append(rollout_event(event_id, "checkout-v2", 25, 25 + event_id, now() + ahead))
            result = await provider.poll()
            reported += [c.id for c in result.flag_changes]
        assert reported == [2, 3, 4, 5, 6]
    finally:
        await provider.aclose()


async def test_the_cursor_never_passes_the_readers_clock_plus_the_skew(server: FlagServer) -> None:
    server.events.append(rollout_event(2, "search-boost", 40, 50, now() + timedelta(days=365)))
    provider = UnleashProvider(server.config())
    try:
        await provider.poll()
        watermark = provider._cursor.watermark
        assert watermark is not None and watermark <= now() + timedelta(seconds=30)
    finally:
        await provider.aclose()


async def test_the_kill_switch_after_a_future_event_acts_on_the_first_try(server: FlagServer) -> None:
    from monotui.providers.unleash import FlagChangedError

    server.events.append(rollout_event(2, "search-boost", 40, 50, now() + timedelta(days=1)))
    provider = UnleashProvider(server.config())
    try:
        await provider.poll()
        server.set_rollout("checkout-v2", 75)
        server.events.append(rollout_event(3, "checkout-v2", 25, 75, now()))
        await provider.poll()
        confirmed = {f.name: f for f in provider.flags}["checkout-v2"]  # what the confirmation shows
        try:
            after = await provider.set_flag(confirmed, False)
        except FlagChangedError as e:
            pytest.fail(f"refused: {e.message}")
        assert after.enabled is False and server.toggles == ["checkout-v2/off"]
    finally:
        await provider.aclose()
