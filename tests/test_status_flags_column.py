"""`monotui status` fills the Flags column as the TUI does: ⚑ and how long ago, when a flag of the service
changed lately (it stayed empty)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from monotui.cli import main
from monotui.simulator.server import SimulatorServer
from tests.conftest import ACTOR, make_world
from tests.flag_servers import TOKEN
from tests.unleash_admin import UnleashAdmin


def test_status_shows_the_flag_mark_of_a_service_whose_flag_just_changed(
        tmp_path: Path, audit_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    world = make_world(services=3, flag_share=0)
    with SimulatorServer(world, tick_interval=None, token=TOKEN) as sim:
        admin = UnleashAdmin(sim.url, TOKEN)
        service, other = sorted(world.services)[:2]
        flag = f"t{uuid.uuid4().hex[:8]}-checkout"
        admin.create_flag(flag, service=service, rollout=25)
        admin.toggle(flag, True)
        admin.close()
        monkeypatch.setenv("MONOTUI_TEST_TOKEN", TOKEN)
        config = tmp_path / "monotui.toml"
        config.write_text(
            f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n'
            f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{sim.url}"\ntoken_env = "MONOTUI_TEST_TOKEN"\n'
            f'[[sources]]\nname = "flags"\nkind = "unleash"\nurl = "{sim.url}"\ntoken_env = "MONOTUI_TEST_TOKEN"\n')
        assert main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("Service") or " Service " in line)
    assert "Flags" in header, out
    mine = next(line for line in out.splitlines() if service in line.split())
    theirs = next(line for line in out.splitlines() if other in line.split())
    assert "⚑" in mine and "⚑" not in theirs, out
