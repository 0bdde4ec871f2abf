"""The action safety contract: what is confirmed is exactly what is sent, the audit intent is on disk before
the request, and the outcome is honest — done, refused, failed, or outcome unknown — whatever the server does.

Each test recreates one situation against real loopback servers: the simulator, the Kubernetes API stand-in, and a
hostile proxy in front of them that lets the backend act and then loses, mangles or drips its answer.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monotui.action_kinds import ActionKind
from monotui.config import build_settings
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.models import Phase, Strategy, as_json
from monotui.simulator.kube_api import KubeStandin, load_fixtures
from monotui.simulator.server import SimulatorServer
from monotui.ui.screens.confirm import ConfirmActionScreen

from .argo_fixtures import fixtures_dir
from .conftest import ACTOR, make_world, wait_until
from .hostile_proxy import HostileProxy
from .ui_helpers import make_app, notifications, rows_loaded, select, settle, static_text


def canary(sim: SimulatorServer, service: str = "cart-api", *, gate: bool = False) -> None:
    """Start a canary of `service` and bring it to its first step (paused at a manual gate with `gate`)."""
    sim.world.deploy(service, strategy=Strategy.CANARY, manual_gate=gate)
    for _ in range(200):
        sim.world.step()
        r = sim.world.rollout(service)
        if (gate and r.phase is Phase.PAUSED) or (not gate and r.current_step == 1):
            return
    raise AssertionError("could not stage the canary")


def source(url: str, **extra: Any) -> dict[str, Any]:
    return {"name": "prod", "kind": "http", "url": url, "poll_interval": 60.0, "timeout": 2.0, **extra}


async def planned(engine: Engine, kind: ActionKind, service: str = "cart-api") -> Any:
    await engine.refresh_once()
    rollout = engine.state.rollout("prod", service)
    assert rollout is not None
    return engine.plan("prod", rollout, kind)


# ---- 3. the request carries the revision the confirmation showed ----------------------------------------------


async def test_promote_fully_of_a_release_nobody_saw_is_refused(sim: SimulatorServer,
                                                                engine_for: Callable[..., Engine],
                                                                audit_path: Path) -> None:
    canary(sim, gate=True)
    async with engine_for(source(sim.url)) as engine:
        plan = await planned(engine, ActionKind.PROMOTE_FULL)
        shown = plan.rollout.revision
        newer = sim.world.deploy("cart-api", strategy=Strategy.CANARY)  # lands while the dialog is open
        outcome = await engine.execute(plan, confirmed_by="dialog")
    assert outcome.outcome == "refused" and "412" in (outcome.error or "")
    assert f"not r{shown} as confirmed" in (outcome.error or "")
    after = sim.world.rollout("cart-api")
    assert after.revision == newer.revision and after.phase is not Phase.HEALTHY, "the new release was not promoted"
    [record] = AuditLog(audit_path).outcomes()
    assert (record["outcome"], record["expected_revision"]) == ("refused", shown)


async def test_roll_back_names_its_target_and_is_refused_when_another_release_landed(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    canary(sim)
    async with engine_for(source(sim.url)) as engine:
        plan = await planned(engine, ActionKind.ROLLBACK)
        assert plan.target_revision == plan.to_revision.revision, "the rollback target is sent, not left to chance"
        newer = sim.world.deploy("cart-api", strategy=Strategy.CANARY)
        outcome = await engine.execute(plan)
    assert outcome.outcome == "refused"
    assert sim.world.rollout("cart-api").revision == newer.revision
    [posted] = sim.state.mutating_requests()
    assert json.loads(posted.body)["revision"] == plan.to_revision.revision


async def test_a_promote_is_pinned_to_the_step_it_showed(sim: SimulatorServer,
                                                         engine_for: Callable[..., Engine]) -> None:
    canary(sim, gate=True)
    async with engine_for(source(sim.url)) as engine:
        plan = await planned(engine, ActionKind.PROMOTE)
        step = plan.rollout.current_step
        sim.world.act("cart-api", ActionKind.PROMOTE, "someone-else")  # a colleague promoted meanwhile
        outcome = await engine.execute(plan)
    assert outcome.outcome == "refused" and f"not step {step + 1}" in (outcome.error or "")


async def test_the_open_dialog_says_when_its_target_changed_and_cannot_confirm(
        sim: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    canary(sim, gate=True)
    app = make_app(engine_for({**source(sim.url), "poll_interval": 0.2}))
    async with app.run_test(size=(120, 35)) as pilot:
        await rows_loaded(app)
        select(app, "prod/cart-api")
        await pilot.press("F")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmActionScreen)
        newer = sim.world.deploy("cart-api", strategy=Strategy.CANARY)
        await wait_until(lambda: "TARGET CHANGED" in static_text(app, "#target-changed"), what="the dialog re-check")
        assert f"r{newer.revision}" in static_text(app, "#target-changed")
        assert app.screen.query_one("#confirm").disabled
        await pilot.press("tab", "enter", "enter")  # try to confirm anyway
        await settle(pilot)
    assert sim.state.mutating_requests() == [], "nothing was sent"
    assert AuditLog(audit_path).read() == []


# ---- 4. write-ahead audit -------------------------------------------------------------------------------------


async def test_the_intent_is_on_disk_before_the_request_arrives(sim: SimulatorServer,
                                                               engine_for: Callable[..., Engine],
                                                               audit_path: Path) -> None:
    canary(sim)
    seen: list[list[dict[str, object]]] = []
    with HostileProxy(sim.url, on_mutation=lambda *_: seen.append(AuditLog(audit_path).read())) as proxy:
        async with engine_for(source(proxy.url)) as engine:
            plan = await planned(engine, ActionKind.PAUSE)
            outcome = await engine.execute(plan, "spike")
    assert outcome.ok
    [[intent]] = seen
    assert (intent["outcome"], intent["idempotency_key"], intent["actor"]) == ("intent", plan.idempotency_key, ACTOR)
    assert (intent["expected_revision"], intent["reason"]) == (plan.rollout.revision, "spike")
    assert [r["outcome"] for r in AuditLog(audit_path).read()] == ["intent", "done"]


async def test_an_audit_log_that_cannot_be_written_sends_nothing(sim: SimulatorServer,
                                                                 engine_for: Callable[..., Engine],
                                                                 tmp_path: Path) -> None:
    canary(sim)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the audit log's folder should be")
    async with engine_for(source(sim.url), audit_log=str(blocker / "audit.log")) as engine:
        outcome = await engine.execute(await planned(engine, ActionKind.PAUSE))
    assert outcome.outcome == "refused" and "audit log" in (outcome.error or "") and "not sent" in outcome.message()
    assert sim.state.mutating_requests() == []
    assert sim.world.rollout("cart-api").phase is Phase.PROGRESSING


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs, filled to the last byte (needs root, as CI and the sessions run)."""
    mount = tmp_path / "full"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs for the full-disk case: {done.stderr.decode()}")
    try:
        (mount / "state").mkdir()
        fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            with pytest.raises(OSError):
                while True:
                    os.write(fd, b"x" * 512)
        finally:
            os.close(fd)
        yield mount / "state" / "audit.log"
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


async def test_a_full_disk_under_the_audit_log_sends_nothing(sim: SimulatorServer, engine_for: Callable[..., Engine],
                                                             full_disk: Path) -> None:
    canary(sim)
    async with engine_for(source(sim.url), audit_log=str(full_disk)) as engine:
        outcome = await engine.execute(await planned(engine, ActionKind.PAUSE))
    assert outcome.outcome == "refused" and "cannot be written" in (outcome.error or "")
    assert sim.state.mutating_requests() == [], "the pause was not sent"


async def test_the_audit_log_follows_no_symlink_and_is_private(sim: SimulatorServer,
                                                               engine_for: Callable[..., Engine],
                                                               tmp_path: Path) -> None:
    canary(sim)
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("someone else's file\n")
    link = tmp_path / "link.log"
    link.symlink_to(elsewhere)
    async with engine_for(source(sim.url), audit_log=str(link)) as engine:
        outcome = await engine.execute(await planned(engine, ActionKind.PAUSE))
    assert outcome.outcome == "refused" and "symbolic link" in (outcome.error or "")
    assert elsewhere.read_text() == "someone else's file\n" and sim.state.mutating_requests() == []

    wide = tmp_path / "wide.log"
    wide.write_text("")
    wide.chmod(0o644)
    async with engine_for(source(sim.url), audit_log=str(wide)) as engine:
        assert (await engine.execute(await planned(engine, ActionKind.PAUSE))).ok
    assert stat.S_IMODE(wide.stat().st_mode) == 0o600, "a wider mode is tightened"
    fresh = tmp_path / "new" / "audit.log"
    async with engine_for(source(sim.url), audit_log=str(fresh)) as engine:
        await engine.execute(await planned(engine, ActionKind.RESUME))
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


# ---- 5, 7, 8. honest outcomes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["close", "502", "504"])
async def test_a_lost_answer_is_outcome_unknown_and_is_read_back(sim: SimulatorServer,
                                                                 engine_for: Callable[..., Engine],
                                                                 audit_path: Path, mode: str) -> None:
    canary(sim)
    with HostileProxy(sim.url, mode) as proxy:
        async with engine_for(source(proxy.url)) as engine:
            outcome = await engine.execute(await planned(engine, ActionKind.PAUSE))
    assert sim.world.rollout("cart-api").phase is Phase.PAUSED, "the server did act"
    assert outcome.outcome == "unknown"
    assert outcome.now is not None and "Paused" in outcome.now, "monotui says what it now sees"
    assert [r["outcome"] for r in AuditLog(audit_path).read()] == ["intent", "unknown"]


async def test_a_refused_connection_is_failed(engine_for: Callable[..., Engine], audit_path: Path) -> None:
    with SimulatorServer(make_world(), tick_interval=None) as sim:
        canary(sim)
        async with engine_for(source(sim.url)) as engine:
            plan = await planned(engine, ActionKind.PAUSE)
    async with engine_for(source(sim.url)) as engine:  # the server is gone: nothing can have acted
        engine.state.apply_rollout("prod", plan.rollout)
        outcome = await engine.execute(plan)
    assert outcome.outcome == "failed" and "cannot connect" in (outcome.error or "")


async def test_running_a_lost_rollback_twice_rolls_back_once(sim: SimulatorServer,
                                                             engine_for: Callable[..., Engine],
                                                             audit_path: Path) -> None:
    """Two `monotui rollback checkout-api --yes` through a proxy that loses answers: r12 → r11, never → r10."""
    start = sim.world.rollout("cart-api").revision
    with HostileProxy(sim.url, "close") as proxy:
        async with engine_for(source(proxy.url)) as first:  # one process
            outcome = await first.execute(await planned(first, ActionKind.ROLLBACK), confirmed_by="yes-flag")
        assert outcome.outcome == "unknown"
        after_first = sim.world.rollout("cart-api").revision
        assert after_first < start
        proxy.mode = "pass"
        async with engine_for(source(proxy.url)) as second:  # the same command again, in a new process
            await second.refresh_once()
            assert len(second.adopt_unresolved()) == 1
            plan = second.plan("prod", second.state.rollout("prod", "cart-api"), ActionKind.ROLLBACK)
            assert plan.idempotency_key == outcome.plan.idempotency_key and plan.resend
            again = await second.execute(plan, confirmed_by="yes-flag")
    assert again.outcome == "done" and "same key" in again.message()
    assert sim.world.rollout("cart-api").revision == after_first, "rolled back once"
    keys = {r["idempotency_key"] for r in AuditLog(audit_path).read()}
    assert keys == {outcome.plan.idempotency_key}
    assert [r["attempt"] for r in AuditLog(audit_path).outcomes()] == [1, 2]


async def test_pressing_the_key_again_after_unknown_offers_the_same_key(sim: SimulatorServer,
                                                                        engine_for: Callable[..., Engine]) -> None:
    canary(sim)
    with HostileProxy(sim.url, "504") as proxy:
        app = make_app(engine_for(source(proxy.url)))
        async with app.run_test(size=(120, 35)) as pilot:
            await rows_loaded(app)
            select(app, "prod/cart-api")
            await pilot.press("p")
            await settle(pilot)
            await pilot.press("tab", "enter")
            await wait_until(lambda: any("outcome unknown" in n for n in notifications(app)), what="unknown")
            assert any("Paused" in n for n in notifications(app)), "what monotui read back"
            proxy.mode = "pass"
            select(app, "prod/cart-api")
            await pilot.press("p")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmActionScreen)
            assert "same Idempotency-Key" in static_text(app, "#resend-note")
            await pilot.press("tab", "enter")
            await wait_until(lambda: any("done (sent again" in n for n in notifications(app)), what="resend")
    keys = {m.headers["idempotency-key"] for m in sim.state.mutating_requests()}
    assert len(keys) == 1 and len(proxy.mutations) == 2
    assert [e.kind.value for e in sim.world.events if e.service == "cart-api"].count("paused") == 1


async def test_a_dripping_answer_hits_the_action_deadline_and_frees_the_rollout(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    canary(sim)
    with HostileProxy(sim.url, "drip", drip_s=0.3) as proxy:  # each byte within the read timeout
        async with engine_for(source(proxy.url, timeout=1.0, action_deadline=2.0)) as engine:
            started = time.monotonic()
            outcome = await engine.execute(await planned(engine, ActionKind.PAUSE))
            elapsed = time.monotonic() - started
            assert outcome.outcome == "unknown" and "deadline of 2s" in (outcome.error or "")
            assert elapsed < 20, f"bounded by the deadline (took {elapsed:.1f}s)"
            proxy.mode = "pass"
            abort = await engine.execute(engine.plan("prod", engine.state.rollout("prod", "cart-api"),
                                                     ActionKind.ABORT))
    assert "in flight" not in (abort.error or ""), "another action on the rollout is possible again"


async def test_an_answer_about_another_rollout_is_not_done(sim: SimulatorServer, engine_for: Callable[..., Engine],
                                                           audit_path: Path) -> None:
    canary(sim)
    other = json.dumps({"rollout": as_json(sim.world.rollout("payments-api"))}).encode()
    with HostileProxy(sim.url, "other", replacement=other) as proxy:
        async with engine_for(source(proxy.url)) as engine:
            outcome = await engine.execute(await planned(engine, ActionKind.PAUSE))
    assert outcome.outcome == "unknown" and "another rollout (payments-api)" in (outcome.error or "")
    assert AuditLog(audit_path).outcomes()[0]["outcome"] == "unknown"


async def test_an_intent_without_outcome_shows_as_unknown_at_start(sim: SimulatorServer,
                                                                   engine_for: Callable[..., Engine],
                                                                   audit_path: Path) -> None:
    canary(sim)
    async with engine_for(source(sim.url)) as engine:
        plan = await planned(engine, ActionKind.PAUSE)
        engine._record(plan, "intent", None, None, confirmed_by="dialog")  # monotui was killed right after
    app = make_app(engine_for(source(sim.url)))
    async with app.run_test(size=(120, 35)):
        await rows_loaded(app)
        await wait_until(lambda: any("outcome unknown" in n and "Pause cart-api" in n for n in notifications(app)),
                         what="the unresolved intent is shown")


# ---- 6. Argo Rollouts: pinned patches, and every failure mapped --------------------------------------------------


@pytest.fixture
def kube() -> Iterator[KubeStandin]:
    with KubeStandin(load_fixtures(fixtures_dir() / "canary")) as server:
        yield server


def argo_engine(kubeconfig: Path, audit: Path, **extra: Any) -> Engine:
    return Engine(build_settings({
        "sources": [{"name": "k8s", "kind": "argo-rollouts", "kubeconfig": str(kubeconfig), "timeout": 1.0,
                     **extra}],
        "actor": ACTOR, "audit_log": str(audit)}))


async def test_an_argo_patch_is_conditional_on_the_version_confirmed(kube: KubeStandin, tmp_path: Path) -> None:
    async with argo_engine(kube.kubeconfig(tmp_path / "kubeconfig"), tmp_path / "audit.log") as engine:
        await engine.refresh_once()  # a list: no watch runs, so the cache cannot see the next change
        [(_, rollout)] = engine.find("canary-demo")
        plan = engine.plan("k8s", rollout, ActionKind.PAUSE)
        kube.store.modify("Rollout", "jesse-test", "canary-demo",
                          lambda o: o["status"].update(currentStepIndex=0))  # the controller moved on
        outcome = await engine.execute(plan)
    assert outcome.outcome == "refused" and "the object has been modified" in (outcome.error or "")
    after = kube.store.get("Rollout", "jesse-test", "canary-demo")
    assert after is not None and after["spec"].get("paused") is not True, "nothing was changed"


async def test_an_argo_rollout_showing_another_revision_is_refused_before_sending(kube: KubeStandin,
                                                                                   tmp_path: Path) -> None:
    async with argo_engine(kube.kubeconfig(tmp_path / "kubeconfig"), tmp_path / "audit.log") as engine:
        await engine.refresh_once()
        [(_, rollout)] = engine.find("canary-demo")
        plan = engine.plan("k8s", rollout, ActionKind.PROMOTE_FULL)
        kube.store.modify("Rollout", "jesse-test", "canary-demo", lambda o: o["metadata"]["annotations"].update(
            {"rollout.argoproj.io/revision": str(rollout.revision + 1)}))
        await engine.refresh_once()
        outcome = await engine.execute(plan)
    assert outcome.outcome == "refused" and "target changed" in (outcome.error or "")
    assert not [c for c in kube.store.calls if c.method == "PATCH"], "nothing was sent"


@pytest.mark.parametrize(("mode", "drip_s", "expected"), [
    ("close", 0, "unknown"), ("504", 0, "unknown"),
    ("drip", 0.5, "unknown"),  # every byte within the read timeout: the action deadline ends it
    ("drip", 2.0, "unknown"),  # a byte later than the read timeout: kr8s raises its own APITimeoutError
    ("other", 0, "unknown"), ("pass", 0, "done")])
async def test_every_argo_failure_kind_is_an_honest_outcome(kube: KubeStandin, tmp_path: Path, mode: str,
                                                            drip_s: float, expected: str) -> None:
    other = json.dumps(kube.store.get("Rollout", "jesse-test", "canary-demo") | {
        "metadata": {"name": "someone-else", "namespace": "jesse-test", "resourceVersion": "1"}}).encode()
    with HostileProxy(kube.url, mode, drip_s=drip_s, replacement=other) as proxy:
        config = kube.kubeconfig(tmp_path / "kubeconfig")
        config.write_text(config.read_text().replace(kube.url, proxy.url))
        async with argo_engine(config, tmp_path / "audit.log", action_deadline=3.0) as engine:
            await engine.refresh_once()
            [(_, rollout)] = engine.find("canary-demo")
            outcome = await engine.execute(engine.plan("k8s", rollout, ActionKind.PAUSE))
    if drip_s > 1:
        assert "no answer within 1s" in (outcome.error or ""), outcome.message()
    assert outcome.outcome == expected, outcome.message()
    after = kube.store.get("Rollout", "jesse-test", "canary-demo")
    assert after is not None and after["spec"]["paused"] is True, "the API server applied the patch"
    assert [r["outcome"] for r in AuditLog(tmp_path / "audit.log").read()] == ["intent", expected]


async def test_an_argo_source_that_is_down_is_failed(tmp_path: Path) -> None:
    with KubeStandin(load_fixtures(fixtures_dir() / "canary")) as server:
        config = server.kubeconfig(tmp_path / "kubeconfig")
        async with argo_engine(config, tmp_path / "audit.log") as engine:
            await engine.refresh_once()
            [(_, rollout)] = engine.find("canary-demo")
            plan = engine.plan("k8s", rollout, ActionKind.PAUSE)
    async with argo_engine(config, tmp_path / "audit.log") as engine:
        engine.state.apply_rollout("k8s", rollout)
        engine.providers["k8s"].cache.put("Rollout", server.store.get(  # type: ignore[attr-defined]
            "Rollout", "jesse-test", "canary-demo"))
        outcome = await engine.execute(plan)
    assert outcome.outcome == "failed", outcome.message()


def test_kubectl_sees_the_standin_refuse_a_stale_resource_version(kube: KubeStandin, tmp_path: Path) -> None:
    """The stand-in's optimistic concurrency as kube-apiserver's, seen through the real client."""
    assert shutil.which("kubectl"), "kubectl is missing: .ci/run installs it (apt-get install kubernetes-client)"
    env = {"KUBECONFIG": str(kube.kubeconfig(tmp_path / "kubeconfig", namespace="jesse-test")),
           "HOME": str(tmp_path), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    current = kube.store.get("Rollout", "jesse-test", "canary-demo")
    assert current is not None
    stale = str(int(current["metadata"]["resourceVersion"]) - 1)

    def patch(version: str) -> subprocess.CompletedProcess[str]:
        body = json.dumps({"metadata": {"resourceVersion": version}, "spec": {"paused": True}})
        return subprocess.run(["kubectl", "patch", "rollouts.argoproj.io", "canary-demo", "--type", "merge",
                               "-p", body], capture_output=True, text=True, env=env, timeout=60)

    refused = patch(stale)
    assert refused.returncode != 0
    assert "Error from server (Conflict)" in refused.stderr and "the object has been modified" in refused.stderr
    assert kube.store.get("Rollout", "jesse-test", "canary-demo")["spec"].get("paused") is not True  # type: ignore[index]
    accepted = patch(current["metadata"]["resourceVersion"])
    assert accepted.returncode == 0, accepted.stderr
    assert kube.store.get("Rollout", "jesse-test", "canary-demo")["spec"]["paused"] is True  # type: ignore[index]


def test_start_up_finds_an_unresolved_intent_at_the_end_of_a_large_audit_log(tmp_path: Path) -> None:
    """Only the log's tail is read at start-up; an intent written last is still found, old records are not read."""
    from datetime import UTC, datetime

    from monotui.engine import audit as audit_module
    from monotui.engine.audit import AuditRecord

    log = AuditLog(tmp_path / "audit.log")
    old = AuditRecord(actor=ACTOR, source="prod", environment="e", service="s", rollout="s", action="pause",
                      from_revision=1, to_revision=1, outcome="intent", idempotency_key="old",
                      time=datetime.now(UTC).isoformat())
    line = old.to_json() + "\n"
    with (tmp_path / "audit.log").open("w") as f:
        f.write(line * (audit_module.UNRESOLVED_TAIL_BYTES // len(line) + 10))  # "old" intents, all over the file
        f.write(line.replace('"old"', '"first"'))
    (tmp_path / "audit.log").chmod(0o600)
    log.append(AuditRecord(actor=ACTOR, source="prod", environment="e", service="s", rollout="s", action="pause",
                           from_revision=1, to_revision=1, outcome="intent", idempotency_key="newest"))
    keys = [r["idempotency_key"] for r in log.unresolved()]
    assert keys[-1] == "newest" and "first" in keys
    assert len(log.read(tail_bytes=1000)) < len(log.read()), "the tail is a part of the file"


class _LosesAnswersAndReadBacks(HostileProxy):
    """POST answers are lost (mode "close"), and so is every read of one rollout (the engine's read-back)."""

    async def _answer(self, method: str, target: str, headers: list[Any], body: bytes, writer: Any) -> bool:
        if method == "GET" and target.startswith("/v1/rollouts/") and self.mode == "close":
            return False
        return await super()._answer(method, target, headers, body, writer)


async def test_a_lost_rollback_whose_read_back_also_failed_is_sent_again_with_its_key(
        sim: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    """Under load the read-back can fail too: monotui then cannot tell whether the rollback acted, so the same
    command must reuse the key (the server replays it) rather than roll back a second time."""
    start = sim.world.rollout("cart-api").revision
    with _LosesAnswersAndReadBacks(sim.url, "close") as proxy:
        async with engine_for(source(proxy.url)) as first:
            outcome = await first.execute(await planned(first, ActionKind.ROLLBACK), confirmed_by="yes-flag")
        assert outcome.outcome == "unknown" and "cannot read" in (outcome.now or "")
        after_first = sim.world.rollout("cart-api").revision
        assert after_first < start
        proxy.mode = "pass"
        async with engine_for(source(proxy.url)) as second:
            await second.refresh_once()
            second.adopt_unresolved()
            plan = second.plan("prod", second.state.rollout("prod", "cart-api"), ActionKind.ROLLBACK)
            assert plan.resend and plan.idempotency_key == outcome.plan.idempotency_key
            again = await second.execute(plan, confirmed_by="yes-flag")
    assert again.outcome == "done"
    assert sim.world.rollout("cart-api").revision == after_first, "rolled back once"
