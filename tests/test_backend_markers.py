"""The backend markers of tests/conftest.py: set from the code a test uses, a missing backend skips the test with
the reason, and under CI=true the skip of a marked test — any skip — is a failure. Checked on a small suite of
probe tests run by pytest in a child process, with the real hooks and PATH stripped of every backend."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CONFTEST = """
import json
import os

from tests.conftest import pytest_collection_modifyitems, pytest_runtest_makereport, pytest_runtest_setup


def pytest_collection_finish(session):
    marks = {item.name: sorted(m.name for m in item.iter_markers()) for item in session.items}
    with open(os.environ["PROBE_MARKS"], "w") as f:
        json.dump(marks, f)
"""
PROBES = '''
import pytest

from monotui.simulator.prometheus import find_prometheus
from monotui.simulator.unleash_server import missing


def start_prometheus():  # a helper of the tests: what it uses counts
    return find_prometheus()


def test_needs_prometheus():
    assert start_prometheus()


def test_needs_nothing():
    assert sum([1, 1]) == 2


def test_skips_itself_though_it_mounts_a_tmpfs():
    command = ["mount", "-t", "tmpfs"]
    pytest.skip(f"no tmpfs here: {command}")


@pytest.mark.parametrize("kind", ["simulator", "unleash"])
def test_chooses_by_parameter(kind):
    if kind == "unleash":
        assert missing() is None
'''


def run_probes(tmp_path: Path, *args: str, ci: bool) -> tuple[subprocess.CompletedProcess[str], dict[str, list[str]]]:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_probes.py").write_text(PROBES)
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER"}}
    env |= {"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(ROOT),  # no backend on PATH
            "PROBE_MARKS": str(tmp_path / "marks.json")}
    if ci:
        env["CI"] = "true"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir",
                           str(tmp_path), "-p", "no:cacheprovider", "-p", "no:xdist", "-v", "-rA", *args,
                           str(tmp_path / "test_probes.py")], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)
    return proc, json.loads((tmp_path / "marks.json").read_text())


def outcome(proc: subprocess.CompletedProcess[str], test: str) -> str:
    """PASSED, SKIPPED, FAILED or ERROR (a failure in set-up), from pytest -v's line for the test."""
    found = re.findall(rf"^\S*::{re.escape(test)} (PASSED|FAILED|SKIPPED|ERROR)\b", proc.stdout, re.M)
    assert len(found) == 1, proc.stdout
    return str(found[0])


def test_locally_a_missing_backend_skips_with_the_reason(tmp_path: Path) -> None:
    proc, marks = run_probes(tmp_path, ci=False)
    # the markers, from the code each test (and the helpers of its own file) uses; a parameter may choose
    assert marks == {"test_needs_prometheus": ["prometheus"], "test_needs_nothing": [],
                     "test_skips_itself_though_it_mounts_a_tmpfs": ["root"],
                     "test_chooses_by_parameter[simulator]": ["parametrize"],
                     "test_chooses_by_parameter[unleash]": ["parametrize", "unleash"]}
    assert proc.returncode == 0, proc.stdout
    assert outcome(proc, "test_needs_prometheus") == "SKIPPED"
    assert "needs prometheus: prometheus is not installed: apt-get install prometheus" in proc.stdout
    assert outcome(proc, "test_needs_nothing") == "PASSED"
    assert outcome(proc, "test_skips_itself_though_it_mounts_a_tmpfs") == "SKIPPED"


def test_under_ci_a_marked_test_that_did_not_run_fails(tmp_path: Path) -> None:
    proc, _ = run_probes(tmp_path, ci=True)
    assert proc.returncode == 1, proc.stdout
    assert outcome(proc, "test_needs_prometheus") == "ERROR"  # failed in set-up
    assert "CI=true and the prometheus backend is missing" in proc.stdout
    assert outcome(proc, "test_needs_nothing") == "PASSED"
    assert outcome(proc, "test_skips_itself_though_it_mounts_a_tmpfs") in {"FAILED", "ERROR"}
    if os.geteuid() == 0:  # root is there: the test ran and skipped itself, which CI counts as a failure
        assert "was skipped" in proc.stdout and "no tmpfs here" in proc.stdout


@pytest.mark.parametrize("marker", ["prometheus", "alertmanager", "unleash", "chromium", "kubectl", "rsyslog",
                                    "root"])
def test_every_backend_marker_is_registered(marker: str) -> None:
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    options = pyproject["tool"]["pytest"]["ini_options"]
    assert any(line.startswith(f"{marker}:") for line in options["markers"])
    assert "--strict-markers" in options["addopts"]
