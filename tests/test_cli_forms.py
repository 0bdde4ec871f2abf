"""Every `monotui` command line the README documents, run as a user runs it — in a subprocess (the TUI forms in a
real pseudo-terminal), against the simulator or the Kubernetes API stand-in on loopback — with the global options
both before and after the command, asserting what the user sees and what the servers received."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from monotui import __version__
from monotui.action_kinds import ROLLOUT_ACTIONS
from monotui.engine.audit import AuditLog
from monotui.models import Phase, Strategy
from monotui.simulator.kube_api import KubeStandin, synthetic
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import SimConfig, World

from .argo_fixtures import fixtures_dir
from .conftest import ACTOR
from .terminal import Terminal

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CONFIG_PLACEHOLDERS = ("path/to/config.toml", "c.toml")
READS_NO_CONFIG = {"simulate", "kube-standin", "completion"}

# Each documented form, and the test that runs it.
FORMS = {
    "monotui": "tui",
    "monotui --config path/to/config.toml": "tui",
    "monotui --read-only": "tui",
    "monotui demo": "tui",
    "monotui demo --read-only": "tui",
    "monotui demo --prometheus": "tui",
    "monotui --config /tmp/argo.toml": "argo",
    "monotui kube-standin --fixtures ../shared/fixtures/argo-rollouts --kubeconfig-out /tmp/standin.kubeconfig":
        "argo",
    "monotui status --json": "status",
    "monotui status --source prod": "status",
    "monotui status --watch": "status-watch",  # run in a real terminal by tests/test_status_watch.py
    "monotui --config c.toml status": "status",
    "monotui status --config c.toml": "status",
    "monotui pause cart-api --yes --reason \"error spike\"": "action",
    "monotui rollback payments-api --yes --confirm-name payments-api": "action",
    "monotui rollback checkout-api --reason \"error spike\"": "action",
    "monotui abort prod/cart-api --source east --yes": "argo-action",
    "monotui --help": "help",
    "monotui completion bash": "completion",
    "monotui completion fish > ~/.config/fish/completions/monotui.fish": "completion",
    "monotui simulate --port 8700": "simulate",
    "monotui demo --port 8700 --write-config /tmp/demo.toml": "demo-port",
    "monotui status --json --config /tmp/demo.toml": "demo-port",
    # run as written against a live simulator by tests/test_readme_demo_commands.py
    "monotui demo --port 8700 --print-config > /tmp/demo.toml": "demo-config",
    "monotui flags --json --config /tmp/demo.toml": "demo-config",
    "monotui rollback payments-api --config /tmp/demo.toml --yes --confirm-name payments-api": "demo-config",
    "monotui serve --config path/to/config.toml": "serve",  # run in a browser by tests/test_serve.py
    "monotui serve --follow": "serve-follow",  # run in a browser by tests/test_serve_follow.py
    "monotui flags --json": "flags",
    "monotui flag off new-checkout --yes --reason \"error spike\"": "flag-action",
    "monotui demo --unleash": "demo-unleash",
    "monotui config init": "config",
    "monotui config check": "config",
    "monotui config init --path P": "config",
    "monotui config check --config P": "config",
    "monotui config schema": "config",
    "monotui freeze --yes --reason \"checkout errors\"": "freeze",
    "monotui freeze --service cart-api --source prod --yes": "freeze",
    "monotui unfreeze --yes": "freeze",
    "monotui history cart-api": "history",
    "monotui diff cart-api": "history",
    "monotui diff cart-api 11 12": "history",
}


def documented_forms() -> set[str]:
    """Command lines in the README's sh blocks (and their `# or: …` comments) and in inline code."""
    text = README.read_text()
    forms: set[str] = set()
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.splitlines():
            command, _, comment = line.partition(" #")
            for part in [*command.split("&&"), *re.findall(r"or: (?:\.venv/bin/)?(monotui .*)", comment)]:
                part = part.strip().removeprefix(".venv/bin/").rstrip("&").strip()
                if part.startswith("monotui"):
                    forms.add(part)
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    spans = (span.removeprefix(".venv/bin/") for span in re.findall(r"`([^`\n]+)`", prose))
    forms |= {span for span in spans if span.startswith("monotui")}
    return forms


def forms(kind: str) -> list[str]:
    return [form for form, family in FORMS.items() if family == kind]


def test_every_documented_form_is_run_here() -> None:
    assert documented_forms() == set(FORMS)


# ---- helpers --------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def split(form: str, substitutions: dict[str, str]) -> list[str]:
    return [substitutions.get(arg, arg) for arg in shlex.split(form)[1:]]


def positions(argv: list[str], config: str | None) -> list[list[str]]:
    """The form with its global options before the command and after it (a `--config` added when it has none).
    A form without a command (the TUI) has one position."""
    globals_: list[str] = []
    rest: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--config":
            globals_ += [arg, next(args)]
        elif arg == "--read-only":
            globals_.append(arg)
        else:
            rest.append(arg)
    if config and "--config" not in globals_:
        globals_ += ["--config", config]
    if not rest or rest[0] in READS_NO_CONFIG:
        return [globals_ + rest]
    return [globals_ + rest, rest + globals_]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A user with no config of their own (every test names its config), state in a temporary folder."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MONOTUI_")}
    return {**clean, "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"), "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
            "HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}


def run(argv: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monotui", *argv], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120, stdin=subprocess.DEVNULL, **kwargs)


def write_config(path: Path, url: str, audit: Path, extra: str = "") -> str:
    path.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit}"\n{extra}\n'
                    f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{url}"\ntimeout = 5\n')
    return str(path)


@pytest.fixture
def production() -> Iterator[SimulatorServer]:
    world = World(SimConfig(services=8, seed=3, deploy_interval=0))
    world.deploy("cart-api", strategy=Strategy.CANARY)
    with SimulatorServer(world, tick_interval=None) as server:
        yield server


# ---- help, version, completion --------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_every_command_with_a_description(flag: str, env: dict[str, str]) -> None:
    assert forms("help") == ["monotui --help"]
    proc = run([flag], env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: monotui [OPTIONS] [COMMAND]")
    commands = {"demo", "simulate", "kube-standin", "serve", "status", "flags", "flag", "completion", "config",
                "freeze", "unfreeze", "timeline", "history", "diff", "logs", *(s.kind.value for s in ROLLOUT_ACTIONS)}
    listed = dict(re.findall(r"^  ([a-z-]+) +(\S.*)$", proc.stdout.split("Commands:")[1].split("\n\n")[0], re.M))
    assert set(listed) == commands
    assert all(description.strip() for description in listed.values())
    assert "--config" in proc.stdout and "--read-only" in proc.stdout and "--version" in proc.stdout


def test_help_does_not_import_the_tui_kubernetes_or_the_simulator(env: dict[str, str]) -> None:
    code = ("import sys\nfrom monotui.cli import main\nassert main(['--help']) == 0\n"
            "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('textual', 'kr8s')}"
            " | {m for m in sys.modules if m.startswith('monotui.simulator')}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("form", forms("completion"))
def test_completion_script(form: str, env: dict[str, str]) -> None:
    argv = shlex.split(form)[1:]
    shell = argv[1]
    proc = run(argv[:2], env)  # the documented redirection is the shell's, not monotui's
    assert proc.returncode == 0, proc.stderr
    assert "_MONOTUI_COMPLETE" in proc.stdout
    assert {"bash": "complete -o nosort -F", "fish": "complete --no-files --command monotui"}[shell] in proc.stdout


def test_clicks_completion_variable_gives_the_same_script(env: dict[str, str]) -> None:
    script = run(["completion", "bash"], env).stdout
    assert run([], {**env, "_MONOTUI_COMPLETE": "bash_source"}).stdout.rstrip() == script.rstrip()


def test_completion_completes_commands_and_options(env: dict[str, str]) -> None:
    completing = {**env, "_MONOTUI_COMPLETE": "bash_complete", "COMP_WORDS": "monotui pro", "COMP_CWORD": "1"}
    proc = run([], completing)
    assert {"plain,promote", "plain,promote-full"} <= set(proc.stdout.split()), proc.stdout
    completing.update(COMP_WORDS="monotui pause cart-api --con", COMP_CWORD="3")
    assert set(run([], completing).stdout.split()) == {"plain,--config", "plain,--confirm-name"}


def test_version_before_or_after_a_command(env: dict[str, str]) -> None:
    for argv in (["--version"], ["status", "--version"]):
        proc = run(argv, env)
        assert (proc.returncode, proc.stdout.strip()) == (0, f"monotui {__version__}"), proc.stderr
    assert importlib.metadata.version("monotui") == __version__  # the package's metadata reads the same one place


def test_every_command_has_help_with_global_options_anywhere(tmp_path: Path, env: dict[str, str]) -> None:
    config = write_config(tmp_path / "c.toml", "http://127.0.0.1:9", tmp_path / "audit.log")
    # in one process, so that twenty commands do not cost twenty interpreters
    code = (f"import sys\nfrom monotui.cli import main, cli\nfor name in cli.commands:\n"
            f"    glob = [] if name in {sorted(READS_NO_CONFIG)!r} else ['--config', {config!r}]\n"
            "    for argv in ([*glob, name, '--help'], [name, '-h', *glob]):\n"
            "        code = main(argv)\n"
            "        print('EXIT', name, code)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    exits = re.findall(r"^EXIT (\S+) (\d+)$", proc.stdout, re.M)
    assert len(exits) == 2 * 23 and all(code == "0" for _, code in exits), proc.stdout
    usages = re.findall(r"^Usage: monotui ([a-z-]+) ", proc.stdout, re.M)
    assert sorted(usages) == sorted(name for name, _ in exits)


# ---- status ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", forms("status"))
def test_status_forms(form: str, production: SimulatorServer, tmp_path: Path, env: dict[str, str]) -> None:
    config = write_config(tmp_path / "config.toml", production.url, tmp_path / "audit.log")
    argv = split(form, dict.fromkeys(CONFIG_PLACEHOLDERS, config))
    runs = [(argv, {**env, "MONOTUI_CONFIG": config})] if "--config" not in argv else []
    # --config really selects the file: $MONOTUI_CONFIG names a file that does not exist
    runs += [(variant, {**env, "MONOTUI_CONFIG": str(tmp_path / "absent.toml")}) for variant in positions(argv, config)]
    for variant, variant_env in runs:
        proc = run(variant, variant_env)
        assert proc.returncode == 0, (variant, proc.stderr)
        if "--json" in variant:
            data = json.loads(proc.stdout)
            assert [s["name"] for s in data["sources"]] == ["prod"]
            assert {r["service"] for r in data["rollouts"]} == {r.service for r in production.world.rollouts()}
        else:
            assert "prod: ok" in proc.stdout and "cart-api" in proc.stdout


# ---- history and diff -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", forms("history"))
def test_history_forms(form: str, production: SimulatorServer, tmp_path: Path, env: dict[str, str]) -> None:
    config = write_config(tmp_path / "config.toml", production.url, tmp_path / "audit.log")
    for variant in positions(split(form, {}), config):
        proc = run(variant, {**env, "MONOTUI_CONFIG": str(tmp_path / "absent.toml")})
        assert proc.returncode == 0, (variant, proc.stderr)
        if "history" in variant:
            assert "revisions, newest first" in proc.stdout and "r12" in proc.stdout
        else:
            assert proc.stdout.startswith("--- r") and "\n+++ r" in proc.stdout and "\n+ image: " in proc.stdout


# ---- actions --------------------------------------------------------------------------------------------------


def _sent(production: SimulatorServer, service: str) -> list[str]:
    return [r.path for r in production.state.mutating_requests() if f"/rollouts/{service}/" in r.path]


@pytest.mark.parametrize("form", forms("action"))
@pytest.mark.parametrize("where", [0, 1], ids=["options-before", "options-after"])
def test_action_forms(form: str, where: int, production: SimulatorServer, tmp_path: Path,
                      env: dict[str, str]) -> None:
    audit = tmp_path / "audit.log"
    config = write_config(tmp_path / "config.toml", production.url, audit, 'protected_services = ["payments-api"]')
    argv = split(form, {})
    service = argv[1]
    before = production.world.rollout(service)

    # --read-only in the same position: nothing is sent, whatever else the form says
    read_only = positions([*argv, "--read-only"], config)[where]
    proc = run(read_only, env)
    assert proc.returncode == 1, proc.stderr
    assert "read-only" in proc.stderr
    assert _sent(production, service) == []

    variant = positions(argv, config)[where]
    if "--yes" in argv:
        proc = run(variant, env)
        assert proc.returncode == 0, proc.stderr
        assert f"{service} (prod): done" in proc.stdout
    else:  # asks first: the person types yes at the prompt
        with Terminal(variant, env, cwd=ROOT) as term:
            term.wait_for(f"Type 'yes' to {argv[0].replace('rollback', 'roll back')} {service}")
            term.type("yes\n")
            assert term.wait_exit() == 0
            assert f"{service} (prod): done" in term.text
    assert len(_sent(production, service)) == 1
    after = production.world.rollout(service)
    if argv[0] == "pause":
        assert after.phase is Phase.PAUSED
    else:
        assert after.revision < before.revision
    records = AuditLog(audit).outcomes()
    assert [r["outcome"] for r in records] == ["refused", "done"]
    if "--reason" in argv:
        assert records[-1]["reason"] == "error spike"


@pytest.mark.parametrize("form", forms("freeze"))
@pytest.mark.parametrize("where", [0, 1], ids=["options-before", "options-after"])
def test_freeze_forms(form: str, where: int, production: SimulatorServer, tmp_path: Path,
                      env: dict[str, str]) -> None:
    audit = tmp_path / "audit.log"
    config = write_config(tmp_path / "config.toml", production.url, audit)
    argv = split(form, {})
    unfreeze = argv[0] == "unfreeze"
    progressing = [r for r in production.world.rollouts() if r.phase is Phase.PROGRESSING]
    if unfreeze:
        production.world.set_freeze("alice@bastion-2", "incident")

    proc = run(positions([*argv, "--read-only"], config)[where], env)  # read-only: refused like any action
    assert proc.returncode == 1 and "read-only" in proc.stderr, proc.stderr
    assert production.state.mutating_requests() == []

    proc = run(positions(argv, config)[where], env)
    assert proc.returncode == 0, proc.stderr
    if unfreeze:
        assert "source prod: unfrozen" in proc.stdout and not production.world.freeze.frozen
        return
    moving = 1 if "--service" in argv else len(progressing)
    assert "pause cart-api (prod)" in proc.stdout and f"{moving} of {moving} rollout(s) paused" in proc.stdout
    assert production.world.freeze.frozen and production.world.rollout("cart-api").phase is Phase.PAUSED
    outcomes = [(r["action"], r["outcome"]) for r in AuditLog(audit).outcomes()]
    assert outcomes == [("freeze", "refused"), *[("pause", "refused")] * moving, ("freeze", "done"),
                        *[("pause", "done")] * moving]
    if "--reason" in argv:
        assert production.world.freeze.reason == "checkout errors"


def renamed_rollout(namespace: str, name: str) -> list[dict[str, Any]]:
    """One progressing canary (a generated one, renamed), with its ReplicaSets."""
    text = json.dumps(synthetic(1, 1)).replace("svc-00000", name).replace("team-00", namespace)
    return list(json.loads(text))


@pytest.mark.parametrize("where", [0, 1], ids=["options-before", "options-after"])
def test_argo_action_form(where: int, tmp_path: Path, env: dict[str, str]) -> None:
    [form] = forms("argo-action")
    with KubeStandin(renamed_rollout("prod", "cart-api") + renamed_rollout("staging", "cart-api")) as kube:
        kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig")
        audit = tmp_path / "audit.log"
        config = tmp_path / "config.toml"
        config.write_text(f'actor = "{ACTOR}"\naudit_log = "{audit}"\n' + "".join(
            f'[[sources]]\nname = "{name}"\nkind = "argo-rollouts"\nkubeconfig = "{kubeconfig}"\ntimeout = 5\n'
            for name in ("east", "west")))
        argv = split(form, {})
        ambiguous = run(positions([a for a in argv if a not in ("--source", "east")], str(config))[where], env)
        assert ambiguous.returncode == 2
        assert "source east" in ambiguous.stderr and "source west" in ambiguous.stderr
        proc = run(positions(argv, str(config))[where], env)
        assert proc.returncode == 0, proc.stderr
        patched = [c.path for c in kube.store.calls if c.method == "PATCH"
                   and b"monotui.dev/last-action" not in c.body]
        assert patched == ["/apis/argoproj.io/v1alpha1/namespaces/prod/rollouts/cart-api/status"]  # as the plugin
        [record] = AuditLog(audit).outcomes()
        assert (record["source"], record["rollout"], record["action"], record["outcome"]) == (
            "east", "prod/cart-api", "abort", "done")


# ---- feature flags --------------------------------------------------------------------------------------------


def flag_config(path: Path, production: SimulatorServer, audit: Path) -> str:
    """The deploy source and the simulator's Unleash Admin API as a flag source, with a flag `new-checkout` of
    cart-api that is on (the README's examples)."""
    flags = production.world.flags
    flags.create("default", "new-checkout")
    flags.tag("new-checkout", "service", "cart-api")
    flags.add_strategy("default", "new-checkout", "production", "flexibleRollout", {"rollout": 50})
    flags.set_enabled("default", "new-checkout", "production", True, actor="dana")
    write_config(path, production.url, audit)
    path.write_text(path.read_text() + f'[[sources]]\nname = "flags"\nkind = "unleash"\nurl = "{production.url}"\n'
                    'timeout = 5\n')
    return str(path)


def _flag_changes(production: SimulatorServer) -> list[str]:
    """The changes the flag server recorded for new-checkout after the set-up (who, what)."""
    events = [e for e in production.world.flags.events if e["featureName"] == "new-checkout"]
    return [f"{e['createdBy']} {e['type']}" for e in events[4:]]  # created, tagged, strategy, enabled: set-up


def test_flags_form(production: SimulatorServer, tmp_path: Path, env: dict[str, str]) -> None:
    [form] = forms("flags")
    config = flag_config(tmp_path / "config.toml", production, tmp_path / "audit.log")
    for variant in positions(split(form, {}), config):
        proc = run(variant, env)
        assert proc.returncode == 0, (variant, proc.stderr)
        data = json.loads(proc.stdout)
        assert [s["name"] for s in data["sources"]] == ["flags"]
        [flag] = [f for f in data["flags"] if f["name"] == "new-checkout"]
        assert (flag["service"], flag["enabled"], flag["strategies"], flag["last_change"]["actor"]) == (
            "cart-api", True, ["rollout 50%"], "dana")


@pytest.mark.parametrize("where", [0, 1], ids=["options-before", "options-after"])
def test_flag_action_form(where: int, production: SimulatorServer, tmp_path: Path, env: dict[str, str]) -> None:
    [form] = forms("flag-action")
    audit = tmp_path / "audit.log"
    config = flag_config(tmp_path / "config.toml", production, audit)
    argv = split(form, {})
    proc = run(positions([*argv, "--read-only"], config)[where], env)
    assert proc.returncode == 1 and "read-only" in proc.stderr, proc.stderr
    assert _flag_changes(production) == []
    proc = run(positions(argv, config)[where], env)
    assert proc.returncode == 0, proc.stderr
    assert "Turn off flag new-checkout (project default, environment production, source flags)" in proc.stdout
    assert "last changed: by dana" in proc.stdout and "new-checkout (flags): done" in proc.stdout
    assert _flag_changes(production) == ["admin feature-environment-disabled"]
    records = AuditLog(audit).read()
    assert [(r["action"], r["outcome"]) for r in records] == [("flag-off", "refused"), ("flag-off", "intent"),
                                                              ("flag-off", "done")]
    assert records[-1]["reason"] == "error spike"


def test_demo_unleash_form(tmp_path: Path, env: dict[str, str]) -> None:
    """A real Unleash on PostgreSQL, started by the demo, seeded with its flags, and stopped when it quits."""
    from monotui.simulator.unleash_server import install_dir, missing

    [form] = forms("demo-unleash")
    if (problem := missing()) is not None:  # never skipped: `.ci/run` installs them
        pytest.fail(f"a real Unleash cannot start: {problem}", pytrace=False)
    env = {**env, "MONOTUI_UNLEASH_DIR": str(install_dir())}  # where it is installed, not in the test's $HOME
    with Terminal(split(form, {}), env, cwd=ROOT) as term:
        screen = term.wait_for("PRODUCTION", demo_first_service(), timeout=120)
        url = re.search(r"Unleash listens on (http://127\.0\.0\.1:\d+)", term.text)
        assert url is not None, screen
        term.type("q")
        assert term.wait_exit(timeout=60) == 0
    with pytest.raises(httpx.TransportError):  # stopped with the demo
        httpx.get(url.group(1), timeout=5)


# ---- config init / check / schema (the README's quick start) ----------------------------------------------------


def test_config_forms(tmp_path: Path, env: dict[str, str]) -> None:
    """In the README's order: init writes the user's config, check passes on it; the same with a path; schema."""
    other = str(tmp_path / "elsewhere.toml")
    for form in forms("config"):
        proc = run(split(form, {"P": other}), env)
        assert proc.returncode == 0, (form, proc.stderr)
    assert (tmp_path / "xdg-config" / "monotui" / "config.toml").is_file() and Path(other).is_file()
    assert json.loads(proc.stdout)["properties"]["sources"]  # the schema, last


# ---- the TUI --------------------------------------------------------------------------------------------------


def demo_first_service() -> str:
    """The demo's world is deterministic: the defaults of `monotui demo` (12 services, seed 1)."""
    return World(SimConfig(services=12, seed=1)).rollouts()[0].service


@pytest.mark.parametrize("form", forms("tui"))
def test_tui_forms(form: str, production: SimulatorServer, tmp_path: Path, env: dict[str, str]) -> None:
    argv = split(form, {})
    if "--prometheus" in argv:
        from monotui.simulator.prometheus import find_prometheus

        if find_prometheus() is None:
            pytest.skip("prometheus is not installed (CI installs it: .ci/run)")
    config = write_config(tmp_path / "config.toml", production.url, tmp_path / "audit.log")
    if "path/to/config.toml" in argv:
        argv = split(form, {"path/to/config.toml": config})
    else:  # the user's own config file, where `monotui` looks for it
        (tmp_path / "xdg-config" / "monotui").mkdir(parents=True)
        write_config(tmp_path / "xdg-config" / "monotui" / "config.toml", production.url, tmp_path / "audit.log")
    shows = demo_first_service() if "demo" in argv else "cart-api"
    # `--read-only` before and after `demo`: both positions are run
    for variant in positions(argv, None):
        with Terminal(variant, env, cwd=ROOT) as term:
            screen = term.wait_for("PRODUCTION", shows, timeout=90)
            assert ("READ-ONLY" in screen) == ("--read-only" in variant)
            term.type("q")
            assert term.wait_exit() == 0
    assert production.state.mutating_requests() == []


def wait_http(url: str, timeout: float = 60.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=5, verify=False)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


def test_simulate_form(tmp_path: Path, env: dict[str, str]) -> None:
    [form] = forms("simulate")
    port = free_port()
    argv = split(form, {"8700": str(port)})
    proc = subprocess.Popen([sys.executable, "-m", "monotui", *argv], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        answer = wait_http(f"http://127.0.0.1:{port}/v1/rollouts")
        assert answer.status_code == 200 and len(answer.json()["rollouts"]) == 12
    finally:
        stop(proc)


def test_demo_on_a_known_port_answers_status_from_a_second_terminal(tmp_path: Path, env: dict[str, str]) -> None:
    demo_form, status_form = forms("demo-port")
    port = str(free_port())
    demo = tmp_path / "demo.toml"  # what the demo's --write-config writes once it listens
    with Terminal(split(demo_form, {"8700": port, "/tmp/demo.toml": str(demo)}), env, cwd=ROOT) as term:
        term.wait_for(f"monotui demo: the simulated production listens on http://127.0.0.1:{port}", "PRODUCTION",
                      demo_first_service(), timeout=90)
        assert f'url = "http://127.0.0.1:{port}"' in demo.read_text()
        proc = run(split(status_form, {"/tmp/demo.toml": str(demo)}), env)
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        assert data["sources"][0]["state"] == "ok" and demo_first_service() in {r["service"] for r in data["rollouts"]}
        term.type("q")
        assert term.wait_exit() == 0


def kubeconfig_server(path: Path, timeout: float = 60.0) -> str:
    """The stand-in's URL, from the kubeconfig it writes once it listens (read until it is whole)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return str(yaml.safe_load(path.read_text())["clusters"][0]["cluster"]["server"])
        except (OSError, TypeError, KeyError, IndexError, yaml.YAMLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_kube_standin_and_argo_config_forms(tmp_path: Path, env: dict[str, str]) -> None:
    standin_form = next(f for f in forms("argo") if "kube-standin" in f)
    tui_form = next(f for f in forms("argo") if "kube-standin" not in f)
    kubeconfig = tmp_path / "standin.kubeconfig"
    argv = [*split(standin_form, {"../shared/fixtures/argo-rollouts": str(fixtures_dir()),
                                  "/tmp/standin.kubeconfig": str(kubeconfig)}), "--port", "0"]
    standin = subprocess.Popen([sys.executable, "-m", "monotui", *argv], env=env, cwd=ROOT, text=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"{kubeconfig_server(kubeconfig)}/version")
        argo = tmp_path / "argo.toml"  # what the README's printf writes
        argo.write_text(f'audit_log = "{tmp_path / "audit.log"}"\n'
                        f'[[sources]]\nname = "standin"\nkind = "argo-rollouts"\nkubeconfig = "{kubeconfig}"\n')
        with Terminal(split(tui_form, {"/tmp/argo.toml": str(argo)}), env, cwd=ROOT) as term:
            term.wait_for("PRODUCTION", "canary-demo", "bluegreen-demo", timeout=90)
            term.type("q")
            assert term.wait_exit() == 0
    finally:
        stop(standin)
