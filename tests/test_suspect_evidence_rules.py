"""The rules a suspect is ranked by (engine/suspects.py), one by one: before the breach first; a share of traffic
that cannot explain the jump below one that can; a figure that stayed flat after a change below the change that
moved it; closeness; and the grace for after-breach changes from the measured lag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monotui.engine.suspects import GRACE, MIN_GRACE, Evidence, flat_after, grace_for, rank_key, ranked

BREACH = datetime(2026, 12, 7, 10, 42, tzinfo=UTC)


def ev(seconds_before: float, share: float | None, before: float = 0.006, now: float = 0.189,
       after: bool = False) -> Evidence:
    return Evidence("error ratio", before, now, BREACH - timedelta(seconds=seconds_before), BREACH, share=share,
                    after_breach=after, threshold=0.05)


def test_a_change_before_the_breach_ranks_above_one_after_it_however_close() -> None:
    assert rank_key(ev(600, 0.25)) < rank_key(ev(-1, 1.0, after=True))


def test_a_share_that_cannot_explain_the_jump_ranks_below_one_that_can() -> None:
    preview, flag_at_1, canary = ev(2, 0.0), ev(3, 0.01), ev(300, 0.25)
    assert preview.explains is False and flag_at_1.explains is False and canary.explains is True
    order = [e for e, _ in ranked([(preview, "preview"), (flag_at_1, "flag"), (canary, "canary")])]
    assert [e.share for e in order] == [0.25, 0.0, 0.01]  # then the closer of the two that cannot
    assert [(e.rank, e.of) for e in order] == [(1, 3), (2, 3), (3, 3)]
    assert ev(5, None).explains is None and rank_key(ev(5, None)) < rank_key(preview)  # unknown: in between


def test_a_figure_that_did_not_rise_since_the_change_is_not_its_doing() -> None:
    assert ev(5, 1.0, before=0.0975, now=0.0975).explains is False


def test_closer_to_the_breach_first_among_equals() -> None:
    assert rank_key(ev(10, 0.5)) < rank_key(ev(100, 0.5))


def test_a_change_after_which_the_figure_stayed_flat_until_another_ranks_below_it() -> None:
    deploy, flip = ev(30, 0.5), ev(2, 0.25)

    def readings(start: datetime, end: datetime) -> list[tuple[float, float]]:
        return [(0.006, 120.0), (0.007, 118.0)]  # read between the deploy and the flip: no rise

    marked = flat_after(deploy, [deploy, flip], readings)
    assert marked.flat_until == flip.changed_at and marked.explains is False
    assert flat_after(flip, [deploy, flip], readings).flat_until is None  # nothing came after the flip
    order = [item for _, item in ranked([(deploy, "deploy"), (flip, "flip")], readings)]
    assert order == ["flip", "deploy"]


def test_the_grace_is_twice_the_measured_lag_within_bounds() -> None:
    assert grace_for(None) == GRACE
    assert grace_for(2.0) == timedelta(seconds=4)
    assert grace_for(0.1) == MIN_GRACE
    assert grace_for(600.0) == GRACE
