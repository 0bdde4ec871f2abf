"""Who owns a service: the deploy API's optional `owner` (served by the simulator, in its OpenAPI), the config's
`[services."name"]` table (it wins, field by field), `Engine.owner`, `status --json` (a stable `owner` object per
rollout), the CLI's confirmation prompt, and the `/team:` filter's predicate. Strings from servers are cleaned."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from monotui.cli import main
from monotui.config import ConfigError, Settings, load_settings
from monotui.engine.core import Engine
from monotui.models import Owner, Strategy
from monotui.owners import merge, owner_line
from monotui.render.row_filter import parse
from monotui.simulator.owners import owner_for
from monotui.simulator.server import SimulatorServer

from .conftest import ACTOR, make_world


def write_config(tmp_path: Path, url: str, audit_path: Path, extra: str = "") -> str:
    path = tmp_path / "monotui.toml"
    path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n'
                    f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{url}"\ntimeout = 2\n{extra}\n')
    return str(path)


PAYMENTS = '''
[services."cart-api"]
team = "payments-team"
runbook = "https://runbooks.example.com/cart"
'''


def test_the_simulator_serves_an_owner_on_every_rollout_and_documents_it(sim: SimulatorServer) -> None:
    rollouts = httpx.get(f"{sim.url}/v1/rollouts", timeout=10).json()["rollouts"]
    assert rollouts
    for item in rollouts:
        owner = item["owner"]
        assert owner["team"] and owner["on_call"] and owner["runbook"].startswith("https://")
        assert owner == {"team": owner_for(item["service"]).team, "on_call": owner_for(item["service"]).on_call,
                         "runbook": owner_for(item["service"]).runbook,
                         "dashboard": owner_for(item["service"]).dashboard}
    spec = httpx.get(f"{sim.url}/openapi.json", timeout=10).json()
    schemas = spec["components"]["schemas"]
    assert set(schemas["Owner"]["properties"]) == {"team", "on_call", "runbook", "dashboard"}
    assert not schemas["Owner"].get("required")  # every field optional
    owner_field = schemas["Rollout"]["properties"]["owner"]
    assert "owner" not in schemas["Rollout"].get("required", [])
    assert {"$ref": "#/components/schemas/Owner"} in owner_field["anyOf"]


async def test_the_config_wins_field_by_field_over_the_deploy_api(
        sim: SimulatorServer, make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(sim.url, services={"cart-api": {"team": "payments-team",
                                                             "runbook": "https://runbooks.example.com/cart"}})
    async with Engine(settings) as engine:
        await engine.refresh_once()
        owner = engine.owner("cart-api")
        served = owner_for("cart-api")
        assert owner == Owner(team="payments-team", on_call=served.on_call,  # on call: as the API says
                              runbook="https://runbooks.example.com/cart", dashboard=served.dashboard)
        [view] = [v for v in engine.state.views() if v.rollout.service == "cart-api"]
        assert view.owner == owner  # the row shows the same owner as the accessor
        assert engine.owner("no-such-service") is None


def test_a_flag_team_fills_only_what_nobody_else_says() -> None:
    said = Owner(on_call="alice")
    assert merge(None, (said,), ("flags-team",)) == Owner(team="flags-team", on_call="alice")
    assert merge(None, (Owner(team="api-team"),), ("flags-team",)) == Owner(team="api-team")
    assert merge(None, (), ()) is None
    # a server's text is cleaned: no terminal escape, no markup taken as such
    hostile = merge(None, (Owner(team="pay\x1b]8;;http://x\x07ments [b]team[/b]", on_call="bob\nmallory"),))
    assert hostile is not None and "\x1b" not in hostile.team and "\n" not in hostile.on_call
    assert "[b]team[/b]" in hostile.team


def test_a_bad_services_entry_names_the_file_and_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[services."cart-api"]\nteam = "payments-team"\nrunbook = "ftp://runbooks/cart"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(path) in str(caught.value) and "services.cart-api.runbook" in str(caught.value)
    path.write_text('[services."cart-api"]\npager = "alice"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert "services.cart-api.pager" in str(caught.value)
    assert main(["status", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "services.cart-api.pager" in err


def test_status_json_has_a_stable_owner_per_rollout(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--json", "--config", write_config(tmp_path, sim.url, audit_path, PAYMENTS)]) == 0
    data = json.loads(capsys.readouterr().out)
    by_service = {r["service"]: r for r in data["rollouts"]}
    assert by_service["cart-api"]["owner"] == {
        "team": "payments-team", "on_call": owner_for("cart-api").on_call,
        "runbook": "https://runbooks.example.com/cart", "dashboard": owner_for("cart-api").dashboard}
    for item in data["rollouts"]:
        assert set(item["owner"]) == {"team", "on_call", "runbook", "dashboard"}


def test_status_json_says_null_for_an_unknown_owner(tmp_path: Path, audit_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("monotui.simulator.world.owner_for", lambda service: None)  # a deploy API that says nothing
    with SimulatorServer(make_world(), tick_interval=None) as sim:
        assert main(["status", "--json", "--config", write_config(tmp_path, sim.url, audit_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rollouts"]
    assert all(r["owner"] == {"team": None, "on_call": None, "runbook": None, "dashboard": None}
               for r in data["rollouts"])


def test_the_cli_prompt_names_the_owner(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    code = main(["pause", "cart-api", "--yes", "--reason", "spike", "--config",
                 write_config(tmp_path, sim.url, audit_path, PAYMENTS)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"owner: payments-team, on call: {owner_for('cart-api').on_call}" in out
    assert out.index("owner: payments-team") < out.index("done")


async def test_the_team_filter_finds_a_service_by_its_owner(
        sim: SimulatorServer, make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(sim.url, services={"cart-api": {"team": "Ledger-Crew"}})
    async with Engine(settings) as engine:
        await engine.refresh_once()
        views = engine.state.views()
        assert {v.rollout.service for v in views if parse("team:ledger").matches(v)} == {"cart-api"}  # the config's
        assert {v.rollout.service for v in views if parse("team:Ledger").matches(v)} == {"cart-api"}
        # the deploy API's team: payments-api belongs to payments-team
        assert {v.rollout.service for v in views if parse("team:payments").matches(v)} == {"payments-api"}
        # "team" alone is an ordinary search, not a team filter
        assert not parse("team").terms[0].scope
        assert owner_line(engine.owner("cart-api")) == f"owner: Ledger-Crew, on call: {owner_for('cart-api').on_call}"
