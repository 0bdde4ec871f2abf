"""An answer is about the confirmed target, in every field that identifies it, or the outcome is unknown.

A server (or something in front of it) that acts on another service and answers about it under the same id must
not make monotui print "Pause cart-api: done": the service, the environment and the id of the answer are all
compared with what was confirmed, and the outcome says what was seen instead. Real loopback servers: the
simulator, behind a proxy that replaces the answer to the mutating request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from monotui.action_kinds import ActionKind
from monotui.cli import main
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.models import Phase, Strategy, as_json
from monotui.simulator.server import SimulatorServer

from .conftest import ACTOR
from .flag_servers import TOKEN, flag_sim, flag_world  # noqa: F401  (fixtures)
from .hostile_proxy import HostileProxy
from .unleash_admin import UnleashAdmin


def canary(sim: SimulatorServer, service: str = "cart-api") -> None:
    sim.world.deploy(service, strategy=Strategy.CANARY)
    for _ in range(200):
        sim.world.step()
        if sim.world.rollout(service).current_step == 1:
            return
    raise AssertionError("could not stage the canary")


def source(url: str) -> dict[str, object]:
    return {"name": "prod", "kind": "http", "url": url, "poll_interval": 60.0, "timeout": 2.0}


def answer_about(sim: SimulatorServer, **fields: str) -> bytes:
    """cart-api's rollout as the server has it, paused, with `fields` changed: the same id, another target."""
    rollout = msgspec.structs.replace(sim.world.rollout("cart-api"), phase=Phase.PAUSED, **fields)
    return json.dumps({"rollout": as_json(rollout)}).encode()


@pytest.mark.parametrize("fields", [{"service": "search-api"}, {"environment": "eu-west-9"},
                                    {"service": "search-api", "environment": "eu-west-9"}])
async def test_an_answer_about_another_target_under_the_same_id_is_unknown(
        sim: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path, fields: dict[str, str]) -> None:
    canary(sim)
    with HostileProxy(sim.url, "other", replacement=answer_about(sim, **fields)) as proxy:
        async with engine_for(source(proxy.url)) as engine:
            await engine.refresh_once()
            rollout = engine.state.rollout("prod", "cart-api")
            assert rollout is not None
            outcome = await engine.execute(engine.plan("prod", rollout, ActionKind.PAUSE), confirmed_by="dialog")
    assert outcome.outcome == "unknown", outcome.message()
    message = outcome.message()
    assert "done" not in message.split("—")[0], message
    for value in fields.values():
        assert value in (outcome.error or ""), "the outcome says what was seen instead"
    assert [r["outcome"] for r in AuditLog(audit_path).read()] == ["intent", "unknown"]


def test_the_cli_never_prints_done_for_an_answer_about_another_service(
        sim: SimulatorServer, audit_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    canary(sim)
    with HostileProxy(sim.url, "other", replacement=answer_about(sim, service="search-api")) as proxy:
        path = tmp_path / "monotui.toml"
        path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n'
                        f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{proxy.url}"\ntimeout = 2\n')
        code = main(["pause", "cart-api", "--yes", "--config", str(path)])
    captured = capsys.readouterr()
    assert code == 1
    assert "Pause cart-api (prod): done" not in captured.out + captured.err
    assert "outcome unknown" in captured.err and "search-api" in captured.err


async def test_an_answer_about_the_confirmed_target_is_done(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    """The check compares, it does not refuse: the honest answer is done."""
    canary(sim)
    with HostileProxy(sim.url, "pass") as proxy:
        async with engine_for(source(proxy.url)) as engine:
            await engine.refresh_once()
            rollout = engine.state.rollout("prod", "cart-api")
            assert rollout is not None
            outcome = await engine.execute(engine.plan("prod", rollout, ActionKind.PAUSE), confirmed_by="dialog")
    assert outcome.outcome == "done", outcome.message()


# ---- kill switches: the flag read back after the toggle is the flag confirmed ------------------------------------


class ReadsAnotherFlagAfterActing(HostileProxy):
    """Forwards everything; once a toggle went through, a read of `flag` is answered with `other`'s feature."""

    def __init__(self, upstream: str, flag: str, other: str) -> None:
        super().__init__(upstream)
        self.flag, self.other = flag, other

    async def _answer(self, method: str, target: str, headers: list[Any], body: bytes,
                      writer: asyncio.StreamWriter) -> bool:
        if self.mutations and method == "GET" and target.endswith(f"/features/{self.flag}"):
            target = target.removesuffix(self.flag) + self.other
        return await super()._answer(method, target, headers, body, writer)


async def test_a_kill_switch_answered_about_another_flag_is_unknown(
        flag_sim: SimulatorServer, flag_world: Any,  # noqa: F811  (the fixtures imported above)
        make_settings: Callable[..., Any], audit_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = UnleashAdmin(flag_sim.url, TOKEN)
    service = sorted(flag_world.services)[0]
    admin.create_flag("new-checkout", service=service, rollout=25)
    admin.toggle("new-checkout", True)
    admin.create_flag("old-search", service=service, rollout=25)  # off: what "off" would read as
    admin.close()
    monkeypatch.setenv("MONOTUI_TEST_UNLEASH_TOKEN", TOKEN)
    with ReadsAnotherFlagAfterActing(flag_sim.url, "new-checkout", "old-search") as proxy:
        settings = make_settings({"name": "flags", "kind": "unleash", "url": proxy.url,
                                  "token_env": "MONOTUI_TEST_UNLEASH_TOKEN", "timeout": 5})
        async with Engine(settings) as engine:
            await engine.refresh_once()
            flag = engine.state.flag("flags", "new-checkout")
            assert flag is not None and flag.enabled
            outcome = await engine.execute_flag(engine.plan_flag("flags", flag, False), "errors up",
                                                confirmed_by="dialog")
            shown = engine.state.flag("flags", "new-checkout")
    assert proxy.mutations, "the toggle was sent"
    assert outcome.outcome == "unknown", outcome.message()
    assert "old-search" in (outcome.error or ""), "the outcome says what was seen instead"
    assert shown is not None and shown.enabled, "another flag's state is not shown as this one's"
    assert [r["outcome"] for r in AuditLog(audit_path).read()] == ["intent", "unknown"]
