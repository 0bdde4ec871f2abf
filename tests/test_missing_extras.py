"""The optional extras (`monotui[k8s]`, `monotui[serve]`): without them the base install still runs the deploy API,
Prometheus, Alertmanager and Unleash sources, and a command that needs a missing extra (`serve`, `kube-standin`)
says which `pip install 'monotui[EXTRA]'` to run, with exit 2 and no traceback (an Argo Rollouts source without
kr8s: tests/test_backend_registry.py). A missing extra is simulated in a child
process whose imports of the extra's modules fail, as they do where it was never installed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from monotui import extras
from monotui.simulator.server import SimulatorServer

# Runs `monotui ARGS` with the modules named in argv[1] (comma-separated) made unimportable, top level and below.
WITHOUT = """
import sys

class NotInstalled:
    def __init__(self, names):
        self.names = names

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled(set(sys.argv[1].split(","))))
from monotui.cli import main
sys.exit(main(sys.argv[2:]))
"""
K8S = "kr8s,yaml,jsonpatch"
SERVE = "textual_serve,aiohttp"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def monotui_without(modules: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MONOTUI_CONFIG": str(cwd / "absent.toml"), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-c", WITHOUT, modules, *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd, env=env, stdin=subprocess.DEVNULL)


def test_the_blocker_makes_an_installed_module_unimportable(tmp_path: Path) -> None:
    code = WITHOUT.replace("from monotui.cli import main\nsys.exit(main(sys.argv[2:]))", "import kr8s")
    done = subprocess.run([sys.executable, "-c", code, "kr8s"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "No module named 'kr8s'" in done.stderr


def test_kube_standin_without_the_k8s_extra_says_what_to_install(tmp_path: Path) -> None:
    done = monotui_without(K8S, "kube-standin", "--synthetic", "3", "--kubeconfig-out", str(tmp_path / "k"),
                           cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "pip install 'monotui[k8s]'" in done.stderr and "kr8s, pyyaml, jsonpatch not installed" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "k").exists()


def test_serve_without_the_serve_extra_says_what_to_install(tmp_path: Path) -> None:
    done = monotui_without(SERVE, "serve", "--port", str(free_port()), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "monotui: `monotui serve` needs the serve extra (textual-serve, aiohttp not installed): "
        + extras.install_hint("serve")]


def test_one_missing_module_is_named_alone(tmp_path: Path) -> None:
    done = monotui_without("aiohttp", "serve", cwd=tmp_path)
    assert done.returncode == 2 and "(aiohttp not installed): pip install 'monotui[serve]'" in done.stderr


def test_the_base_install_runs_the_deploy_api_prometheus_alertmanager_and_unleash_sources(
        sim: SimulatorServer, tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens: the source is built, then unreachable
    config = tmp_path / "base.toml"
    config.write_text(
        f'audit_log = "{tmp_path / "audit.log"}"\n'
        f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{sim.url}"\n'
        f'[[sources]]\nname = "prom"\nkind = "prometheus"\nurl = "{closed}"\n'
        f'[[sources]]\nname = "am"\nkind = "alertmanager"\nurl = "{closed}"\n'
        f'[[sources]]\nname = "flags"\nkind = "unleash"\nurl = "{closed}"\n')
    without_extras = f"{K8S},{SERVE}"
    done = monotui_without(without_extras, "status", "--json", "--config", str(config), cwd=tmp_path)
    assert "Traceback" not in done.stderr and "monotui[" not in done.stderr, done.stderr
    assert '"prod"' in done.stdout and done.returncode == 1  # the closed sources are unreachable (exit 1)


@pytest.mark.parametrize("extra", sorted(extras.EXTRAS))
def test_every_extra_is_declared_in_pyproject(extra: str) -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    declared = " ".join(pyproject["project"]["optional-dependencies"][extra]).lower()
    for _module, distribution in extras.EXTRAS[extra]:
        assert distribution in declared
