"""Shared fixtures: the simulator as a real HTTP server on 127.0.0.1, settings pointing at it, a temp audit log."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monotui.config import Settings, build_settings
from monotui.engine.core import Engine
from monotui.simulator.server import SimulatorServer
from monotui.simulator.unleash_server import RealUnleash
from monotui.simulator.unleash_server import missing as unleash_missing
from monotui.simulator.world import SimConfig, World

# The world starts "now", so ages computed against the real clock stay small (snapshot tests freeze both).
START = datetime.now(UTC).replace(microsecond=0)
ACTOR = "oncall@bastion-1"


def make_world(**kwargs: Any) -> World:
    """A deterministic production that only moves when the test says so (no new deploys unless asked)."""
    config = SimConfig(**{"services": 8, "seed": 3, "deploy_interval": 0, **kwargs})
    return World(config, start=START)


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def sim(world: World) -> Iterator[SimulatorServer]:
    with SimulatorServer(world, tick_interval=None) as server:
        yield server


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "audit.log"


@pytest.fixture
def make_settings(audit_path: Path) -> Callable[..., Settings]:
    def build(*urls_or_sources: str | dict[str, Any], **overrides: Any) -> Settings:
        sources = []
        for i, item in enumerate(urls_or_sources):
            if isinstance(item, str):
                item = {"name": "prod" if i == 0 else f"prod{i}", "kind": "http", "url": item,
                        "poll_interval": 0.1, "timeout": 2.0}
            sources.append(item)
        data = {"sources": sources, "actor": ACTOR, "audit_log": str(audit_path), **overrides}
        return build_settings(data)

    return build


@pytest.fixture
def engine_for(make_settings: Callable[..., Settings]) -> Callable[..., Engine]:
    """Build an Engine; use it as `async with engine_for(url) as engine:` so its HTTP clients close."""

    def build(*sources: str | dict[str, Any], **overrides: Any) -> Engine:
        return Engine(make_settings(*sources, **overrides))

    return build


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.02,
                     what: str = "condition") -> None:
    """Poll for a condition instead of sleeping a fixed time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not met within {timeout:g}s")
        await asyncio.sleep(step)


def require_real_unleash() -> None:
    problem = unleash_missing()
    if problem:
        pytest.fail(f"a real Unleash cannot start: {problem}", pytrace=False)


@pytest.fixture(scope="session")
def real_unleash() -> Iterator[RealUnleash]:
    """A real Unleash on a real PostgreSQL for the whole session (flags have unique names per test). Fails, never
    skips, when node, PostgreSQL or unleash-server is missing: `.ci/run` installs them."""
    require_real_unleash()
    with RealUnleash() as unleash:
        yield unleash
