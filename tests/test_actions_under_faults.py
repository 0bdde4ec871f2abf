"""Rollout actions when the backend, the network or the local disk misbehaves: the outcome said and audited is
what happened (done, refused, failed only when provably not sent, unknown otherwise), a resend never acts twice
nor hides a new intent, and what was confirmed is what is sent. Real loopback servers: the simulator, the Argo
Rollouts stand-in, and proxies of our own in front of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monotui.action_kinds import ActionKind
from monotui.cli import main
from monotui.config import build_settings
from monotui.engine.audit import AuditLog
from monotui.engine.core import Engine
from monotui.models import Phase
from monotui.simulator.kube_api import KubeStandin, load_fixtures
from monotui.simulator.server import SimulatorServer

from .argo_fixtures import fixtures_dir
from .conftest import ACTOR, wait_until
from .hostile_proxy import HostileProxy
from .test_action_safety import argo_engine, canary, planned, source


def _config(tmp_path: Path, url: str, audit_path: Path) -> str:
    path = tmp_path / "monotui.toml"
    path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n'
                    f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{url}"\ntimeout = 2\n')
    return str(path)


# ---- an answer lost, refused or replayed ------------------------------------------------------------------------


async def test_a_gateway_error_after_the_backend_acted_is_unknown_and_read_back(
        sim: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    canary(sim)
    with HostileProxy(sim.url, "502") as proxy:
        async with engine_for(source(proxy.url)) as engine:
            outcome = await engine.execute(await planned(engine, ActionKind.PAUSE))
    assert outcome.outcome == "unknown" and outcome.now is not None and "Paused" in outcome.now
    assert [r["outcome"] for r in AuditLog(audit_path).read()] == ["intent", "unknown"]


async def test_a_resend_refused_by_a_server_that_forgot_the_key_is_not_recorded_as_refused(
        sim: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    """A pause is lost (the server paused: unknown); the deploy API restarts and forgets its idempotency keys; the
    operator presses the key again and the same-key resend is answered 409 "not progressing". That refusal does not
    close the intent as `refused`: the first attempt did pause."""
    canary(sim)
    with HostileProxy(sim.url, "close") as proxy:
        async with engine_for(source(proxy.url)) as engine:
            first = await engine.execute(await planned(engine, ActionKind.PAUSE), "spike")
    assert first.outcome == "unknown"
    assert sim.world.rollout("cart-api").phase is Phase.PAUSED, "the first attempt acted"
    with SimulatorServer(sim.world, tick_interval=None) as restarted:  # same production, new API process
        async with engine_for(source(restarted.url)) as engine:
            await engine.refresh_once()
            engine.adopt_unresolved()
            plan = engine.plan("prod", engine.state.rollout("prod", "cart-api"), ActionKind.PAUSE)
            assert plan.resend and plan.idempotency_key == first.plan.idempotency_key
            again = await engine.execute(plan)
    last = [r for r in AuditLog(audit_path).read() if r["idempotency_key"] == plan.idempotency_key][-1]
    assert (again.outcome, last["outcome"]) != ("refused", "refused"), (
        f"the intent that paused production is closed as refused: {again.message()}")


def test_a_resend_does_not_silently_drop_the_reason_given_on_the_command_line(
        sim: SimulatorServer, tmp_path: Path, audit_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`monotui pause cart-api --yes --reason first` is lost (unknown); running it again with another `--reason`
    resends the first intent: the new reason is refused as a usage error, recorded, or said — never dropped silently."""
    canary(sim)
    with HostileProxy(sim.url, "504") as proxy:
        path = _config(tmp_path, proxy.url, audit_path)
        assert main(["pause", "cart-api", "--yes", "--reason", "first", "--config", path]) == 1
        capsys.readouterr()
        proxy.mode = "pass"
        code = main(["pause", "cart-api", "--yes", "--reason", "INC-42 second", "--config", path])
    out = capsys.readouterr()
    reasons = [r.get("reason") for r in AuditLog(audit_path).outcomes()]
    said = "INC-42" in out.out + out.err or "reason" in (out.out + out.err).lower()
    assert code == 2 or "INC-42 second" in reasons or said, (
        f"--reason was silently dropped: audit reasons {reasons}, output {out.out + out.err!r}")


async def test_a_replayed_resend_does_not_leave_a_stale_rollout_on_screen(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    """A pause is lost (unknown; the server paused) and sent again with the same key while a colleague resumes: the
    server replays its first answer. What the screen shows afterwards is read back from the server, not taken from the
    replayed body; and after the colleague's resume a key press is a new intent, not the old one."""
    canary(sim)
    with HostileProxy(sim.url, "close") as proxy:
        async with engine_for(source(proxy.url)) as engine:
            first = await engine.execute(await planned(engine, ActionKind.PAUSE))
            assert first.outcome == "unknown"
            proxy.mode = "pass"
            plan = engine.plan("prod", engine.state.rollout("prod", "cart-api"), ActionKind.PAUSE)  # type: ignore[arg-type]
            assert plan.resend, "offered while the rollout is as it was read back"
            sim.world.act("cart-api", ActionKind.RESUME, "colleague@laptop")  # between the key and the server
            again = await engine.execute(plan)
            await engine.refresh_once()
            shown = engine.state.rollout("prod", "cart-api")
            later = engine.plan("prod", shown, ActionKind.PAUSE)  # type: ignore[arg-type]
    real = sim.world.rollout("cart-api")
    assert real.phase is Phase.PROGRESSING
    assert shown is not None and shown.phase is real.phase, (
        f"monotui shows {shown.phase.value if shown else None} after '{again.message()}', production is "
        f"{real.phase.value}")
    assert "Now: cart-api" in again.message() and "Progressing" in again.message()
    assert not later.resend, "after the colleague's resume a key press is a new intent"


def test_a_new_pause_after_a_colleague_resumed_is_not_swallowed_by_the_replay(
        sim: SimulatorServer, tmp_path: Path, audit_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`monotui pause cart-api --yes` is lost (the server paused: unknown), a colleague resumes, the operator runs the
    same command again: it is a new pause, not a resend the server would answer with its old replayed "done" while
    production keeps progressing."""
    canary(sim)
    with HostileProxy(sim.url, "close") as proxy:
        assert main(["pause", "cart-api", "--yes", "--config", _config(tmp_path, proxy.url, audit_path)]) == 1
    sim.world.act("cart-api", ActionKind.RESUME, "colleague@laptop")
    assert sim.world.rollout("cart-api").phase is Phase.PROGRESSING
    code = main(["pause", "cart-api", "--yes", "--config", _config(tmp_path, sim.url, audit_path)])
    out = capsys.readouterr().out
    phase = sim.world.rollout("cart-api").phase
    assert not (code == 0 and phase is not Phase.PAUSED), f"exit 0, {out!r}, yet cart-api is {phase.value}"


async def test_a_failed_rollback_is_not_offered_again_after_a_new_release(
        sim: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    """A rollback that provably never left (nothing listens) is "failed", and is not offered for resending after a
    new release landed."""
    start = sim.world.rollout("cart-api").revision
    async with engine_for(source("http://127.0.0.1:9")) as engine:  # nothing listens: failed, not sent
        engine.state.apply_rollout("prod", sim.world.rollout("cart-api"))
        failed = await engine.execute(engine.plan("prod", sim.world.rollout("cart-api"), ActionKind.ROLLBACK))
    assert failed.outcome == "failed"
    canary(sim)
    assert sim.world.rollout("cart-api").revision > start
    async with engine_for(source(sim.url)) as engine:
        await engine.refresh_once()
        assert engine.adopt_unresolved() == [], "a failed intent is not offered for resending"
    assert sim.state.mutating_requests() == []


class _RedirectsActions(HostileProxy):
    """Reads pass through; a POST is answered 308 (an https redirect in front of the API) and never forwarded."""

    async def _answer(self, method: str, target: str, headers: list[Any], body: bytes, writer: Any) -> bool:
        if method == "POST":
            self.mutations.append((method, target))
            writer.write(f"HTTP/1.1 308 Permanent Redirect\r\nlocation: https://deploy.example{target}\r\n"
                         f"content-length: 0\r\n\r\n".encode())
            await writer.drain()
            return True
        return await super()._answer(method, target, headers, body, writer)


async def test_a_redirect_answer_is_not_outcome_unknown(sim: SimulatorServer, engine_for: Callable[..., Engine],
                                                        audit_path: Path) -> None:
    """A 3xx to an action says "not here" and redirects are not followed: the server did not act, so the outcome is
    refused or failed, not `unknown` with a resend offered."""
    canary(sim)
    with _RedirectsActions(sim.url) as proxy:
        async with engine_for(source(proxy.url)) as engine:
            outcome = await engine.execute(await planned(engine, ActionKind.PAUSE))
    assert sim.state.mutating_requests() == [] and len(proxy.mutations) == 1
    assert outcome.outcome in ("refused", "failed"), outcome.message()


class _RefusesWithALoneSurrogate(HostileProxy):
    """Reads pass through; a POST is refused 409 with a message holding a JSON-escaped lone surrogate."""

    async def _answer(self, method: str, target: str, headers: list[Any], body: bytes, writer: Any) -> bool:
        if method == "POST":
            self.mutations.append((method, target))
            text = b'{"error": "conflict", "message": "cannot pause \\udc80 now"}'
            writer.write(f"HTTP/1.1 409 Conflict\r\ncontent-type: application/json\r\n"
                         f"content-length: {len(text)}\r\n\r\n".encode() + text)
            await writer.drain()
            return True
        return await super()._answer(method, target, headers, body, writer)


async def test_a_refusal_whose_message_holds_a_lone_surrogate_is_recorded_not_raised(
        sim: SimulatorServer, engine_for: Callable[..., Engine], audit_path: Path) -> None:
    """A refusal whose JSON message holds `\\udc80` (valid JSON, a lone surrogate once decoded) is recorded as
    refused; the outcome record is written, nothing escapes Engine.execute."""
    canary(sim)
    with _RefusesWithALoneSurrogate(sim.url) as proxy:
        async with engine_for(source(proxy.url)) as engine:
            plan = await planned(engine, ActionKind.PAUSE)
            try:
                outcome: object = await engine.execute(plan)
            except UnicodeError as e:
                outcome = e
    assert not isinstance(outcome, Exception), f"execute raised {outcome!r}"
    assert [r["outcome"] for r in AuditLog(audit_path).read()] == ["intent", "refused"]


async def test_an_action_that_could_not_be_built_is_not_outcome_unknown(
        sim: SimulatorServer, engine_for: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    """The token (read at each request) was rotated to a value with a non-ASCII character: the request cannot be
    built, nothing leaves, so the outcome is `failed` (no resend offered) and the token is not quoted."""
    canary(sim)
    async with engine_for(source(sim.url, token_env="ROTATED_TOKEN")) as engine:
        plan = await planned(engine, ActionKind.PAUSE)
        monkeypatch.setenv("ROTATED_TOKEN", "s3cr\u00e9t-rotated")
        outcome = await engine.execute(plan)
    assert sim.state.mutating_requests() == []
    assert outcome.outcome == "failed", outcome.message()
    assert "s3cr" not in outcome.message(), "the token is not quoted"


def test_a_reason_with_an_undecodable_byte_is_a_clear_error_not_a_traceback(
        sim: SimulatorServer, tmp_path: Path, audit_path: Path) -> None:
    """`monotui pause cart-api --yes --reason $'INC-7 \\xff'` (a Latin-1 byte pasted into a UTF-8 shell reaches
    Python as a lone surrogate): an exit status, no traceback, nothing sent."""
    canary(sim)
    try:
        code: object = main(["pause", "cart-api", "--yes", "--reason", "INC-7 \udcff",
                             "--config", _config(tmp_path, sim.url, audit_path)])
    except UnicodeError as e:
        code = e
    assert sim.state.mutating_requests() == []
    assert code in (1, 2), f"a traceback instead of an exit status: {code!r}"


# ---- what was confirmed is what is sent -------------------------------------------------------------------------


async def test_a_pause_confirmed_at_one_weight_is_not_sent_after_the_canary_moved_on(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    """The pause dialog says "r13 stays at 10% of traffic until resumed"; the canary moves to its next step (same
    revision) before Enter. The pin covers the weight: the plan is seen as changed, or the pause is not reported done
    at a weight nobody confirmed."""
    canary(sim)
    async with engine_for(source(sim.url)) as engine:
        plan = await planned(engine, ActionKind.PAUSE)
        shown_effect = plan.effect
        weight = sim.world.rollout("cart-api").actual_weight
        for _ in range(400):
            sim.world.step()
            if sim.world.rollout("cart-api").actual_weight != weight:
                break
        await engine.refresh_once()
        changed = engine.target_changed(plan)
        outcome = await engine.execute(plan)
    now = sim.world.rollout("cart-api")
    assert now.actual_weight != weight and now.revision == plan.rollout.revision
    assert changed is not None or outcome.outcome != "done", (
        f"dialog showed {shown_effect!r}; paused at step {now.current_step} (weight {now.actual_weight}) instead")


async def test_a_promote_fully_confirmed_on_a_progressing_canary_is_not_sent_once_it_was_paused(
        sim: SimulatorServer, engine_for: Callable[..., Engine]) -> None:
    """"Promote fully" is confirmed on a progressing canary; before Enter someone (a colleague, or the guard after a
    breach) pauses it. The plan is seen as changed: a canary stopped for a reason is not unpaused and promoted."""
    canary(sim)
    async with engine_for(source(sim.url)) as engine:
        plan = await planned(engine, ActionKind.PROMOTE_FULL)
        assert plan.rollout.phase is Phase.PROGRESSING
        sim.world.act("cart-api", ActionKind.PAUSE, "monotui guard (oncall@bastion-1)", "error ratio breached")
        await engine.refresh_once()
        changed = engine.target_changed(plan)
        outcome = await engine.execute(plan)
    assert changed is not None or outcome.outcome != "done", (
        f"the paused canary was fully promoted: now {sim.world.rollout('cart-api').phase.value}")


# ---- Argo Rollouts: several requests, no idempotency key --------------------------------------------------------


class _SpecPatchForbidden(HostileProxy):
    """Passes everything through, except a PATCH of the rollout itself: 403 (RBAC with rollouts/status only)."""

    async def _answer(self, method: str, target: str, headers: list[Any], body: bytes, writer: Any) -> bool:
        if method == "PATCH" and not target.split("?")[0].endswith("/status"):
            self.mutations.append((method, target))
            text = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden",
                               "message": "rollouts.argoproj.io \"canary-demo\" is forbidden: cannot patch "
                                          "resource \"rollouts\"", "code": 403}).encode()
            writer.write(f"HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\n"
                         f"content-length: {len(text)}\r\n\r\n".encode() + text)
            await writer.drain()
            return True
        return await super()._answer(method, target, headers, body, writer)


async def test_a_promote_fully_whose_second_patch_is_refused_is_not_reported_refused(tmp_path: Path) -> None:
    """Promote fully of a paused Argo rollout is two PATCHes, in the plugin's order: status.promoteFull (pinned),
    then spec.paused=false. The second one gets 403: the first one already fully promoted production, so the
    outcome must not read "refused" (the backend said no, it did not act)."""
    with KubeStandin(load_fixtures(fixtures_dir() / "canary")) as kube:
        kube.store.modify("Rollout", "jesse-test", "canary-demo", lambda o: o["spec"].update(paused=True))
        with _SpecPatchForbidden(kube.url) as proxy:
            config = kube.kubeconfig(tmp_path / "kubeconfig")
            config.write_text(config.read_text().replace(kube.url, proxy.url))
            async with argo_engine(config, tmp_path / "audit.log") as engine:
                await engine.refresh_once()
                [(_, rollout)] = engine.find("canary-demo")
                outcome = await engine.execute(engine.plan("k8s", rollout, ActionKind.PROMOTE_FULL))
        after = kube.store.get("Rollout", "jesse-test", "canary-demo")
    assert after is not None and after["status"].get("promoteFull") is True, "the first patch acted"
    assert outcome.outcome != "refused", f"reported refused although the backend acted: {outcome.message()}"
    assert AuditLog(tmp_path / "audit.log").outcomes()[-1]["outcome"] == "unknown"


async def test_an_argo_restart_sent_again_after_unknown_does_not_restart_twice(tmp_path: Path) -> None:
    """Kubernetes has no idempotency keys. A restart whose answer is lost is `unknown` and says there is no key to
    resend with; no resend is offered, so the pods restart once."""
    with KubeStandin(load_fixtures(fixtures_dir() / "canary")) as kube:
        with HostileProxy(kube.url, "close") as proxy:
            config = kube.kubeconfig(tmp_path / "kubeconfig")
            config.write_text(config.read_text().replace(kube.url, proxy.url))
            async with argo_engine(config, tmp_path / "audit.log") as engine:
                await engine.refresh_once()
                [(_, rollout)] = engine.find("canary-demo")
                first = await engine.execute(engine.plan("k8s", rollout, ActionKind.RESTART))
                assert first.outcome == "unknown" and "cannot act twice" not in first.message()
                assert "no idempotency key" in first.message()
                restarted_at = kube.store.get("Rollout", "jesse-test", "canary-demo")["spec"]["restartAt"]  # type: ignore[index]
                proxy.mode = "pass"
                # the operator resends a little later (restartAt has a one-second resolution)
                await wait_until(lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") != restarted_at,
                                 what="the next second")
                await engine.refresh_once()
                [(_, rollout)] = engine.find("canary-demo")
                plan = engine.plan("k8s", rollout, ActionKind.RESTART)
                assert not plan.resend, "Kubernetes has no idempotency keys: no resend is offered"
                assert not engine.pending_resend("k8s", rollout.id, ActionKind.RESTART)
        now = kube.store.get("Rollout", "jesse-test", "canary-demo")
        patches = [c for c in kube.store.calls if c.method == "PATCH" and b"restartAt" in c.body]
    assert now is not None
    assert len(patches) == 1 and now["spec"]["restartAt"] == restarted_at, (
        f"restarted twice: {len(patches)} restartAt patches, {restarted_at} then {now['spec']['restartAt']}")


class _ReplicaSetListFails(HostileProxy):
    """Passes everything through, except (once `failing`) the list of ReplicaSets: a 504 from the gateway."""

    failing = False

    async def _answer(self, method: str, target: str, headers: list[Any], body: bytes, writer: Any) -> bool:
        if self.failing and method == "GET" and "/replicasets" in target.split("?")[0]:
            text = b"<html>gateway timeout</html>"
            writer.write(f"HTTP/1.1 504 Gateway Timeout\r\ncontent-type: text/html\r\n"
                         f"content-length: {len(text)}\r\n\r\n".encode() + text)
            await writer.drain()
            return True
        return await super()._answer(method, target, headers, body, writer)


async def test_an_argo_rollback_that_sent_no_patch_is_not_outcome_unknown(tmp_path: Path) -> None:
    """An Argo roll back first lists the ReplicaSets (a GET) to find the template to go back to. When that read fails
    with a 5xx no mutating request has left: the outcome is not `unknown` and no resend is offered."""
    with KubeStandin(load_fixtures(fixtures_dir() / "canary")) as kube:
        with _ReplicaSetListFails(kube.url) as proxy:
            config = kube.kubeconfig(tmp_path / "kubeconfig")
            config.write_text(config.read_text().replace(kube.url, proxy.url))
            async with argo_engine(config, tmp_path / "audit.log") as engine:
                await engine.refresh_once()
                [(_, rollout)] = engine.find("canary-demo")
                proxy.failing = True
                outcome = await engine.execute(engine.plan("k8s", rollout, ActionKind.ROLLBACK))
                pending = engine.pending_resend("k8s", rollout.id, ActionKind.ROLLBACK)
        patches = [c for c in kube.store.calls if c.method == "PATCH"]
    assert patches == [] and proxy.mutations == [], "no mutating request left"
    assert outcome.outcome != "unknown" and not pending, outcome.message()


@pytest.fixture
def kube_canary() -> Any:
    with KubeStandin(load_fixtures(fixtures_dir() / "canary")) as server:
        yield server


async def test_an_argo_patch_carries_the_version_confirmed_not_the_one_cached_at_send_time(
        kube_canary: KubeStandin, tmp_path: Path) -> None:
    """A refresh (the TUI's watch, or a poll) lands between the confirmation and the send: the patch carries the
    resourceVersion that was confirmed, not the refreshed one, so a rollout that changed meanwhile is refused (409)."""
    kube = kube_canary
    async with argo_engine(kube.kubeconfig(tmp_path / "kubeconfig"), tmp_path / "audit.log") as engine:
        await engine.refresh_once()
        [(_, rollout)] = engine.find("canary-demo")
        plan = engine.plan("k8s", rollout, ActionKind.PAUSE)
        confirmed = kube.store.get("Rollout", "jesse-test", "canary-demo")["metadata"]["resourceVersion"]  # type: ignore[index]
        kube.store.modify("Rollout", "jesse-test", "canary-demo",
                          lambda o: o["status"].update(currentStepIndex=0))  # the controller moved on
        await engine.refresh_once()  # monotui sees it, the open dialog does not object
        outcome = await engine.execute(plan)
    [patch] = [c for c in kube.store.calls if c.method == "PATCH" and b"monotui.dev/last-action" not in c.body]
    sent = json.loads(patch.body)["metadata"]["resourceVersion"]
    assert sent == confirmed and outcome.outcome == "refused", (
        f"confirmed resourceVersion {confirmed}, sent {sent}: {outcome.message()}")


# ---- the audit log and the log beside it ------------------------------------------------------------------------


async def test_the_audit_log_is_not_written_through_a_symlinked_folder(sim: SimulatorServer,
                                                                       engine_for: Callable[..., Engine],
                                                                       tmp_path: Path) -> None:
    """O_NOFOLLOW guards only the last component: a state folder that is a symlink to somewhere else is refused as a
    whole, nothing is written there and nothing is sent."""
    canary(sim)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "state"
    link.symlink_to(elsewhere)
    async with engine_for(source(sim.url), audit_log=str(link / "audit.log")) as engine:
        outcome = await engine.execute(await planned(engine, ActionKind.PAUSE))
    assert not (elsewhere / "audit.log").exists(), "the audit log was written through a symlinked folder"
    assert outcome.outcome == "refused" and sim.state.mutating_requests() == []


def test_the_log_next_to_the_audit_log_follows_no_symlink_and_is_private(tmp_path: Path) -> None:
    """The TUI logs to monotui.log next to the audit log: that file follows no symlink and is private (0600), as the
    audit log is."""
    import logging

    from monotui.cli import _log_to_state_dir

    state = tmp_path / "state"
    state.mkdir()
    elsewhere = tmp_path / "elsewhere.log"
    (state / "monotui.log").symlink_to(elsewhere)
    settings = build_settings({"audit_log": str(state / "audit.log")})
    logger = logging.getLogger("monotui")
    before = list(logger.handlers)
    try:
        _log_to_state_dir(settings)
        logging.getLogger("monotui.engine.core").warning("action pause on prod/payments-api")
    finally:
        for handler in logger.handlers[len(before):]:
            handler.close()
            logger.removeHandler(handler)
    assert not elsewhere.exists(), "monotui.log was written through a symlink"
    (state / "monotui.log").unlink()
    try:
        _log_to_state_dir(settings)
        logging.getLogger("monotui.engine.core").warning("action pause on prod/payments-api")
    finally:
        for handler in logger.handlers[len(before):]:
            handler.close()
            logger.removeHandler(handler)
    assert "action pause" in (state / "monotui.log").read_text()
    assert (state / "monotui.log").stat().st_mode & 0o077 == 0, "monotui.log is readable by others"
