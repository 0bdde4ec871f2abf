"""The backend registry is the one table of source kinds: the configuration accepts exactly its kinds, the factory
builds each from its line (importing the provider only then), the refusal words come from it, and a kind whose
client library is not installed says which `pip install 'monotui[…]'` to run (exit 2), never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monotui.action_kinds import ActionKind
from monotui.config import SOURCE_KINDS, build_settings, source_models
from monotui.providers import registry
from monotui.providers.factory import build_provider
from monotui.providers.registry import Feature, kinds_that_can

ROOT = Path(__file__).resolve().parent.parent

def minimal(kind: str) -> dict[str, str]:
    """The smallest valid source of `kind`: its required keys (a URL nobody listens on)."""
    required = {name for name, f in source_models()[kind].model_fields.items() if f.is_required()}
    assert required - {"name", "kind"} <= {"url"}, f"give {kind}'s other required keys a value here"
    return {"name": "s", "kind": kind, **({"url": "http://127.0.0.1:9"} if "url" in required else {})}


def test_the_configuration_accepts_exactly_the_registrys_kinds() -> None:
    assert sorted(registry.kinds()) == sorted(SOURCE_KINDS)
    assert {b.kind: b.config for b in registry.BACKENDS} == source_models()


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_the_factory_builds_each_kind_from_its_registry_line(kind: str) -> None:
    settings = build_settings({"sources": [minimal(kind)]})
    provider = build_provider(settings.sources[0])
    line = registry.backend(kind)
    assert f"{type(provider).__module__}:{type(provider).__name__}" == line.provider
    assert provider.name == "s"


@pytest.mark.parametrize("line", registry.BACKENDS, ids=lambda b: b.kind)
def test_each_lines_capabilities_are_what_its_provider_implements(line: registry.Backend) -> None:
    cls = line.provider_class("s")
    assert frozenset(getattr(cls, "capabilities", frozenset())) == line.actions
    assert hasattr(cls, "act") == bool(line.actions)
    assert hasattr(cls, "watch") == (Feature.WATCH in line.can)
    assert hasattr(cls, "history") == (Feature.HEALTH_HISTORY in line.can)
    assert (hasattr(cls, "silence") and hasattr(cls, "expire")) == (Feature.SILENCE in line.can)
    assert hasattr(cls, "set_flag") == (Feature.FLAGS in line.can)


def test_refusal_words_come_from_the_registry() -> None:
    assert kinds_that_can(ActionKind.RETRY) == "Argo Rollouts sources"
    assert kinds_that_can(ActionKind.RESTART) == "Argo Rollouts sources"
    assert kinds_that_can(ActionKind.PAUSE) == "deploy API and Argo Rollouts sources"
    assert kinds_that_can(Feature.SILENCE) == "Alertmanager sources"
    assert kinds_that_can(Feature.FLAGS) == "Unleash sources"
    assert kinds_that_can(Feature.HEALTH) == "deploy API and Prometheus sources"


def test_the_unknown_kind_error_lists_the_registrys_kinds(tmp_path: Path) -> None:
    from monotui.config import ConfigError

    with pytest.raises(ConfigError) as info:
        build_settings({"sources": [{"name": "s", "kind": "flagger"}]}, tmp_path / "c.toml")
    assert all(kind in str(info.value) for kind in registry.kinds())


def run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


WITHOUT_KR8S = "import sys; sys.modules['kr8s'] = None; from monotui.cli import main; sys.exit(main(sys.argv[1:]))"


def argo_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'audit_log = "{tmp_path / "audit.log"}"\n[[sources]]\nname = "eks-prod"\nkind = "argo-rollouts"\n'
                    f'kubeconfig = "{tmp_path / "kubeconfig"}"\n')
    return path


@pytest.mark.parametrize("command", [["status"], [], ["pause", "cart-api", "--yes"]], ids=["status", "tui", "action"])
def test_an_argo_source_without_kr8s_names_the_extra_to_install(tmp_path: Path, command: list[str]) -> None:
    result = run(WITHOUT_KR8S, *command, "--config", str(argo_config(tmp_path)))
    assert result.returncode == 2, result.stderr
    assert "pip install 'monotui[k8s]'" in result.stderr
    assert "eks-prod" in result.stderr and "kr8s" in result.stderr
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr


KR8S_WITHOUT_ITS_LIBRARY = """\
import builtins, sys
real_import = builtins.__import__

def kr8s_needs_box(name, *args, **kwargs):  # kr8s is installed, a library it imports is not
    if name == "kr8s":
        raise ModuleNotFoundError("No module named 'box'", name="box")
    return real_import(name, *args, **kwargs)

builtins.__import__ = kr8s_needs_box
from monotui.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_missing_library_of_kr8s_names_the_extra_too(tmp_path: Path) -> None:
    result = run(KR8S_WITHOUT_ITS_LIBRARY, "status", "--config", str(argo_config(tmp_path)))
    assert result.returncode == 2, result.stderr
    assert "needs box" in result.stderr and "pip install 'monotui[k8s]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_sources_of_other_kinds_never_load_kr8s(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['kr8s'] = None\n"
            "from monotui.config import build_settings\nfrom monotui.engine.core import Engine\n"
            f"s = build_settings({{'audit_log': {str(tmp_path / 'audit.log')!r}, 'sources': ["
            "{'name': 'a', 'kind': 'http', 'url': 'http://127.0.0.1:9'},"
            "{'name': 'b', 'kind': 'prometheus', 'url': 'http://127.0.0.1:9'},"
            "{'name': 'c', 'kind': 'alertmanager', 'url': 'http://127.0.0.1:9'},"
            "{'name': 'd', 'kind': 'unleash', 'url': 'http://127.0.0.1:9'}]})\n"
            "Engine(s)\nassert not any(m.startswith('monotui.providers.argo_rollouts') for m in sys.modules)\n"
            "print('ok')")
    result = run(code)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_missing_extras_are_found_without_importing_them() -> None:
    settings = build_settings({"sources": [{"name": "eks", "kind": "argo-rollouts"},
                                           {"name": "prod", "kind": "http", "url": "http://127.0.0.1:9"}]})
    assert registry.missing_extras(settings) == []  # kr8s is installed for the test suite
    code = ("import sys; sys.modules['kr8s'] = None\nfrom monotui.config import build_settings\n"
            "from monotui.providers.registry import missing_extras\n"
            "s = build_settings({'sources': [{'name': 'eks', 'kind': 'argo-rollouts'}]})\n"
            "print(*missing_extras(s), sep='\\n')")
    result = run(code)
    assert result.stdout.strip() == ("source 'eks' (kind argo-rollouts) needs kr8s, which is not installed: "
                                     "pip install 'monotui[k8s]'"), result.stderr


def test_a_kind_declared_in_the_configuration_without_a_registry_line_stops_the_import() -> None:
    code = ("from typing import Literal\nfrom monotui.config import SourceBase\n"
            "class FlaggerSourceConfig(SourceBase):\n    kind: Literal['flagger']\n"
            "import monotui.providers.registry")
    result = run(code)
    assert result.returncode != 0 and "one BACKENDS line per kind" in result.stderr
