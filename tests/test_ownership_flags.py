"""A flag's `team` (or `owner`) tag names the team owning the flag's service, against the simulator's Unleash Admin
API and a real Unleash: the row and `Engine.owner` show it when neither the deploy engine nor the config says; a tag
added later shows at the next poll; the config still wins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from monotui.engine import Engine
from tests.flag_servers import TOKEN, Setup, flag_sim, flag_world, setup_fixture  # noqa: F401  (fixtures)


def settings_for(setup: Setup, make_settings: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
                 **overrides: Any) -> Any:
    monkeypatch.setenv("MONOTUI_TEST_TOKEN", TOKEN)
    monkeypatch.setenv("MONOTUI_TEST_UNLEASH_TOKEN", setup.token)
    # a deploy API that says nothing of owners: only the flag's tag does
    monkeypatch.setattr("monotui.simulator.world.owner_for", lambda service: None)
    return make_settings(
        {"name": "prod", "kind": "http", "url": setup.sim.url, "token_env": "MONOTUI_TEST_TOKEN", "timeout": 30},
        {"name": "flags", "kind": "unleash", "url": setup.flags_url, "token_env": "MONOTUI_TEST_UNLEASH_TOKEN",
         "timeout": 30}, **overrides)


async def refresh(engine: Engine) -> None:
    updates = await engine.refresh_once()
    assert all(u.ok for u in updates), [u.error for u in updates]


def row_team(engine: Engine, service: str) -> str | None:
    [view] = [v for v in engine.state.views() if v.rollout.service == service]
    return view.owner.team if view.owner is not None else None


async def test_a_team_tag_names_the_owner_and_a_later_tag_shows_at_the_next_poll(
        setup: Setup, make_settings: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    async with Engine(settings_for(setup, make_settings, monkeypatch)) as engine:
        await refresh(engine)
        assert setup.flag in [f.name for _, f in engine.state.flags_of(setup.service)]
        before = engine.owner(setup.service)
        assert before is None or not before.team.startswith("crew-")  # no tag of this test's yet
        setup.admin.ensure_tag_type("team")
        team = f"crew-{setup.flag[:9]}"
        setup.admin._send("POST", f"/features/{setup.flag}/tags", {"type": "team", "value": team})
        await refresh(engine)
        flag = engine.state.flag("flags", setup.flag)
        assert flag is not None and flag.team == team
        owner = engine.owner(setup.service)
        assert owner is not None and owner.team == team
        assert row_team(engine, setup.service) == team  # the row was rebuilt with its new owner


async def test_the_config_wins_over_a_team_tag(setup: Setup, make_settings: Callable[..., Any],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    setup.admin.ensure_tag_type("owner")
    setup.admin._send("POST", f"/features/{setup.flag}/tags", {"type": "owner", "value": "tagged-team"})
    settings = settings_for(setup, make_settings, monkeypatch,
                            services={setup.service: {"team": "configured-team"}})
    async with Engine(settings) as engine:
        await refresh(engine)
        flag = engine.state.flag("flags", setup.flag)
        assert flag is not None and flag.team == "tagged-team"  # the tag type `owner` is read too
        owner = engine.owner(setup.service)
        assert owner is not None and owner.team == "configured-team"
        assert row_team(engine, setup.service) == "configured-team"
