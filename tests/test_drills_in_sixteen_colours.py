"""The demo's two drills as an on-call engineer meets them in a 16-colour terminal (TERM=xterm) at 80×24: `monotui
demo` in a real pseudo-terminal, in real time; the bad deploy and then the bad flag flip are each flagged as a
suspect within 60 s of the start and each is fixed with `s`, Tab, Enter. What was done is read back from the audit
log the demo wrote: each fix is one action, done."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from .terminal import Terminal
from .test_sixteen_colours_contrast import ESCAPE, Watched, demo_env

# a real terminal in real time: run alone, after the parallel suite
pytestmark = [pytest.mark.xdist_group("benches"), pytest.mark.terminal]

FIRST_MINUTE = 60.0


def done_actions(audit: Path) -> list[str]:
    if not audit.exists():
        return []
    records = [json.loads(line) for line in audit.read_text().splitlines() if line.strip()]
    return [f"{r['action']} {r.get('service') or r.get('flag') or ''}".strip()
            for r in records if r.get("outcome") == "done"]


def fix_with_three_keys(term: Terminal, watched: Watched, audit: Path, done_before: int) -> str:
    """`s` opens the suspect's confirmation (Cancel has the focus), Tab moves to its action, Enter confirms."""
    term.type("s")
    watched.shows("Cancel")
    watched.settle()
    return confirm(term, watched, audit, done_before)


def confirm(term: Terminal, watched: Watched, audit: Path, done_before: int) -> str:
    dialog = "\n".join(watched.screen.rows())
    term.type("\t")
    term.type("\r")
    deadline = time.monotonic() + 60
    while len(done_actions(audit)) <= done_before:
        if time.monotonic() > deadline:
            raise AssertionError("no action done within 60 s after Enter:\n" + "\n".join(watched.screen.rows()))
        term._drain(0.1)
    return dialog


def test_both_drills_in_three_keys_at_80x24_in_sixteen_colours(tmp_path: Path) -> None:
    env = demo_env(tmp_path)
    audit = tmp_path / "xdg-state" / "monotui" / "audit.log"
    started = time.monotonic()
    with Terminal(["demo"], env, size=(80, 24), term="xterm") as term:
        watched = Watched(term, (80, 24))
        watched.shows("1 suspect", timeout=FIRST_MINUTE)
        first = time.monotonic() - started
        dialog = fix_with_three_keys(term, watched, audit, 0)
        assert "Roll back" in dialog, dialog
        assert [a.split()[0] for a in done_actions(audit)] == ["rollback"], done_actions(audit)

        # the flag flip: the rolled-back release may still be the suspect until the next poll shows it fixed
        while True:
            watched.shows("suspect", timeout=max(1.0, FIRST_MINUTE - (time.monotonic() - started)))
            term.type("s")
            watched.shows("Cancel")
            watched.settle()
            if "flag" in "\n".join(watched.screen.rows()).lower():
                break
            term.type(ESCAPE)
            watched.gone("Cancel")
            term._drain(1.0)
        second = time.monotonic() - started
        dialog = confirm(term, watched, audit, 1)
        assert "flag" in dialog.lower(), dialog
        assert len(done_actions(audit)) == 2, done_actions(audit)
        assert first <= FIRST_MINUTE and second <= FIRST_MINUTE, (first, second)
        term.type("q")
        assert term.wait_exit() == 0
