"""The path to the first rows: the collector paused at start-up collects start-up's garbage when it comes back,
the flag source waits for every deploy source's first answer, and a token variable does not load
pydantic-settings."""

from __future__ import annotations

import asyncio
import gc
import os
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.responses import Response

from monotui import startup_gc
from monotui.config import Settings
from monotui.engine import core
from monotui.engine.core import Engine
from monotui.engine.polling import FREEZE_AT
from monotui.simulator.server import SimulatorServer
from monotui.ui.app import MonotuiApp

from .conftest import make_world, wait_until
from .hostile import HostileServer
from .test_first_rows_first import flag_requests
from .test_startup_cost import DEPLOY_PATHS, loaded_by
from .ui_helpers import rows_loaded


class _Node:
    """A piece of start-up's garbage: it refers to itself, so only the cycle collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    startup_gc.resume()  # whatever the test did
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
async def test_garbage_from_before_a_big_first_list_is_collected_when_the_collector_comes_back(
        engine_for: Callable[..., Engine]) -> None:
    """The TUI starts with the collector off; a first list of 1,000+ rollouts freezes the heap before the first rows
    are drawn. The garbage start-up left in cycles is not frozen with it for good: `startup_gc.resume` collects it."""
    startup_gc.pause()
    assert startup_gc.paused()
    garbage = _Node()
    alive = weakref.ref(garbage)
    del garbage
    with SimulatorServer(make_world(services=FREEZE_AT, initial_deploys=0), tick_interval=None) as sim:
        async with engine_for(sim.url) as engine:
            [update] = await engine.refresh_once()
            assert update.ok and len(engine.state.sources["prod"].rollouts) == FREEZE_AT
    startup_gc.resume()  # as the app does 0.2 s after its first rows
    assert gc.isenabled()
    assert alive() is None, "start-up's garbage was frozen with the first list: never collected"
    assert gc.get_freeze_count() > FREEZE_AT, "what is alive is frozen, the first list with it"


async def test_in_the_app_the_flags_wait_for_every_deploy_source_not_only_the_first_rows(
        sim: SimulatorServer, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch) -> None:
    """Two deploy sources, one quick (its rows drawn at once), one that takes its time (until the flags are asked for,
    5 s at most): as docs/flags.md says, the flag source's first poll waits for every other source's first answer, in
    the app too — the first rows drawn are not enough."""
    monkeypatch.setattr(core, "FLAGS_AFTER_S", 600.0)  # only the answers and the rows can start the flags here
    asked_before_answer: list[int] = []

    async def slow(request: Any) -> Any:
        deadline = asyncio.get_running_loop().time() + 5.0
        while not flag_requests(sim) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        asked_before_answer.append(flag_requests(sim))
        return Response(b'{"detail": "no"}', status_code=503, media_type="application/json")

    with HostileServer(dict.fromkeys(DEPLOY_PATHS, slow)) as deploys:
        engine = Engine(make_settings(
            {"name": "prod", "kind": "http", "url": sim.url, "poll_interval": 2.0},
            {"name": "slow", "kind": "http", "url": deploys.url, "poll_interval": 2.0, "timeout": 30},
            {"name": "flags", "kind": "unleash", "url": sim.url, "poll_interval": 2.0}))
        app = MonotuiApp(engine)
        async with app.run_test(size=(120, 35)):
            await rows_loaded(app)
            await wait_until(lambda: bool(asked_before_answer), timeout=30, what="the slow source's answer")
            await wait_until(lambda: bool(app.engine.state.all_flags()), timeout=30, what="the flags")
    assert asked_before_answer[0] == 0, "the flags were asked for before the slow deploy source answered"


def test_a_token_variable_is_not_a_setting_and_does_not_load_pydantic_settings(tmp_path: Path) -> None:
    """A token kept in MONOTUI_PROD_EU_TOKEN is a MONOTUI_* variable no setting reads: pydantic-settings is not loaded
    for it (only for a MONOTUI_* setting), the token is read all the same, and a real setting still loads it."""
    config = tmp_path / "monotui.toml"
    config.write_text('actor = "alice@file"\n[[sources]]\nname = "prod-eu"\nkind = "http"\n'
                      'url = "http://127.0.0.1:1"\ntoken_env = "MONOTUI_PROD_EU_TOKEN"\n')
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("MONOTUI_")}
    read = ("from monotui.config import load_settings\n"
            f"s = load_settings({str(config)!r})\n"
            "assert (s.actor, s.sources[0].token()) == tuple(sys.argv[1:]), (s.actor, s.sources[0].token())")
    for env, actor, loaded in (
            ({**clean, "MONOTUI_PROD_EU_TOKEN": "s3cret"}, "alice@file", []),
            ({**clean, "MONOTUI_PROD_EU_TOKEN": "s3cret", "MONOTUI_ACTOR": "bob@env"}, "bob@env",
             ["pydantic_settings"]),
            ({**clean, "MONOTUI_PROD_EU_TOKEN": "s3cret", "monotui_thresholds__p99_ms": "900"}, "alice@file",
             ["pydantic_settings"])):
        statement = f"sys.argv[1:] = [{actor!r}, 's3cret']\n{read}"
        assert loaded_by(statement, ["pydantic_settings"], env) == loaded, env
