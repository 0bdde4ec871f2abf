"""Shared fixtures: the simulator as a real HTTP server on 127.0.0.1, settings pointing at it, a temp audit log;
the backend markers (see `backend_markers`) and the Hypothesis profile of CI."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import re
import shutil
import sys
import types
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from monotui.config import Settings, build_settings
from monotui.engine.core import Engine
from monotui.simulator import prometheus as prometheus_binaries
from monotui.simulator import unleash_server
from monotui.simulator.server import SimulatorServer
from monotui.simulator.unleash_server import RealUnleash
from monotui.simulator.unleash_server import missing as unleash_missing
from monotui.simulator.world import SimConfig, World

# The world starts "now", so ages computed against the real clock stay small (snapshot tests freeze both).
START = datetime.now(UTC).replace(microsecond=0)
ACTOR = "oncall@bastion-1"


def make_world(**kwargs: Any) -> World:
    """A deterministic production that only moves when the test says so (no new deploys unless asked). It starts
    when the test does: a world started at import (START) is over 15 minutes old late in a long run, and its
    changes then no longer count as changes before a breach."""
    config = SimConfig(**{"services": 8, "seed": 3, "deploy_interval": 0, **kwargs})
    return World(config, start=datetime.now(UTC).replace(microsecond=0))


@pytest.fixture(autouse=True)
def monotui_logger_as_before() -> Iterator[None]:
    """A command run in-process (`main([...])`) points the `monotui` logger at the monotui.log of its state folder
    and stops it from propagating, for the life of the process, as a command's own process wants. A test process
    lives on: put the logger back after each test, so later tests log neither into an earlier test's file (and
    hold it open) nor past caplog."""
    logger = logging.getLogger("monotui")
    handlers, propagate, level = list(logger.handlers), logger.propagate, logger.level
    yield
    for handler in [h for h in logger.handlers if h not in handlers]:
        logger.removeHandler(handler)
        handler.close()
    logger.propagate, logger.level = propagate, level
    cli = sys.modules.get("monotui.cli")
    if cli is not None:
        for path, handler in list(cli._log_files.items()):
            if handler not in logger.handlers:
                del cli._log_files[path]


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


# ---- CI: a Hypothesis profile, and backend markers whose skip is a failure -----------------------------------

IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}

# Reproducible in CI (the same examples on every run; a failure prints its reproduction blob), no wall-clock
# deadline on a machine shared with other jobs, and no example database in a fresh clone.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
if IN_CI:
    settings.load_profile("ci")

# A test needs a real backend when it (or a fixture or helper it uses, in tests/) refers to one of these names, or
# names one of these programs in a string. Found from the code, so no test file lists its own markers.
BACKEND_NAMES = {
    "PrometheusServer": "prometheus", "find_prometheus": "prometheus",
    "AlertmanagerServer": "alertmanager", "find_alertmanager": "alertmanager",
    "RealUnleash": "unleash", "real_unleash": "unleash", "require_real_unleash": "unleash",
    "unleash_missing": "unleash", "PostgresServer": "unleash",
    "Rsyslog": "rsyslog", "require_rsyslog": "rsyslog",
}
# A string naming one of these programs (an argument list, a path) means the test runs it.
BACKEND_STRINGS = [
    (re.compile(r"^--prometheus$"), ("prometheus", "alertmanager")),  # `monotui demo --prometheus` runs both
    (re.compile(r"(^|/)chromium$"), ("chromium",)),
    (re.compile(r"(^|/)kubectl$"), ("kubectl",)),
    (re.compile(r"(^|/)rsyslogd?$"), ("rsyslog",)),
    (re.compile(r"^mount$"), ("root",)),  # mounting a tmpfs (a full disk) needs root
]
BACKEND_OBJECTS = {  # objects a test may reach under another name (`from ... import missing`)
    id(unleash_server.missing): "unleash", id(unleash_server.RealUnleash): "unleash",
    id(unleash_server.PostgresServer): "unleash",
    id(prometheus_binaries.PrometheusServer): "prometheus", id(prometheus_binaries.find_prometheus): "prometheus",
    id(prometheus_binaries.AlertmanagerServer): "alertmanager",
    id(prometheus_binaries.find_alertmanager): "alertmanager",
}
TESTS_DIR = Path(__file__).resolve().parent


def _is_ours(obj: object, home: Path = TESTS_DIR) -> bool:
    """A function or class written in tests/, or beside the test (its helpers are searched too)."""
    try:
        source = inspect.getsourcefile(obj)  # type: ignore[arg-type]
    except TypeError:
        return False
    return source is not None and any(Path(source).resolve().is_relative_to(d) for d in {TESTS_DIR, home})


def _strings(code: types.CodeType, doc: str | None) -> Iterator[str]:
    for const in code.co_consts:
        if isinstance(const, str) and const != doc:
            yield const
        elif isinstance(const, tuple | frozenset):
            yield from (c for c in const if isinstance(c, str))


class _Needs:
    """The backends found for one test: `sure` from names and objects, `by_string[backend]` from the strings that
    named it (a parametrized test may choose the backend by its parameter: see `_by_parameter`)."""

    def __init__(self, item: pytest.Function) -> None:
        self.item = item
        self.home = Path(str(item.path)).resolve().parent
        self.sure: set[str] = set()
        self.by_string: dict[str, set[str]] = {}
        self.seen: set[int] = set()

    def string(self, backend: str, text: str) -> None:
        self.by_string.setdefault(backend, set()).add(text)

    def fixture(self, name: str, via_string: bool) -> None:
        if name in BACKEND_NAMES:
            if via_string:
                self.string(BACKEND_NAMES[name], name)
            else:
                self.sure.add(BACKEND_NAMES[name])
        for fixturedef in self.item.session._fixturemanager.getfixturedefs(name, self.item) or ():
            if _is_ours(fixturedef.func, self.home):
                self.scan(fixturedef.func, via_string and name)

    def scan(self, obj: object, via: str | bool = False) -> None:
        """What a function or class of tests/ needs, following the functions, classes and fixtures of tests/ it
        uses; `via`: the string (a fixture's name) through which it was reached, if any."""
        if id(obj) in self.seen:
            return
        self.seen.add(id(obj))
        if isinstance(obj, type):
            for member in vars(obj).values():
                member = getattr(member, "__func__", member)
                if isinstance(member, types.FunctionType):
                    self.scan(member, via)
            return
        func = inspect.unwrap(obj)  # type: ignore[arg-type]
        if not isinstance(func, types.FunctionType):
            return
        codes = [func.__code__]
        while codes:
            code = codes.pop()
            codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
            found = {BACKEND_NAMES[n] for n in (*code.co_names, *code.co_varnames) if n in BACKEND_NAMES}
            modules = [sys.modules[n] for n in code.co_names if "." in n and n in sys.modules]  # local imports
            strings: list[str] = list(_strings(code, func.__doc__))
            for name in code.co_names:
                value = func.__globals__.get(name)
                candidates = [value, *(getattr(m, name, None) for m in modules)]
                if any(id(c) in BACKEND_OBJECTS for c in candidates if c is not None):
                    found |= {BACKEND_OBJECTS[id(c)] for c in candidates if c is not None and id(c) in BACKEND_OBJECTS}
                elif isinstance(value, str):
                    strings.append(value)
                elif (inspect.isfunction(value) or inspect.isclass(value)) and _is_ours(value, self.home):
                    self.scan(value, via)
            for backend in found:
                if via:
                    self.string(backend, str(via))
                else:
                    self.sure.add(backend)
            for text in strings:
                for pattern, backends in BACKEND_STRINGS:
                    if pattern.search(text):
                        for backend in backends:
                            self.string(backend, text)
                if text.isidentifier() and self.item.session._fixturemanager.getfixturedefs(text, self.item):
                    self.fixture(text, via_string=True)  # request.getfixturevalue("name")


def _needs(item: pytest.Function) -> _Needs:
    needs = _Needs(item)
    needs.scan(item.function)
    for name in item._fixtureinfo.names_closure:
        needs.fixture(name, via_string=False)
    return needs


def _by_parameter(group: list[_Needs]) -> dict[pytest.Function, set[str]]:
    """The backends of each test of one test function. A backend that the ids of some of its parametrizations name
    (`test_tui_forms[monotui demo --prometheus]`, `...[unleash]`) is needed by those only; otherwise by every one."""
    result = {}
    for needs in group:
        backends = set()
        found = {b: {b} for b in needs.sure}
        for backend, texts in needs.by_string.items():
            found.setdefault(backend, {backend}).update(texts)
        for backend, words in found.items():
            naming = [n for n in group if hasattr(n.item, "callspec") and any(w in n.item.callspec.id for w in words)]
            if not naming or needs in naming:
                backends.add(backend)
        result[needs.item] = backends
    return result


def backend_markers(items: Iterable[pytest.Item]) -> dict[pytest.Function, set[str]]:
    """The backends each test needs: from its own code, its fixtures' and the helpers of tests/ they use."""
    groups: dict[tuple[str, str], list[_Needs]] = {}
    for item in items:
        if isinstance(item, pytest.Function):
            groups.setdefault((item.module.__name__ if item.module else "", item.originalname), []).append(
                _needs(item))
    result = {}
    for group in groups.values():
        result.update(_by_parameter(group))
    return result


@functools.cache
def backend_missing(backend: str) -> str | None:
    """Why this machine cannot run tests of that backend (with the install hint), or None."""
    sbin = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    if backend == "prometheus":
        return None if prometheus_binaries.find_prometheus() else "prometheus is not installed: apt-get install " \
                                                                   "prometheus"
    if backend == "alertmanager":
        return None if prometheus_binaries.find_alertmanager() else "alertmanager is not installed: apt-get " \
                                                                     "install prometheus-alertmanager"
    if backend == "unleash":
        return unleash_server.missing()
    if backend == "chromium":
        return None if shutil.which("chromium") else "chromium is not installed: apt-get install chromium"
    if backend == "kubectl":
        return None if shutil.which("kubectl") else "kubectl is not installed: apt-get install kubernetes-client"
    if backend == "rsyslog":
        return None if shutil.which("rsyslogd", path=sbin) else "rsyslogd is not installed: apt-get install rsyslog"
    if backend == "root":
        return None if os.geteuid() == 0 else "needs root (it mounts a tmpfs)"
    raise ValueError(backend)


BACKENDS = ("prometheus", "alertmanager", "unleash", "chromium", "kubectl", "rsyslog", "root")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks it adds
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item, backends in backend_markers(items).items():
        for backend in sorted(backends):
            item.add_marker(getattr(pytest.mark, backend))
        if item.get_closest_marker("unleash") and config.pluginmanager.hasplugin("xdist"):
            # one worker runs every test of the session's real Unleash, which it then starts once (pytest-xdist
            # with --dist loadgroup; without xdist the mark does nothing)
            item.add_marker(pytest.mark.xdist_group("unleash"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    for backend in BACKENDS:
        if item.get_closest_marker(backend) and (problem := backend_missing(backend)):
            if IN_CI:
                pytest.fail(f"CI=true and the {backend} backend is missing: {problem}", pytrace=False)
            pytest.skip(f"needs {backend}: {problem}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Under CI=true a test that needs a backend must have run: its skip, whatever the reason, is a failure."""
    report = yield
    if IN_CI and report.skipped and not hasattr(report, "wasxfail") \
            and any(item.get_closest_marker(b) for b in BACKENDS):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"CI=true: a test that needs {', '.join(b for b in BACKENDS if item.get_closest_marker(b))}" \
                          f" was skipped ({reason}); CI must run it"
    return report
