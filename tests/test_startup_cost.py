"""What starting monotui loads and builds: nothing the first screen does not need (each import checked in a fresh
interpreter, as `sys.modules` shows it), and no certificate store for a plain-HTTP source."""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.responses import Response

from monotui.config import HttpSourceConfig, Settings
from monotui.engine.core import Engine
from monotui.providers.http_edge import HttpEdge
from monotui.simulator.server import SimulatorServer

from .conftest import wait_until
from .hostile import HostileServer


def loaded_by(statement: str, candidates: list[str], env: dict[str, str] | None = None) -> list[str]:
    """The `candidates` a fresh interpreter has loaded after running `statement`."""
    code = f"import sys\n{statement}\nprint(' '.join(m for m in {candidates!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                         env=env)
    return out.stdout.split()


def test_the_command_line_loads_no_configuration_client_nor_ui_before_a_command_needs_them() -> None:
    # `monotui demo` starts its simulator process first: everything after this import runs beside it
    assert loaded_by("import monotui.cli", ["pydantic", "pydantic_settings", "monotui.config", "httpx", "textual",
                                            "rich", "starlette", "uvicorn"]) == []


def test_the_simulator_process_loads_no_ui_configuration_nor_client() -> None:
    assert loaded_by("import monotui.cli, monotui.simulator.server",
                     ["textual", "rich", "pydantic", "monotui.config", "httpx"]) == []


def test_the_app_does_not_load_what_its_first_screen_does_not_need() -> None:
    assert loaded_by("import monotui.ui.app", [
        "starlette", "uvicorn", "monotui.simulator",  # the simulator: the demo runs it in its own process
        "kr8s", "yaml", "jsonpatch", "monotui.providers.argo_rollouts",  # Kubernetes: only for such a source
        "monotui.providers.prometheus", "monotui.providers.alertmanager", "monotui.providers.unleash",
        "monotui.providers.http_deploy",  # each source kind's provider loads when such a source is built
    ]) == []


def test_pydantic_settings_loads_only_when_the_environment_has_settings(tmp_path: Path) -> None:
    config = tmp_path / "monotui.toml"
    config.write_text('actor = "alice@file"\n')
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("MONOTUI_")}
    read = ("from monotui.config import load_settings\n"
            f"s = load_settings({str(config)!r}); assert s.actor == sys.argv[1], s.actor")
    for env, actor, loaded in (
            (clean, "alice@file", []),
            ({**clean, "MONOTUI_CONFIG": str(config)}, "alice@file", []),  # the file's path is not a setting
            ({**clean, "MONOTUI_ACTOR": "bob@env"}, "bob@env", ["pydantic_settings"]),  # the environment wins
            ({**clean, "monotui_actor": "bob@env"}, "bob@env", ["pydantic_settings"])):  # in any case, as before
        statement = f"sys.argv[1:] = [{actor!r}]\n{read}"
        assert loaded_by(statement, ["pydantic_settings"], env) == loaded, env


def _context(edge: HttpEdge) -> ssl.SSLContext:
    context = edge._client._transport._pool._ssl_context  # type: ignore[attr-defined]
    assert isinstance(context, ssl.SSLContext)
    return context


@pytest.mark.parametrize("url", ["http://127.0.0.1:8700", "https://deploys.example.com"])
async def test_a_plain_http_source_loads_no_certificates_and_an_https_one_still_verifies(url: str) -> None:
    edge = HttpEdge(HttpSourceConfig(name="s", kind="http", url=url))
    try:
        context = _context(edge)
        # both verify: a plain-HTTP client that were ever asked for TLS would trust no one (it fails closed)
        assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
        cas = context.cert_store_stats()["x509_ca"]
        assert (cas == 0) if url.startswith("http:") else (cas > 0)
    finally:
        await edge.aclose()


# ---- the rows first, the flags right after ------------------------------------------------------------------


DEPLOY_PATHS = ("/v1/changes/rollouts", "/v1/rollouts", "/v1/changes/health", "/v1/health", "/v1/events")


@contextlib.asynccontextmanager
async def following(engine: Engine, *sources: str) -> AsyncIterator[dict[str, list[bool]]]:
    """The engine's updates of `sources` followed as the app follows them; yields each source's outcomes so far,
    and closes the engine at the end."""
    seen: dict[str, list[bool]] = {name: [] for name in sources}

    async def follow(source: str) -> None:
        async for update in engine.updates(source):
            seen[source].append(update.ok)

    tasks = [asyncio.create_task(follow(name)) for name in sources]
    try:
        yield seen
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await engine.aclose()


@contextlib.asynccontextmanager
async def flags_beside(deploys: str, sim: SimulatorServer,
                       make_settings: Callable[..., Settings]) -> AsyncIterator[tuple[Engine, list[bool]]]:
    """An engine following a deploy source at `deploys` and the simulator's flags, as the app does; yields it, once
    the flag source polled, and the outcomes of the flag source's polls so far."""
    engine = Engine(make_settings({"name": "prod", "kind": "http", "url": deploys, "timeout": 60},
                                  {"name": "flags", "kind": "unleash", "url": sim.url, "poll_interval": 1.0}))
    async with following(engine, "prod", "flags") as seen:
        await wait_until(lambda: bool(seen["flags"]), timeout=30, what="the flags' first poll")
        yield engine, seen["flags"]


async def test_the_flags_are_asked_for_after_the_deploy_source_answered(sim: SimulatorServer,
                                                                        make_settings: Callable[..., Settings]) -> None:
    """A deploy source that takes its time (up to 1 s, or until the flags are asked for) to answer its first poll:
    no flag is asked for before that answer, so the rows come first."""
    flags_asked_before_answer: list[int] = []

    def flag_requests() -> int:
        return sum(r.path.startswith("/api/admin/") for r in sim.state.requests)

    async def slow(request: Any) -> Any:
        deadline = asyncio.get_running_loop().time() + 1.0
        while not flag_requests() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        flags_asked_before_answer.append(flag_requests())
        return Response(b'{"detail": "no"}', status_code=503, media_type="application/json")

    with HostileServer(dict.fromkeys(DEPLOY_PATHS, slow)) as deploys:
        async with flags_beside(deploys.url, sim, make_settings):
            pass
    assert flags_asked_before_answer and flags_asked_before_answer[0] == 0


async def test_a_hanging_deploy_source_does_not_keep_the_flags_away(sim: SimulatorServer,
                                                                   make_settings: Callable[..., Settings]) -> None:
    async def never(request: Any) -> Any:
        await asyncio.Event().wait()

    with HostileServer(dict.fromkeys(DEPLOY_PATHS, never)) as hanging:
        async with flags_beside(hanging.url, sim, make_settings) as (engine, flags):
            assert flags[0] and engine.state.all_flags()
            prod = engine.state.status("prod")
            assert hanging.asked and prod.last_ok is None and prod.failures == 0  # still waiting for its answer
