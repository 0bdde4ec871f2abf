"""`monotui history` against a revisions answer with thousands of images and megabyte strings prints bounded, inert
lines (20 images named, the rest counted); `--json` keeps every image, each cleaned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monotui.cli import main
from monotui.simulator.server import SimulatorServer

from .conftest import ACTOR
from .revisions_server import RevisionsServer, json_body
from .test_revision_history import SERVICE, staged_world


def test_history_prints_a_huge_hostile_revision_bounded_and_inert(tmp_path: Path, audit_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    huge = "z" * 500_000
    body = json.dumps({"rollout_id": SERVICE, "revisions": [
        {"revision": 14, "version": "v14", "ended": "live", "stable": True, "current": True},
        {"revision": 12, "version": "[red]v12\x1b[2J" + huge, "ended": "promoted", "author": "\u202emallory",
         "commit_message": huge, "end_reason": "\x1b]0;t\x07" + huge, "ended_by": huge,
         "images": [f"img:{i}\x1b[31m" for i in range(5_000)]},
    ]}).encode()
    with SimulatorServer(staged_world(), tick_interval=None) as sim, RevisionsServer(sim.url, json_body(body)) as srv:
        config = tmp_path / "monotui.toml"
        config.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n'
                          f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{srv.url}"\ntimeout = 5\n')
        assert main(["history", SERVICE, "--config", str(config)]) == 0
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\u202e" not in out and "[red]v12" in out
        assert max(len(line) for line in out.splitlines()) < 5_000
        assert "img:19" in out and "img:20," not in out and "and 4980 more" in out
        assert main(["history", SERVICE, "--json", "--config", str(config)]) == 0
        data = json.loads(capsys.readouterr().out)
    [r12] = [r for r in data["revisions"] if r["revision"] == 12]
    assert len(r12["images"]) == 5_000 and not any("\x1b" in i for i in r12["images"])
