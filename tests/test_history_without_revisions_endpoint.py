"""A deploy API without `GET /v1/rollouts/{id}/revisions` (it is optional, docs/deploy-api.md) still works: its
rollouts are shown, and `monotui history` says the source cannot list revisions (exit 1) instead of failing."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from monotui.cli import main
from monotui.simulator.server import SimulatorServer

from .conftest import ACTOR, make_world
from .hostile import HostileServer, json_answer


def test_history_on_a_server_without_the_revisions_endpoint_says_it_cannot_list_them(
        tmp_path: Path, audit_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with SimulatorServer(make_world(names=("checkout-api",)), tick_interval=None) as sim:
        rollouts = httpx.get(f"{sim.url}/v1/rollouts").content
    routes = {"/v1/rollouts": json_answer(rollouts), "/v1/health": json_answer(b'{"services": []}'),
              "/v1/events": json_answer(b'{"cursor": 0, "events": []}')}
    with HostileServer(routes) as server:  # every other path, the revisions' too: 404
        config = tmp_path / "monotui.toml"
        config.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n'
                          f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{server.url}"\ntimeout = 2\n')
        assert main(["status", "--config", str(config)]) == 0
        assert "checkout-api" in capsys.readouterr().out
        assert main(["history", "checkout-api", "--config", str(config)]) == 1
        said = capsys.readouterr()
        assert "checkout-api: cannot list revisions" in said.err + said.out
        assert any(a.path == "/v1/rollouts/checkout-api/revisions" for a in server.asked)
