"""Attacks on issue 11's path to the first rows (startup_gc, flags after the rows, the footer, Settings without
pydantic-settings, the lazy dialogs): each case failed on the code as merged and passes now."""

from __future__ import annotations

import gc
import os
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monotui import startup_gc
from monotui.config import ConfigError, load_settings
from monotui.engine.core import Engine
from monotui.engine.polling import FREEZE_AT
from monotui.simulator.server import SimulatorServer

from .conftest import make_world

SOURCE = '[[sources]]\nname = "a"\nkind = "http"\nurl = "http://127.0.0.1:1"\n'


@pytest.mark.parametrize(("line", "key"), [
    ("READ_ONLY = true", "READ_ONLY"),  # pydantic-settings folds case: the file's keys would too
    ('Actor = "mallory"', "Actor"),
    ('_env_prefix = "OTHER_"', "_env_prefix"),  # pydantic-settings' own parameters, taken from the file
    ("_cli_parse_args = true", "_cli_parse_args"),
])
@pytest.mark.parametrize("environment", [False, True], ids=["no MONOTUI_ variable", "a MONOTUI_ token variable"])
def test_a_file_key_is_unknown_with_or_without_a_monotui_variable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, key: str, environment: bool) -> None:
    """The same file gives the same verdict whether or not the environment holds a MONOTUI_* variable (the usual
    token_env names one): an unknown key, named, never a key read in another case or as a pydantic-settings option."""
    for name in [n for n in os.environ if n.upper().startswith("MONOTUI_")]:
        monkeypatch.delenv(name)
    if environment:
        monkeypatch.setenv("MONOTUI_PROD_TOKEN", "s3cret")
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
