"""One bad answer never blinds the operator: each case below is a hostile backend of our own on
127.0.0.1 answering what an attacker (or a broken pipeline) would, and what monotui must still show."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from monotui.action_kinds import ActionKind
from monotui.config import ConfigError, build_settings
from monotui.engine.core import Engine
from monotui.models import Strategy
from monotui.providers.base import Pin, ProviderError
from monotui.providers.http_deploy import HttpDeployProvider
from monotui.simulator.server import SimulatorServer

from .conftest import ACTOR, make_world, wait_until
from .hostile import HostileServer, json_answer, streamed
from .ui_helpers import cell, make_app, rows_loaded

TOKEN = "tok-91c2d7e4aa0f-never-show-me"


def real_answers() -> dict[str, bytes]:
    """What the simulator answers for a production with a canary in flight: the base a hostile server alters."""
    world = make_world()
    world.deploy("cart-api", strategy=Strategy.CANARY)
    with SimulatorServer(world, tick_interval=None) as sim:
        return {path: httpx.get(sim.url + path).content
                for path in ("/v1/rollouts", "/v1/health", "/v1/events")}


@pytest.fixture(scope="module")
def answers() -> dict[str, bytes]:
    return real_answers()


def deploy_api(answers: dict[str, bytes], **replace: Any) -> dict[str, Any]:
    routes: dict[str, Any] = {path: json_answer(body) for path, body in answers.items()}
    routes.update({f"/v1/{k}": v for k, v in replace.items()})
    return routes


def http_source(url: str, **extra: Any) -> dict[str, Any]:
    return {"name": "prod", "kind": "http", "url": url, "poll_interval": 0.2, "timeout": 2.0, **extra}


def settings_for(tmp_path: Path, *sources: dict[str, Any]) -> Any:
    return build_settings({"sources": list(sources), "actor": ACTOR, "audit_log": str(tmp_path / "audit.log")})


# ---- 1. one zone-less timestamp ----------------------------------------------------------------------------


async def test_a_zone_less_timestamp_is_one_row_saying_which_field(answers: dict[str, bytes],
                                                                    tmp_path: Path) -> None:
    data = json.loads(answers["/v1/rollouts"])
    victim = data["rollouts"][1]
    victim["started_at"] = "2026-11-26T09:00:00"  # no zone: cannot be compared with now
    routes = deploy_api(answers, rollouts=json_answer(json.dumps(data).encode()))
    with HostileServer(routes) as server:
        engine = Engine(settings_for(tmp_path, http_source(server.url)))
        app = make_app(engine)
        async with app.run_test(size=(160, 40)) as pilot:
            await rows_loaded(app, len(data["rollouts"]))
            await pilot.press("down", "down", "up")
            await pilot.pause()
            assert app.is_running
            assert cell(app, f"prod/{victim['id']}", "version") == "? started_at"
            assert "Degraded" in cell(app, f"prod/{victim['id']}", "status")
            others = [r for r in data["rollouts"] if r is not victim]
            assert all(cell(app, f"prod/{r['id']}", "version") == r["version"] for r in others), "the rest intact"
            assert engine.state.status("prod").state == "ok"
            shown = engine.state.rollout("prod", victim["id"])
            assert shown is not None and "started_at: Expected datetime with a timezone component" in shown.message
            outcome = await engine.execute(engine.plan("prod", shown, ActionKind.PAUSE), "check")
            assert outcome.outcome == "refused" and "not sent" in (outcome.error or "")
    assert not [a for a in server.asked if a.method == "POST"], "no action sent on a row that cannot be read"


def test_status_prints_the_unreadable_row_without_a_traceback(answers: dict[str, bytes], tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from monotui.cli import main

    data = json.loads(answers["/v1/rollouts"])
    data["rollouts"][0]["started_at"] = "2026-11-26T09:00:00"
    data["rollouts"][1]["current_step"] = -5  # was shown as "-5/3"
    with HostileServer(deploy_api(answers, rollouts=json_answer(json.dumps(data).encode()))) as server:
        config = tmp_path / "c.toml"
        config.write_text(f'audit_log = "{tmp_path / "audit.log"}"\n[[sources]]\nname = "prod"\nkind = "http"\n'
                          f'url = "{server.url}"\n')
        assert main(["status", "--json", "--config", str(config)]) == 0
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    shown = {r["id"]: r for r in json.loads(out.out)["rollouts"]}
    assert len(shown) == len(data["rollouts"])
    assert "started_at" in shown[data["rollouts"][0]["id"]]["message"]
    assert "current_step: Expected int >= 0" in shown[data["rollouts"][1]["id"]]["message"]


def test_an_unexpected_error_exits_non_zero_with_one_line_and_the_log_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from functools import partialmethod

    from monotui.cli import main
    from monotui.ui.app import MonotuiApp
    from monotui.ui.screens.rollouts import RolloutsScreen

    def broken(self: RolloutsScreen, force: bool = False) -> None:
        raise RuntimeError(f"a bug that quotes {TOKEN}")

    monkeypatch.setattr(MonotuiApp, "run", partialmethod(MonotuiApp.run, headless=True, size=(120, 30)))
    monkeypatch.setattr(RolloutsScreen, "refresh_views", broken)
    world = make_world()
    with SimulatorServer(world, tick_interval=None) as sim:
        config = tmp_path / "c.toml"
        audit = tmp_path / "state" / "audit.log"
        config.write_text(f'audit_log = "{audit}"\n[[sources]]\nname = "prod"\nkind = "http"\nurl = "{sim.url}"\n')
        code = main(["--config", str(config)])
    err = capsys.readouterr().err
    assert code == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "RuntimeError" in lines[0] and str(audit.parent / "monotui.log") in lines[0]
    assert TOKEN not in err and "Traceback" not in err
    assert "Traceback" in (audit.parent / "monotui.log").read_text(), "the details are in the log file"


# ---- 2. odd numbers in Kubernetes objects -------------------------------------------------------------------


def test_numbers_are_parsed_as_go_atoi() -> None:
    from monotui.providers.argo_rollouts.status import atoi

    assert [atoi(t) for t in ("7", "+7", "-3", "007", "9223372036854775807", "-9223372036854775808")] == [
        7, 7, -3, 7, 2**63 - 1, -(2**63)]
    for bad in ("²", "--3", "5" * 5000, " 3", "3\n", "1_000", "٣", "9223372036854775808", "", "+", "0x10"):
        assert atoi(bad) is None, bad


async def test_odd_kubernetes_numbers_never_blind_the_source(tmp_path: Path) -> None:
    from monotui.providers.argo_rollouts.provider import ArgoRolloutsProvider
    from monotui.simulator.kube_api import KubeStandin, load_fixtures

    from .argo_fixtures import fixtures_dir
    from .test_argo_provider import source

    objects = load_fixtures(fixtures_dir())
    rollouts = [o for o in objects if o["kind"] == "Rollout"]
    odd = {"²": rollouts[0], "--3": rollouts[1], "5" * 5000: rollouts[2]}
    for value, ro in odd.items():
        ro["metadata"].setdefault("annotations", {})["rollout.argoproj.io/revision"] = value
    rollouts[3].setdefault("status", {})["observedGeneration"] = "²"
    rollouts[4].setdefault("status", {})["observedGeneration"] = "9" * 5000
    rollouts[5].setdefault("status", {})["currentStepIndex"] = -5
    with KubeStandin(objects) as kube:
        provider = ArgoRolloutsProvider(source(kube.kubeconfig(tmp_path / "kubeconfig")))
        try:
            result = await provider.poll()
        finally:
            await provider.aclose()
    assert result.rollouts is not None and len(result.rollouts) == len(rollouts), "every rollout is still shown"
    by_id = {r.id: r for r in result.rollouts}
    broken = by_id[f"{rollouts[5]['metadata']['namespace']}/{rollouts[5]['metadata']['name']}"]
    assert broken.version == "? current_step" and "Expected int >= 0" in broken.message
    readable = [r for r in result.rollouts if r is not broken]
    assert all(not r.version.startswith("? ") for r in readable)
    with pytest.raises(ProviderError) as info:
        await provider.act(broken, ActionKind.PAUSE, actor=ACTOR, reason=None, revision=None, idempotency_key="k",
                           pin=Pin.of(broken))
    assert "not sent" in info.value.message
    assert not [c for c in kube.store.calls if c.method == "PATCH"], "nothing sent for a row that cannot be read"


# ---- 3. bounded answers ---------------------------------------------------------------------------------------


async def _poll_error(url: str, **extra: Any) -> tuple[ProviderError, float]:
    from monotui.config import HttpSourceConfig

    provider = HttpDeployProvider(HttpSourceConfig(**http_source(url, **extra)))
    t0 = time.monotonic()
    try:
        with pytest.raises(ProviderError) as info:
            await provider.poll()
    finally:
        await provider.aclose()
    return info.value, time.monotonic() - t0


def _big_valid_body(megabytes: int) -> Callable[[], AsyncIterator[bytes]]:
    row = json.dumps({"id": "x", "service": "x", "environment": "e", "strategy": "canary", "phase": "Healthy",
                      "revision": 1, "version": "v", "started_at": "2026-11-26T09:00:00Z"}).encode() + b","
    chunk = row * (1024 * 1024 // len(row))

    async def body() -> AsyncIterator[bytes]:
        yield b'{"rollouts": ['
        for _ in range(megabytes):
            yield chunk
        yield row[:-1] + b"]}"

    return body


async def test_an_oversized_answer_is_cut_while_streaming(answers: dict[str, bytes]) -> None:
    routes = deploy_api(answers, rollouts=streamed(_big_valid_body(200)))
    with HostileServer(routes) as server:
        error, took = await _poll_error(server.url, max_response_mb=8, timeout=60)
    assert error.kind == "invalid" and "answer too large (more than 8 MB; max_response_mb = 8)" in error.message
    assert took < 30, "stopped at the limit, not after 200 MB"


async def test_a_declared_oversized_answer_is_refused_before_reading(answers: dict[str, bytes]) -> None:
    routes = deploy_api(answers, rollouts=json_answer(b"[" + b" " * (3 * 1024 * 1024) + b"]"))
    with HostileServer(routes) as server:
        error, _ = await _poll_error(server.url, max_response_mb=1)
    assert "answer too large (3.0 MB; max_response_mb = 1)" in error.message


async def test_a_gzip_bomb_is_stopped_after_decompression(answers: dict[str, bytes]) -> None:
    packer = gzip.compress(b" " * (256 * 1024 * 1024), compresslevel=9)  # 256 MB of spaces in ~250 KB
    assert len(packer) < 1024 * 1024
    bomb = json_answer(packer, **{"Content-Encoding": "gzip"})
    with HostileServer(deploy_api(answers, rollouts=bomb)) as server:
        error, _ = await _poll_error(server.url, timeout=60)  # the default limit, 64 MB
    assert "answer too large (more than 64 MB; max_response_mb = 64)" in error.message


async def test_the_deadline_is_wall_clock_over_the_whole_answer(answers: dict[str, bytes]) -> None:
    async def drip() -> AsyncIterator[bytes]:
        for byte in b'{"rollouts": [' + b" " * 1000:
            yield bytes([byte])
            await asyncio.sleep(0.1)  # each byte well within any read timeout; the whole, never

    with HostileServer(deploy_api(answers, rollouts=streamed(drip))) as server:
        error, took = await _poll_error(server.url, timeout=1.0)
    assert error.kind == "timeout" and "no complete answer within 1s" in error.message
    assert took < 20, f"the 1 s deadline held, not 1,000 bytes × 0.1 s (took {took:.1f} s)"


async def test_an_oversized_kubernetes_list_is_that_sources_error(tmp_path: Path) -> None:
    from monotui.providers.argo_rollouts.provider import ArgoRolloutsProvider
    from monotui.simulator.kube_api import KubeStandin, synthetic

    from .test_argo_provider import source

    with KubeStandin(synthetic(200, 4)) as kube:
        provider = ArgoRolloutsProvider(source(kube.kubeconfig(tmp_path / "kubeconfig"), max_response_mb=0.05))
        try:
            with pytest.raises(ProviderError) as info:
                await provider.poll()
        finally:
            await provider.aclose()
    assert "list rollouts: answer too large (0.2 MB; max_response_mb = 0.05)" in info.value.message


async def test_an_endless_watch_line_is_cut_at_the_limit() -> None:
    from monotui.providers.argo_rollouts.kube import KubeClient

    async def endless() -> AsyncIterator[bytes]:
        yield b'{"type": "ADDED", "object": {}}\n{"type": "ADDED", "object": {"x": "'
        while True:
            yield b"y" * 65536
            await asyncio.sleep(0)

    client = KubeClient(kubeconfig=None, context=None, in_cluster=False, timeout=5, max_response_mb=1)
    lines: list[bytes] = []
    with HostileServer({"/watch": streamed(endless)}) as server:
        async with httpx.AsyncClient() as http, http.stream("GET", f"{server.url}/watch") as response:
            with pytest.raises(ProviderError) as info:
                async for line in client._lines(response, "watch rollouts"):
                    lines.append(line)
    assert lines == [b'{"type": "ADDED", "object": {}}']
    assert "watch rollouts: answer too large (more than 1 MB; max_response_mb = 1)" in info.value.message


# ---- 4. 410 storms ------------------------------------------------------------------------------------------


async def test_a_410_storm_backs_off_and_shows_resyncing(tmp_path: Path) -> None:
    from monotui.simulator.kube_api import KubeStandin, StandinOptions, load_fixtures
    from monotui.ui.widgets.banner import banner_text

    from .argo_fixtures import fixtures_dir

    options = StandinOptions(expire_watches=True)
    with KubeStandin(load_fixtures(fixtures_dir() / "canary"), options=options) as kube:
        kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig")
        engine = Engine(settings_for(tmp_path, {"name": "k8s", "kind": "argo-rollouts", "kubeconfig": str(kubeconfig),
                                                "context": "standin", "timeout": 5}))
        seen: list[int] = []

        async def run() -> None:
            async for _ in engine.updates("k8s"):
                seen.append(engine.state.status("k8s").resyncing)

        task = asyncio.create_task(run())
        try:
            await wait_until(lambda: bool(seen), timeout=30, what="the first snapshot")
            start = len(kube.store.calls)
            await asyncio.sleep(10)  # the storm's length is the measurement here, not a guess at readiness
            calls = kube.store.calls[start:]
            await wait_until(lambda: engine.state.status("k8s").resyncing > 0, timeout=30, what="resyncing shown")
            banner = banner_text(engine.state, time.time(), False, ACTOR).plain
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await engine.aclose()
    lists = sum(1 for c in calls if c.method == "GET" and "watch=1" not in c.query)
    watches = sum(1 for c in calls if "watch=1" in c.query)
    # unchecked: ~100 of each per second; with backoff (0.5 s doubling, jitter): a handful per kind
    assert lists <= 40 and watches <= 40, (lists, watches)
    print(json.dumps({"storm_10s": {"lists": lists, "watches": watches}}))  # quoted in docs/reliability.md
    assert engine.state.status("k8s").state == "ok", "the snapshot stays shown while it resyncs"
    assert f"resyncing ({engine.state.status('k8s').resyncing})" in banner


def test_relist_delays_grow_with_jitter_and_a_cap() -> None:
    import random

    from monotui.config import ArgoRolloutsSourceConfig
    from monotui.providers.argo_rollouts.provider import relist_delay

    config = ArgoRolloutsSourceConfig(name="k8s", kind="argo-rollouts")
    rng = random.Random(1)
    delays = [relist_delay(n, config, rng) for n in range(1, 12)]
    assert delays[0] == 0.0, "one 410 is a routine resync: list again at once"
    assert all(0 < d <= 30.0 for d in delays[1:]), "the default cap is 30 s"
    assert delays[5] > delays[2] and max(delays) <= 30.0
    assert len({relist_delay(4, config, rng) for _ in range(5)}) > 1, "jitter"
    tuned = ArgoRolloutsSourceConfig(name="k8s", kind="argo-rollouts", relist_backoff_s=2, relist_backoff_max_s=5,
                                     relist_jitter=0)
    assert [relist_delay(n, tuned) for n in range(1, 6)] == [0.0, 2.0, 4.0, 5.0, 5.0]
    assert relist_delay(10_000, tuned) == 5.0, "no overflow after a very long storm"


@pytest.mark.parametrize(("line", "problem"), [
    ("relist_backoff_s = 0", "relist_backoff_s: Input should be greater than 0"),
    ("relist_jitter = 1.5", "relist_jitter: Input should be less than 1"),
    ('relist_backoff_max_s = "soon"', "relist_backoff_max_s: Input should be a valid number"),
    ("relist_backoff_s = 10\nrelist_backoff_max_s = 5", "relist_backoff_max_s must be at least relist_backoff_s"),
])
def test_a_broken_relist_backoff_names_the_file_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          line: str, problem: str) -> None:
    from monotui.cli import main

    config = tmp_path / "c.toml"
    config.write_text(f'[[sources]]\nname = "k8s"\nkind = "argo-rollouts"\n{line}\n')
    assert main(["--config", str(config), "status"]) == 2
    err = capsys.readouterr().err
    assert str(config) in err and problem in err, err


# ---- 5. secrets in error text -----------------------------------------------------------------------------


def test_a_token_file_with_a_second_line_is_refused_naming_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from monotui.cli import main

    token_file = tmp_path / "token"
    token_file.write_text(f"{TOKEN}\nsecond-line\n")
    token_file.chmod(0o600)
    config = tmp_path / "c.toml"
    config.write_text(f'audit_log = "{tmp_path / "audit.log"}"\n[[sources]]\nname = "prod"\nkind = "http"\n'
                      f'url = "http://127.0.0.1:9"\ntoken_file = "{token_file}"\n')
    assert main(["status", "--json", "--config", str(config)]) == 2
    out = capsys.readouterr()
    assert str(token_file) in out.err and "whitespace or control characters" in out.err
    assert TOKEN not in out.out + out.err and "second-line" not in out.out + out.err
    token_file.write_text(f"{TOKEN}\n")  # one trailing newline is fine
    settings = build_settings({"sources": [http_source("http://127.0.0.1:9", token_file=str(token_file))]})
    assert settings.sources[0].token() == TOKEN  # type: ignore[union-attr]


async def test_a_token_file_broken_after_start_never_reaches_screen_json_or_audit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = make_world()
    world.deploy("cart-api", strategy=Strategy.CANARY)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    with SimulatorServer(world, token=TOKEN, tick_interval=None) as sim:
        engine = Engine(settings_for(tmp_path, http_source(sim.url, token_file=str(token_file))))
        async with engine:
            await engine.refresh_once()
            rollout = engine.find("cart-api")[0][1]
            token_file.write_text(f"{TOKEN}\nx-injected: 1\n")  # rotated badly while running
            updates = await engine.refresh_once()
            outcome = await engine.execute(engine.plan("prod", rollout, ActionKind.PAUSE), "check")
        asked = len(sim.state.requests)
    assert not updates[0].ok and "not sent" in (updates[0].error or "") and str(token_file) in updates[0].error
    assert outcome.outcome == "failed" and "not sent" in (outcome.error or "")
    audit = (tmp_path / "audit.log").read_text()
    assert TOKEN not in audit and TOKEN not in (updates[0].error or "") and TOKEN not in (outcome.error or "")
    assert asked == 4 + 0, "nothing was sent with the malformed token (the first poll took 4 requests)"


def _echo(status: int) -> Callable[[Request], Response]:
    """An answer that quotes the request's credentials back, as some proxies and debug servers do."""
    def answer(request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        return Response(json.dumps({"message": f"denied for {auth}", "rollouts": auth}), status_code=status,
                        media_type="application/json", headers={"Location": f"http://x/?t={auth}"})
    return answer


@pytest.mark.parametrize("kind", ["http 500", "http 401", "redirect", "invalid body", "too large", "timeout",
                                  "connection refused"])
async def test_a_planted_token_never_appears_in_any_failure(kind: str, answers: dict[str, bytes],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from monotui.config import HttpSourceConfig

    monkeypatch.setenv("MONOTUI_PLANTED", TOKEN)

    async def hang() -> AsyncIterator[bytes]:
        yield TOKEN.encode()
        await asyncio.sleep(30)

    handler = {"http 500": _echo(500), "http 401": _echo(401), "redirect": _echo(307), "invalid body": _echo(200),
               "too large": json_answer((TOKEN * 100_000).encode()), "timeout": streamed(hang),
               "connection refused": None}[kind]
    with HostileServer(deploy_api(answers, rollouts=handler)) as server:
        url = "http://127.0.0.1:9" if kind == "connection refused" else server.url
        # the hanging answer needs a short timeout; the others a long one, so a loaded machine still sends them
        timeout = 1.0 if kind == "timeout" else 10.0
        provider = HttpDeployProvider(HttpSourceConfig(**http_source(url, token_env="MONOTUI_PLANTED", timeout=timeout,
                                                                     max_response_mb=1)))
        try:
            with pytest.raises(ProviderError) as info:
                await provider.poll()
        finally:
            await provider.aclose()
        if kind != "connection refused":
            assert any(a.headers.get("authorization") == f"Bearer {TOKEN}" for a in server.asked), "it was sent"
    assert TOKEN not in info.value.message and TOKEN[4:20] not in info.value.message, info.value.message
    if kind in ("http 500", "http 401", "redirect"):
        assert "***" in info.value.message, "the echoed credential is masked"


async def test_a_kubernetes_api_echoing_the_token_is_masked(tmp_path: Path) -> None:
    import yaml

    from monotui.config import ArgoRolloutsSourceConfig
    from monotui.providers.argo_rollouts.provider import ArgoRolloutsProvider

    def echo(request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        return Response(json.dumps({"kind": "Status", "message": f"forbidden for {auth}", "code": 403}),
                        status_code=403, media_type="application/json")

    version = json_answer(b'{"gitVersion": "v1.31.0", "major": "1", "minor": "31"}')
    with HostileServer({"/apis/argoproj.io/v1alpha1/rollouts": echo, "/version/": version}) as server:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "c",
            "clusters": [{"name": "c", "cluster": {"server": server.url}}],
            "users": [{"name": "u", "user": {"token": TOKEN}}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}))
        provider = ArgoRolloutsProvider(ArgoRolloutsSourceConfig(name="k", kind="argo-rollouts",
                                                                 kubeconfig=kubeconfig, timeout=5))
        try:
            with pytest.raises(ProviderError) as info:
                await provider.poll()
        finally:
            await provider.aclose()
        assert any(a.headers.get("authorization") == f"Bearer {TOKEN}" for a in server.asked), "it was sent"
    assert "forbidden for Bearer ***" in info.value.message and TOKEN not in info.value.message


# ---- 6. smaller holes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "problem"), [
    ("http://admin:pass@host", "must not contain a user name or password"),
    ("http://127.0.0.1:99999", "Port out of range"),
    ("https://:443", "has no host"),
])
def test_urls_are_validated_at_load(url: str, problem: str) -> None:
    for kind in ("http", "prometheus", "alertmanager"):
        with pytest.raises(ConfigError) as info:
            build_settings({"sources": [{"name": "s", "kind": kind, "url": url}]}, "c.toml")
        assert problem in str(info.value) and "sources[0].url" in str(info.value)
        assert "pass" not in str(info.value) or "password" in str(info.value)


def test_an_environment_variable_error_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONOTUI_EVENTS_LIMIT", "lots")
    with pytest.raises(ConfigError) as info:
        build_settings({}, Path("/nonexistent/config.toml"))
    assert str(info.value).startswith("config error in environment variable MONOTUI_EVENTS_LIMIT: ")
    assert "config.toml" not in str(info.value)
    monkeypatch.delenv("MONOTUI_EVENTS_LIMIT")
    monkeypatch.setenv("MONOTUI_THRESHOLDS__ERROR_RATIO", "3")
    with pytest.raises(ConfigError) as info:
        build_settings({})
    assert "MONOTUI_THRESHOLDS__ERROR_RATIO" in str(info.value)


async def test_a_token_file_others_can_read_is_warned_about(tmp_path: Path, sim: SimulatorServer) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("abc\n")
    token_file.chmod(0o644)
    from monotui.config import security_warnings

    settings = settings_for(tmp_path, http_source(sim.url, token_file=str(token_file)))
    warnings = security_warnings(settings)
    assert len(warnings) == 1 and str(token_file) in warnings[0] and "chmod 600" in warnings[0]
    app = make_app(Engine(settings))
    async with app.run_test(size=(120, 30)):
        await rows_loaded(app)
        assert any(str(token_file) in n.message for n in app._notifications)
    token_file.chmod(0o600)
    assert security_warnings(settings) == []


async def test_a_redirect_says_so(answers: dict[str, bytes]) -> None:
    moved = lambda request: Response(status_code=307, headers={"Location": "https://deploy.example/v1/rollouts"})  # noqa: E731
    with HostileServer(deploy_api(answers, rollouts=moved)) as server:
        error, _ = await _poll_error(server.url)
    assert "HTTP 307: redirect to https://deploy.example/v1/rollouts not followed" in error.message


def _prometheus_answer(request: Request) -> Response:
    vector = {"status": "success", "data": {"resultType": "vector", "result": []}}
    matrix = {"status": "success", "data": {"resultType": "matrix", "result": []}}
    return Response(json.dumps(matrix if request.url.path.endswith("_range") else vector),
                    media_type="application/json")


async def test_every_prometheus_and_alertmanager_request_carries_the_token(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from monotui.config import AlertmanagerSourceConfig, PrometheusSourceConfig
    from monotui.providers.alertmanager import AlertmanagerProvider
    from monotui.providers.prometheus import PrometheusProvider

    monkeypatch.setenv("MONOTUI_PLANTED", TOKEN)
    routes = {"/api/v1/query": _prometheus_answer, "/api/v1/query_range": _prometheus_answer,
              "/api/v2/alerts": json_answer(b"[]"), "/api/v2/silences": json_answer(b'{"silenceID": "s1"}'),
              "/api/v2/silence/s1": json_answer(b"{}")}
    with HostileServer(routes) as server:
        prometheus = PrometheusProvider(PrometheusSourceConfig(name="p", kind="prometheus", url=server.url,
                                                               token_env="MONOTUI_PLANTED"))
        alertmanager = AlertmanagerProvider(AlertmanagerSourceConfig(
            name="a", kind="alertmanager", url=server.url, token_env="MONOTUI_PLANTED", verify_tls=True))
        try:
            await prometheus.poll()
            await prometheus.history("cart-api")
            await alertmanager.poll()
            assert await alertmanager.silence("cart-api", 60, "deploying", ACTOR) == "s1"
            await alertmanager.expire("s1")
        finally:
            await prometheus.aclose()
            await alertmanager.aclose()
    paths = {a.path for a in server.asked}
    assert paths == set(routes), "instant, range, alerts, silence and expire were all asked"
    assert all(a.headers.get("authorization") == f"Bearer {TOKEN}" for a in server.asked)


def test_alertmanager_takes_token_and_tls_options(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("t\n")
    token_file.chmod(0o600)
    settings = settings_for(tmp_path, {"name": "am", "kind": "alertmanager", "url": "https://am.example",
                                       "token_file": str(token_file), "token_env": "AM_TOKEN",
                                       "ca_bundle": str(tmp_path / "ca.pem"), "verify_tls": False})
    engine = Engine(settings)
    assert engine.state.status("am").tls_unverified


def test_a_kubeconfig_skipping_tls_verification_is_shown(tmp_path: Path) -> None:
    import yaml

    from monotui.ui.widgets.banner import banner_text

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "prod",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443", "insecure-skip-tls-verify": True}},
                     {"name": "safe", "cluster": {"server": "https://127.0.0.1:6444"}}],
        "users": [{"name": "u", "user": {}}],
        "contexts": [{"name": "prod", "context": {"cluster": "c", "user": "u"}},
                     {"name": "other", "context": {"cluster": "safe", "user": "u"}}]}))
    base = {"kind": "argo-rollouts", "kubeconfig": str(kubeconfig)}
    settings = settings_for(tmp_path, {"name": "k8s", **base}, {"name": "k8s-other", "context": "other", **base})
    engine = Engine(settings)
    assert engine.state.status("k8s").tls_unverified and not engine.state.status("k8s-other").tls_unverified
    banner = banner_text(engine.state, time.time(), False, ACTOR).plain
    assert banner.count("TLS NOT VERIFIED") == 1



# ---- 7. deterministic tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [" 1", "1_0", "٣", "1.0", ""])
def test_the_simulator_refuses_integers_python_would_take(sim: SimulatorServer, value: str) -> None:
    """What made the OpenAPI conformance check fail now and then: int() also accepts " 1", "1_0" and "٣"."""
    for param in ("since", "limit"):
        response = httpx.get(f"{sim.url}/v1/events", params={param: value})
        assert response.status_code == 400, (param, value)
