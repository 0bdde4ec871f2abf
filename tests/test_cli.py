"""Non-interactive commands: status (text and JSON), one-shot actions through the same engine and audit log."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from monotui.action_kinds import ActionKind
from monotui.cli import main
from monotui.engine.audit import AuditLog
from monotui.models import Phase, Strategy, replace
from monotui.simulator.kube_api import KubeStandin, load_fixtures
from monotui.simulator.server import SimulatorServer

from .argo_fixtures import fixtures_dir
from .conftest import ACTOR, make_world
from .hostile_proxy import HostileProxy


def config(tmp_path: Path, url: str, audit_path: Path, extra: str = "") -> str:
    path = tmp_path / "monotui.toml"
    path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n{extra}\n'
                    f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{url}"\ntimeout = 2\n')
    return str(path)


def test_status_prints_every_rollout(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--config", config(tmp_path, sim.url, audit_path)]) == 0
    out = capsys.readouterr().out
    assert "prod: ok" in out
    for rollout in sim.world.rollouts():
        assert rollout.service in out


def test_status_json(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                     capsys: pytest.CaptureFixture[str]) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    assert main(["status", "--json", "--config", config(tmp_path, sim.url, audit_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sources"] == [{"name": "prod", "state": "ok", "error": None, "read_only": False}]
    by_service = {r["service"]: r for r in data["rollouts"]}
    assert set(by_service) == {r.service for r in sim.world.rollouts()}
    assert by_service["cart-api"]["phase"] == "Progressing" and by_service["cart-api"]["source"] == "prod"
    assert by_service["cart-api"]["health"]["error_ratio"] >= 0


def test_status_exits_non_zero_when_a_source_is_unreachable(tmp_path: Path, audit_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["status", "--config", config(tmp_path, f"http://127.0.0.1:{port}", audit_path)]) == 1
    assert "cannot connect" in capsys.readouterr().out


def test_action_with_yes_is_sent_and_audited(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    code = main(["pause", "cart-api", "--yes", "--reason", "spike", "--config",
                 config(tmp_path, sim.url, audit_path)])
    assert code == 0
    assert "Pause cart-api" in capsys.readouterr().out
    assert sim.world.rollout("cart-api").phase is Phase.PAUSED
    [record] = AuditLog(audit_path).outcomes()
    assert (record["action"], record["outcome"], record["reason"]) == ("pause", "done", "spike")


def test_rollback_to_revision(sim: SimulatorServer, tmp_path: Path, audit_path: Path) -> None:
    before = sim.world.rollout("cart-api").revision
    assert main(["rollback", "cart-api", "--revision", str(before - 2), "--yes", "--config",
                 config(tmp_path, sim.url, audit_path)]) == 0
    assert sim.world.rollout("cart-api").revision == before - 2
    assert AuditLog(audit_path).outcomes()[0]["to_revision"] == before - 2


def test_without_yes_and_without_a_terminal_it_refuses(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    path = config(tmp_path, sim.url, audit_path)
    proc = subprocess.run([sys.executable, "-m", "monotui", "pause", "cart-api", "--config", path],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "stdin is not a terminal" in proc.stderr
    assert sim.state.mutating_requests() == []
    assert AuditLog(audit_path).outcomes()[0]["outcome"] == "refused"


def test_interactive_confirmation(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    path = config(tmp_path, sim.url, audit_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("no\n"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert main(["pause", "cart-api", "--config", path]) == 1
    assert sim.state.mutating_requests() == []
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert main(["pause", "cart-api", "--config", path]) == 0
    assert len(sim.state.mutating_requests()) == 1


def test_protected_service_needs_its_name(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    path = config(tmp_path, sim.url, audit_path, 'protected_services = ["cart-api"]')
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert main(["pause", "cart-api", "--config", path]) == 1
    monkeypatch.setattr(sys, "stdin", io.StringIO("cart-api\n"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert main(["pause", "cart-api", "--config", path]) == 0


def test_read_only_flag_sends_nothing(sim: SimulatorServer, tmp_path: Path, audit_path: Path) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    assert main(["pause", "cart-api", "--yes", "--read-only", "--config",
                 config(tmp_path, sim.url, audit_path)]) == 1
    assert sim.state.mutating_requests() == []
    assert AuditLog(audit_path).outcomes()[0]["outcome"] == "refused"


def test_unknown_service(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pause", "nope", "--yes", "--config", config(tmp_path, sim.url, audit_path)]) == 1
    assert "no rollout for service 'nope'" in capsys.readouterr().err


# ---- global options in any position ---------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["before", "after"])
def test_read_only_in_either_position_sends_nothing(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                                    where: str, capsys: pytest.CaptureFixture[str]) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    path = config(tmp_path, sim.url, audit_path)
    command = ["pause", "cart-api", "--yes", "--config", path]
    assert main(["--read-only", *command] if where == "before" else [*command, "--read-only"]) == 1
    assert sim.state.mutating_requests() == []
    assert sim.world.rollout("cart-api").phase is Phase.PROGRESSING
    assert "read-only" in capsys.readouterr().err
    [record] = AuditLog(audit_path).outcomes()
    assert record["outcome"] == "refused"


def test_config_before_the_command_wins_over_the_environment(sim: SimulatorServer, tmp_path: Path,
                                                             audit_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    staging_world = make_world()
    with SimulatorServer(staging_world, tick_interval=None) as staging:
        (tmp_path / "prod").mkdir()
        (tmp_path / "staging").mkdir()
        prod_config = config(tmp_path / "prod", sim.url, audit_path)
        staging_config = config(tmp_path / "staging", staging.url, audit_path)
        monkeypatch.setenv("MONOTUI_CONFIG", prod_config)
        before = staging_world.rollout("search-api").revision
        assert main(["--config", staging_config, "rollback", "search-api", "--yes"]) == 0
        assert staging_world.rollout("search-api").revision == before - 1
        assert len(staging.state.mutating_requests()) == 1
    assert sim.state.mutating_requests() == []  # production untouched


@pytest.mark.parametrize("argv", [
    ["--config", "{a}", "status", "--config", "{b}"],
    ["--config", "{a}", "--config", "{b}", "status"],
    ["status", "--config", "{a}", "--config", "{b}"],
    ["--config", "{a}", "pause", "cart-api", "--yes", "--config", "{b}"],
])
def test_config_given_twice_with_different_values_is_a_usage_error(
        sim: SimulatorServer, tmp_path: Path, audit_path: Path, argv: list[str],
        capsys: pytest.CaptureFixture[str]) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = config(tmp_path / "a", sim.url, audit_path), config(tmp_path / "b", sim.url, audit_path)
    assert main([arg.format(a=a, b=b) for arg in argv]) == 2
    err = capsys.readouterr().err
    assert "--config" in err and "different values" in err
    assert sim.state.mutating_requests() == []


@pytest.mark.parametrize("twice", [["--revision", "9", "--revision", "10"], ["--source", "prod", "--source", "x"],
                                   ["--confirm-name", "cart-api", "--confirm-name", "auth-api"]])
def test_an_action_option_given_twice_with_different_values_is_a_usage_error(
        sim: SimulatorServer, tmp_path: Path, audit_path: Path, twice: list[str],
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rollback", "cart-api", "--yes", *twice, "--config", config(tmp_path, sim.url, audit_path)]) == 2
    assert "given twice with different values" in capsys.readouterr().err
    assert sim.state.mutating_requests() == []


def test_the_same_config_twice_is_fine(sim: SimulatorServer, tmp_path: Path, audit_path: Path) -> None:
    path = config(tmp_path, sim.url, audit_path)
    assert main(["--config", path, "status", "--config", path]) == 0


@pytest.mark.parametrize("argv", [["--config", "x.toml", "simulate"], ["--read-only", "kube-standin"],
                                  ["--read-only", "completion", "bash"]])
def test_a_global_option_a_command_cannot_use_is_refused(argv: list[str]) -> None:
    # a subprocess with a deadline: ignoring the option used to start a server that never returned
    proc = subprocess.run([sys.executable, "-m", "monotui", *argv], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert "does not apply" in proc.stderr


# ---- protected services and --yes -----------------------------------------------------------------------------


def test_yes_on_a_protected_service_needs_its_name(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    path = config(tmp_path, sim.url, audit_path, 'protected_services = ["cart-api"]')
    assert main(["pause", "cart-api", "--yes", "--config", path]) == 2
    assert "--confirm-name cart-api" in capsys.readouterr().err
    assert main(["pause", "cart-api", "--yes", "--confirm-name", "cart-apj", "--config", path]) == 2
    assert "does not name 'cart-api'" in capsys.readouterr().err
    assert sim.state.mutating_requests() == []
    assert [r["outcome"] for r in AuditLog(audit_path).outcomes()] == ["refused", "refused"]
    assert main(["pause", "cart-api", "--yes", "--confirm-name", "cart-api", "--config", path]) == 0
    assert sim.world.rollout("cart-api").phase is Phase.PAUSED
    assert AuditLog(audit_path).outcomes()[-1]["confirmed_by"] == "yes-flag+confirm-name"


def test_a_look_alike_of_a_protected_service_is_protected(tmp_path: Path, audit_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    impostor = "ledger-api\u200b"
    world = make_world(names=(impostor,))
    world.deploy(impostor, strategy=Strategy.CANARY)
    with SimulatorServer(world, tick_interval=None) as server:
        path = config(tmp_path, server.url, audit_path, 'protected_services = ["ledger-api"]')
        assert main(["pause", "ledger-api", "--yes", "--config", path]) == 2
        out = capsys.readouterr()
        assert "ledger-api<U+200B>" in out.out  # the plan names it with the invisible character shown
        assert "ledger-api<U+200B> is a protected service" in out.err
        assert out.err.rstrip().endswith("--confirm-name ledger-api. Nothing was sent.")  # what can be typed
        assert server.state.mutating_requests() == []
        assert main(["pause", "ledger-api", "--yes", "--confirm-name", "ledger-api", "--config", path]) == 0
        assert world.rollout(impostor).phase is Phase.PAUSED


def type_at_prompt(monkeypatch: pytest.MonkeyPatch, answer: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(answer + "\n"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)


def test_typed_name_is_compared_canonically(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    path = config(tmp_path, sim.url, audit_path, 'protected_services = ["cart-api"]')
    type_at_prompt(monkeypatch, "cart-api\u200b")
    assert main(["pause", "cart-api", "--config", path]) == 0
    assert sim.world.rollout("cart-api").phase is Phase.PAUSED
    assert AuditLog(audit_path).outcomes()[-1]["confirmed_by"] == "typed-name"


@pytest.mark.parametrize(("argv", "answer", "confirmed_by"), [
    (["--yes"], None, "yes-flag"),
    ([], "yes", "prompt"),
])
def test_the_audit_record_says_how_the_action_was_confirmed(
        sim: SimulatorServer, tmp_path: Path, audit_path: Path, monkeypatch: pytest.MonkeyPatch,
        argv: list[str], answer: str | None, confirmed_by: str) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    if answer is not None:
        type_at_prompt(monkeypatch, answer)
    assert main(["pause", "cart-api", *argv, "--config", config(tmp_path, sim.url, audit_path)]) == 0
    [record] = AuditLog(audit_path).outcomes()
    assert (record["outcome"], record["confirmed_by"]) == ("done", confirmed_by)


def test_running_a_lost_rollback_twice_from_the_command_line_rolls_back_once(
        sim: SimulatorServer, tmp_path: Path, audit_path: Path) -> None:
    """`monotui rollback X --yes` twice through a proxy that loses answers rolls back once (r12 → r11, never → r10)."""
    start = sim.world.rollout("search-api").revision
    with HostileProxy(sim.url, "close") as proxy:
        path = config(tmp_path, proxy.url, audit_path)
        argv = [sys.executable, "-m", "monotui", "rollback", "search-api", "--yes", "--config", path]
        first = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        assert first.returncode == 1 and "outcome unknown" in first.stderr
        assert sim.world.rollout("search-api").revision == start - 1  # it did act
        proxy.mode = "pass"
        second = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert "sent again" in second.stdout and "same key" in second.stdout
    assert sim.world.rollout("search-api").revision == start - 1, "rolled back once"
    records = AuditLog(audit_path).outcomes()
    assert [r["outcome"] for r in records] == ["unknown", "done"]
    assert len({r["idempotency_key"] for r in records}) == 1


def test_protected_without_a_terminal_says_what_to_pass(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    path = config(tmp_path, sim.url, audit_path, 'protected_services = ["cart-api"]')
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["pause", "cart-api", "--config", path]) == 2
    assert "pass --yes --confirm-name cart-api" in capsys.readouterr().err
    assert sim.state.mutating_requests() == []


# ---- what cannot apply is refused before sending --------------------------------------------------------------


def test_promote_of_a_finished_rollout_is_refused_before_sending(sim: SimulatorServer, tmp_path: Path,
                                                                 audit_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert sim.world.rollout("cart-api").phase is Phase.HEALTHY
    assert main(["promote", "cart-api", "--yes", "--config", config(tmp_path, sim.url, audit_path)]) == 1
    out = capsys.readouterr()
    assert "promote needs a paused or progressing rollout (cart-api is Healthy)" in out.err
    assert "Nothing was sent" in out.err
    assert "step" not in out.out and "→" not in out.out  # no plan printed
    assert sim.state.mutating_requests() == []
    [record] = AuditLog(audit_path).outcomes()
    assert (record["action"], record["outcome"]) == ("promote", "refused")
    assert "needs a paused or progressing" in record["error"]


def test_an_action_the_source_cannot_do_is_refused_before_sending(sim: SimulatorServer, tmp_path: Path,
                                                                  audit_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["restart", "cart-api", "--yes", "--config", config(tmp_path, sim.url, audit_path)]) == 1
    assert "source prod cannot restart" in capsys.readouterr().err
    assert sim.state.mutating_requests() == []


def test_promote_plan_never_counts_past_the_last_step(sim: SimulatorServer) -> None:
    from monotui.engine.actions import plan_action

    rollout = sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    steps = len(rollout.steps)
    last = replace(rollout, current_step=steps - 1)
    effect = plan_action("prod", last, ActionKind.PROMOTE).effect
    # the step as the Step column shows it (steps completed: 0/n at the first step, n/n once done)
    assert f"step {steps - 1}/{steps} → {steps}/{steps}, done" in effect and f"{steps + 1}/{steps}" not in effect
    first = replace(rollout, current_step=0)
    assert f"step 0/{steps} → 1/{steps}" in plan_action("prod", first, ActionKind.PROMOTE).effect


# ---- one name, several rollouts -------------------------------------------------------------------------------


def argo_config(tmp_path: Path, kubeconfig: Path, audit_path: Path, names: tuple[str, ...] = ("standin",)) -> str:
    path = tmp_path / "argo.toml"
    path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n' + "".join(
        f'[[sources]]\nname = "{name}"\nkind = "argo-rollouts"\nkubeconfig = "{kubeconfig}"\ntimeout = 5\n'
        for name in names))
    return str(path)


def kube_patches(kube: KubeStandin) -> list[str]:
    return [c.path for c in kube.store.calls if c.method == "PATCH" and b"monotui.dev/last-action" not in c.body]


def test_same_name_in_two_namespaces_lists_both_and_the_id_picks_one(tmp_path: Path, audit_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    with KubeStandin(load_fixtures(fixtures_dir())) as kube:
        path = argo_config(tmp_path, kube.kubeconfig(tmp_path / "kubeconfig"), audit_path)
        assert main(["restart", "canary-demo", "--yes", "--config", path]) == 2
        err = capsys.readouterr().err
        assert "matches 2 rollouts" in err
        assert "jesse-test/canary-demo  (service canary-demo, source standin" in err
        assert "jesse-test-experiment-step/canary-demo  (service canary-demo, source standin" in err
        assert "monotui restart jesse-test/canary-demo" in err
        assert kube_patches(kube) == []
        assert main(["restart", "jesse-test-experiment-step/canary-demo", "--yes", "--config", path]) == 0
        assert kube_patches(kube) == [
            "/apis/argoproj.io/v1alpha1/namespaces/jesse-test-experiment-step/rollouts/canary-demo"]


def test_same_rollout_in_two_sources_needs_source(tmp_path: Path, audit_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    with KubeStandin(load_fixtures(fixtures_dir() / "canary")) as kube:
        path = argo_config(tmp_path, kube.kubeconfig(tmp_path / "kubeconfig"), audit_path, ("east", "west"))
        assert main(["restart", "jesse-test/canary-demo", "--yes", "--config", path]) == 2
        err = capsys.readouterr().err
        assert "source east" in err and "source west" in err and "--source" in err
        assert kube_patches(kube) == []
        assert main(["restart", "jesse-test/canary-demo", "--source", "west", "--yes", "--config", path]) == 0
        assert len(kube_patches(kube)) == 1
        [record] = AuditLog(audit_path).outcomes()
        assert (record["source"], record["rollout"], record["outcome"]) == ("west", "jesse-test/canary-demo", "done")


def test_unknown_source_is_a_usage_error(sim: SimulatorServer, tmp_path: Path, audit_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pause", "cart-api", "--source", "nope", "--yes", "--config",
                 config(tmp_path, sim.url, audit_path)]) == 2
    assert "no source named 'nope'" in capsys.readouterr().err
