"""`monotui diff SERVICE [FROM [TO]]`: what changed between two revisions, unified-diff style — by default the stable
revision against the current one — naming the image change; secret-looking values shown as changed and never
printed; colour only on a terminal, and the +/- signs always (NO_COLOR)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from monotui.cli import main
from monotui.cli_history import use_colour
from monotui.revisions import Revision, RevisionChanges, diff, template_lines
from monotui.simulator.kube_api import KubeStandin, load_fixtures
from monotui.simulator.server import SimulatorServer

from .argo_fixtures import fixtures_dir
from .conftest import ACTOR
from .test_revision_history import SERVICE, staged_world

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def staged() -> Iterator[SimulatorServer]:
    with SimulatorServer(staged_world(), tick_interval=None) as server:
        yield server


def http_config(tmp_path: Path, url: str, audit_path: Path) -> str:
    path = tmp_path / "monotui.toml"
    path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n'
                    f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{url}"\ntimeout = 2\n')
    return str(path)


def test_diff_names_the_image_change_between_two_revisions(
        staged: SimulatorServer, tmp_path: Path, audit_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = http_config(tmp_path, staged.url, audit_path)
    history = staged.world.services[SERVICE].history
    r12, r13 = (next(r for r in history if r.revision == n) for n in (12, 13))
    assert main(["diff", SERVICE, "12", "r13", "--config", path]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [f"--- r12 ({r12.version})", f"+++ r13 ({r13.version})"]
    assert f"- image: {r12.image}" in out and f"+ image: {r13.image}" in out
    assert any(line.startswith("  commits: ") for line in out)
    assert "\x1b[" not in "".join(out)  # not a terminal: no colour
    # a revision it does not have, and one that is not a number
    assert main(["diff", SERVICE, "99", "--config", path]) == 1
    assert main(["diff", SERVICE, "twelve", "--config", path]) == 2


def test_diff_without_revisions_compares_the_stable_one_with_the_current_one(
        tmp_path: Path, audit_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = staged_world()
    world.deploy(SERVICE)  # r16 in progress; r14 is stable
    with SimulatorServer(world, tick_interval=None) as sim:
        assert main(["diff", SERVICE, "--config", http_config(tmp_path, sim.url, audit_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("--- r14 (") and "\n+++ r16 (" in out and "\n+ image: " in out


def test_argo_diff_against_the_kubernetes_standin_names_the_image(
        tmp_path: Path, audit_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with KubeStandin(load_fixtures(fixtures_dir())) as kube:
        path = tmp_path / "monotui.toml"
        path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit_path}"\n[[sources]]\nname = "k8s"\n'
                        f'kind = "argo-rollouts"\ncontext = "standin"\ntimeout = 5\n'
                        f'kubeconfig = "{kube.kubeconfig(tmp_path / "kubeconfig")}"\n')
        assert main(["diff", "jesse-test/canary-demo", "--config", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["--- r30 (green)", "+++ r31 (does-not-exist)"]
    assert "- image[canary-demo]: argoproj/rollouts-demo:green" in out
    assert "+ image[canary-demo]: argoproj/rollouts-demo:does-not-exist" in out


SECRET_REF = {"name": "DB_URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}}


def _template(image: str, env: dict[str, str], args: list[str], cpu: str) -> dict[str, object]:
    return {"metadata": {"labels": {"app": "api", "rollouts-pod-template-hash": image},
                         "annotations": {"team": "payments"}},
            "spec": {"containers": [{"name": "app", "image": image, "args": args,
                                     "env": [{"name": k, "value": v} for k, v in env.items()]
                                     + [SECRET_REF],
                                     "resources": {"requests": {"cpu": cpu}}}]}}


def test_secret_looking_values_show_as_changed_and_are_never_kept_or_printed() -> None:
    old = Revision(revision=1, version="v1", template=template_lines(_template(
        "api:v1", {"LOG_LEVEL": "info", "DB_PASSWORD": "hunter2", "API_KEY": "k-old"}, ["--port", "80"], "100m")))
    new = Revision(revision=2, version="v2", changes=RevisionChanges(commit_range="a..b", config_keys=["DB_TOKEN"]),
                   template=template_lines(_template(
                       "api:v2", {"LOG_LEVEL": "debug", "DB_PASSWORD": "correct horse", "API_KEY": "k-old"},
                       ["--port", "8080"], "250m")))
    assert "hunter2" not in repr(old) and "correct horse" not in repr(new)  # only a digest is kept
    lines = [line.text() for line in diff(old, new).lines]
    assert "- image[app]: api:v1" in lines and "+ image[app]: api:v2" in lines
    assert "- args[app]: --port 80" in lines and "+ args[app]: --port 8080" in lines
    assert "- env[app].LOG_LEVEL: info" in lines and "+ env[app].LOG_LEVEL: debug" in lines
    assert "~ env[app].DB_PASSWORD: (secret value changed; not shown)" in lines
    assert not any("API_KEY" in line for line in lines)  # the same secret: no line
    assert "- container[app].resources.requests.cpu: 100m" in lines
    assert "~ config.DB_TOKEN: changed (value not shown)" in lines
    assert not any("hunter2" in line or "correct horse" in line or "k-old" in line for line in lines)
    assert template_lines(_template("x", {}, [], "1"))["env[app].DB_URL"] == "from secretKeyRef db/url"
    assert "label.rollouts-pod-template-hash" not in old.template and old.template["annotation.team"] == "payments"


class _Tty:
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_under_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(_Tty()) and not use_colour(object())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(_Tty())


@pytest.mark.parametrize("no_color", [False, True])
def test_on_a_real_terminal_the_diff_is_coloured_unless_no_color(
        staged: SimulatorServer, tmp_path: Path, audit_path: Path, no_color: bool) -> None:
    path = http_config(tmp_path, staged.url, audit_path)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"PYTHONPATH": str(ROOT)}
    if no_color:
        env["NO_COLOR"] = "1"
    leader, follower = pty.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "monotui", "diff", SERVICE, "12", "13", "--config", path],
                              stdout=follower, stderr=subprocess.PIPE, env=env, timeout=120, check=False)
        os.close(follower)
        follower = -1
        out = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end closed: everything was read
                break
            if not chunk:
                break
            out += chunk
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert done.returncode == 0, done.stderr
    text = out.decode()
    assert ("\x1b[31m- image: " in text and "\x1b[32m+ image: " in text) is not no_color
    plain = text.replace("\x1b[31m", "").replace("\x1b[32m", "").replace("\x1b[33m", "").replace("\x1b[1m", "")
    assert "\n- image: " in plain.replace("\r", "") and "\n+ image: " in plain.replace("\r", "")
    if no_color:
        assert "\x1b[" not in text


def test_revisions_further_apart_name_every_commit_and_key_between_them_in_either_direction() -> None:
    def rev(n: int, start: str, end: str, commits: int, keys: list[str]) -> Revision:
        return Revision(revision=n, version=f"v{n}", commit=end,
                        changes=RevisionChanges(commit_range=f"{start}..{end}", commits=commits, config_keys=keys))

    listed = [rev(14, "c13", "c14", 2, ["CACHE_TTL_S"]), rev(13, "c12", "c13", 4, ["FEATURE_NEW_CHECKOUT"]),
              rev(12, "c11", "c12", 1, ["POOL_SIZE"])]
    r12, r14 = listed[2], listed[0]
    forward = [(d.sign, d.key, d.value) for d in diff(r12, r14, listed).lines]
    assert (" ", "commits", "c12..c14 (6 commits)") in forward  # r13's commits too, not only r14's own
    assert {k for s, k, _ in forward if s == "~"} == {"config.CACHE_TTL_S", "config.FEATURE_NEW_CHECKOUT"}
    backward = [(d.sign, d.key, d.value) for d in diff(r14, r12, listed).lines if d.key.startswith(("commits",
                                                                                                     "config."))]
    assert backward == [x for x in forward if x[1].startswith(("commits", "config."))]
    # a step the server says nothing of: no range is made up
    gap = [listed[0], Revision(revision=13, version="v13", commit="c13"), listed[2]]
    assert not [d for d in diff(r12, r14, gap).lines if d.key == "commits"]
