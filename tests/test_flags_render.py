"""How flags read on screen: the table's indicator, the detail panel's lines, the events panel's changes and the
kill switch's confirmation — plain text a person reads, safe from markup in names that come from the flag server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monotui.models import Flag, FlagChange, FlagChangeKind
from monotui.render.flags import change_line, flag_line, flag_lines, indicator, plan_rows, state_words

NOW = datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)


def change(kind: FlagChangeKind = FlagChangeKind.ENABLED, minutes: float = 2, actor: str = "alice",
           summary: str = "", flag: str = "cart-api.new-checkout") -> FlagChange:
    return FlagChange(id=7, time=NOW - timedelta(minutes=minutes), kind=kind, flag=flag, project="default",
                      environment="production", service="cart-api", actor=actor, summary=summary)


def flag(**kwargs: object) -> Flag:
    values: dict[str, object] = {"name": "cart-api.new-checkout", "project": "default", "environment": "production",
                                 "enabled": True, "service": "cart-api", "strategies": ["rollout 25%"], "rollout": 25}
    values.update(kwargs)
    return Flag(**values)  # type: ignore[arg-type]


def test_the_indicator_says_a_flag_changed_and_how_long_ago() -> None:
    assert indicator(change(minutes=2), NOW).plain == "⚑ 2m"
    assert indicator(change(minutes=0.2), NOW).plain == "⚑ <1m"
    assert indicator(None, NOW).plain == ""
    # readable without colour: the mark is a character, and the style carries an attribute too
    assert "bold" in str(indicator(change(), NOW).style)


def test_state_words_name_on_off_and_how_much() -> None:
    assert state_words(flag()) == "on 25%"
    assert state_words(flag(enabled=False)) == "off"
    assert state_words(flag(rollout=None, strategies=["rollout 50% if 2 constraints"])) == \
        "on (rollout 50% if 2 constraints)"
    assert state_words(flag(rollout=None, strategies=[])) == "on"


def test_a_flag_line_has_name_state_last_change_and_staleness() -> None:
    line = flag_line(flag(last_change=change(actor="bob", minutes=3), potentially_stale=True), NOW).plain
    assert "cart-api.new-checkout" in line and "on 25%" in line
    assert "enabled by bob 3m ago" in line and "potentially stale" in line
    assert "rollout 25%" not in line.replace("on 25%", "")  # the one strategy is the percentage: said once
    several = flag_line(flag(strategies=["rollout 25%", "rollout 50% if 2 constraints"]), NOW).plain
    assert "rollout 25%, rollout 50% if 2 constraints" in several
    off = flag_line(flag(enabled=False, stale=True), NOW).plain
    assert "OFF" in off and "no change seen" in off and "stale" in off


def test_flags_are_listed_most_recently_changed_first() -> None:
    old = flag(name="old", last_change=change(minutes=60, flag="old"))
    new = flag(name="new", last_change=change(minutes=1, flag="new"))
    never = flag(name="never")
    assert [line.plain.split()[1] for line in flag_lines([old, never, new], NOW)] == ["new", "old", "never"]


def test_a_change_line_says_what_changed_and_who() -> None:
    line = change_line(change(FlagChangeKind.STRATEGY_CHANGED, summary="rollout 25% → 50%", actor="carol")).plain
    assert "cart-api" in line and "flag cart-api.new-checkout" in line
    assert "strategy changed: rollout 25% → 50%" in line and "by carol" in line
    assert "disabled" in change_line(change(FlagChangeKind.DISABLED)).plain


def test_names_from_the_flag_server_are_never_markup() -> None:
    hostile = change(actor="[bold red]mallory[/]", flag="[ERROR]x\x1b[2J")
    line = change_line(hostile).plain
    assert "[bold red]mallory[/]" in line and "[ERROR]x␛[2J" in line


def test_the_confirmation_names_flag_project_environment_state_and_last_change() -> None:
    rows = dict((label, text.plain) for label, text in
                plan_rows(flag(last_change=change(actor="dave")), enabled=False, source="flags"))
    assert rows["Flag"] == "cart-api.new-checkout"
    assert rows["Project"] == "default · source flags"
    assert rows["Where"].startswith("production")
    assert rows["State"] == "on 25% → OFF"
    assert "by dave" in rows["Changed"]


def test_a_flag_that_could_not_be_read_says_so_instead_of_a_state() -> None:
    unreadable = flag(unreadable="createdAt without a time zone")
    assert state_words(unreadable) == "unknown (unreadable)"
    line = flag_line(unreadable, NOW).plain
    assert "? unknown (unreadable: createdAt without a time zone)" in line and "on 25%" not in line


def test_rollout_and_flag_suspects_show_side_by_side_newest_first() -> None:
    """"What changed?": the same evidence for both; the newest names the suspect key, the other its own key."""
    from monotui.engine.attention import Attention
    from monotui.engine.flag_state import FlagSuspect
    from monotui.engine.state import RolloutView
    from monotui.engine.suspects import Evidence
    from monotui.models import Phase, Rollout, Strategy
    from monotui.render.detail import SuspectKeys, suspect_lines

    breach = NOW - timedelta(minutes=1)
    rollout = Rollout(id="cart-api", service="cart-api", environment="eu", strategy=Strategy.CANARY,
                      phase=Phase.PROGRESSING, revision=4, version="v4", started_at=NOW - timedelta(minutes=9))
    deploy = Evidence("error ratio", 0.01, 0.3, NOW - timedelta(minutes=9), breach)
    flip = FlagSuspect(flag(), "flags", Evidence("error ratio", 0.012, 0.3, NOW - timedelta(minutes=3), breach,
                                                 "[red]carol[/]"))
    view = RolloutView("prod", rollout, None, Attention.SUSPECT, False, False, deploy, 0, (flip,))
    first, second = (line.plain for line in suspect_lines(view, SuspectKeys("s", "b", "x")))
    assert first.startswith("⚠ SUSPECT FLAG cart-api.new-checkout error ratio 1.20% before the flip → 30.00% now;")
    assert "by [red]carol[/], breached" in first and first.endswith("— s turns it off")
    assert second.startswith("⚠ SUSPECT error ratio 1.00% before it started → 30.00% now;")
    assert second.endswith("— b rolls it back")
    read_only = RolloutView("prod", rollout, None, Attention.SUSPECT, False, True, deploy, 0, (flip,))
    assert all(line.plain.endswith("— read-only: actions are off")
               for line in suspect_lines(read_only, SuspectKeys()))
