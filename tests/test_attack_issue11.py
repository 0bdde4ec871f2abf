"""Attacks on issue 11's path to the first rows (startup_gc, flags after the rows, the footer, Settings without
pydantic-settings, the lazy dialogs): each case failed on the code as merged and passes now."""

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
from monotui.config import ConfigError, Settings, load_settings
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

SOURCE = '[[sources]]\nname = "a"\nkind = "http"\nurl = "http://127.0.0.1:1"\n'


@pytest.mark.parametrize(("line", "key"), [
    ("READ_ONLY = true", "READ_ONLY"),  # pydantic-settings folds case: the file's keys would too
    ('Actor = "mallory"', "Actor"),
    ('_env_prefix = "OTHER_"', "_env_prefix"),  # pydantic-settings' own parameters, taken from the file
    ("_cli_parse_args = true", "_cli_parse_args"),
])
@pytest.mark.parametrize("environment", [False, True], ids=["no MONOTUI_ variable", "a MONOTUI_ setting"])
def test_a_file_key_is_unknown_with_or_without_a_monotui_variable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, key: str, environment: bool) -> None:
    """The same file gives the same verdict whether or not the environment holds a MONOTUI_* setting (then read
    through pydantic-settings): an unknown key, named, never a key read in another case or as a pydantic-settings
    option."""
    for name in [n for n in os.environ if n.upper().startswith("MONOTUI_")]:
        monkeypatch.delenv(name)
    if environment:
        monkeypatch.setenv("MONOTUI_AUDIT_LOG", str(tmp_path / "audit.log"))
    path = tmp_path / "config.toml"
    path.write_text(f"{line}\n{SOURCE}")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(info.value) == f"config error in {path}: {key}: unknown key"


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
    """The TUI starts with the collector off; a production of 1,000+ rollouts answers its first list before the first
    rows are drawn, and that list freezes the heap: the garbage start-up left in cycles (none collected yet) must
    not be frozen with it for good — `startup_gc.resume` collects it."""
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
    """Two deploy sources, one quick (its rows drawn at once), one that takes its time (until the flags are asked
    for, 5 s at most): as docs/flags.md says, the flag source's first poll waits for every other source's first
    answer, in the app too — the first rows drawn are not enough."""
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
    """The example configuration keeps its token in MONOTUI_PROD_EU_TOKEN: a MONOTUI_* variable that no setting
    reads. The environment then has nothing to add (CHANGELOG: pydantic-settings loads only when a MONOTUI_*
    setting is in the environment); the token is read all the same, and a real setting still loads it."""
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

