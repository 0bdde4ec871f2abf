"""Run a real Prometheus scraping the simulator, on an ephemeral loopback port with a temporary data directory.

Used by `monotui demo --prometheus` and by the tests. The binary comes from the Debian package `prometheus`
(`apt-get install prometheus`); `find_prometheus()` says so when it is missing.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Self

import httpx

from monotui.simulator.loopback import loopback_socket

INSTALL_HINT = "install it with `apt-get install prometheus` (Debian/Ubuntu) or put `prometheus` on PATH"


def find_prometheus() -> str | None:
    return shutil.which("prometheus")


def _free_port() -> int:
    with loopback_socket() as sock:
        return int(sock.getsockname()[1])


class _Binary:
    """A monitoring binary on an ephemeral loopback port with a temporary directory, ready when `/-/ready` says
    so (polled, never slept on), stopped on exit."""

    name = "binary"

    def __init__(self, binary: str, prefix: str) -> None:
        self.binary = binary
        self._tmp = tempfile.TemporaryDirectory(prefix=prefix)
        self.folder = Path(self._tmp.name)
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}"
        self._process: subprocess.Popen[bytes] | None = None

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _popen_options(self) -> dict[str, Any]:
        """Extra `subprocess.Popen` arguments (environment, user, where output goes)."""
        return {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self, timeout: float = 30.0) -> Self:
        self._process = subprocess.Popen(self._command(), **self._popen_options())
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with status {self._process.returncode}")
            if self._ready():
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not become ready")
            time.sleep(0.1)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)  # reaped: no zombie left behind
        self._tmp.cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PrometheusServer(_Binary):
    """`with PrometheusServer(targets=["127.0.0.1:8700"]) as prom: prom.url` — scrapes every `scrape_interval`."""

    name = "prometheus"

    def __init__(self, targets: list[str], *, scrape_interval: str = "1s", binary: str | None = None,
                 alertmanager: str | None = None, rules: str | None = None) -> None:
        found = binary or find_prometheus()
        if not found:
            raise FileNotFoundError(f"prometheus is not installed: {INSTALL_HINT}")
        super().__init__(found, "monotui-prometheus-")
        self.targets = targets
        self.scrape_interval = scrape_interval
        self.alertmanager = alertmanager  # host:port to send alerts to
        self.rules = rules  # a Prometheus rule file's text

    def _command(self) -> list[str]:
        targets = ", ".join(f'"{t}"' for t in self.targets)
        text = (
            "global:\n"
            f"  scrape_interval: {self.scrape_interval}\n"
            f"  evaluation_interval: {self.scrape_interval}\n"
            "scrape_configs:\n"
            "  - job_name: monotui-simulator\n"
            f"    static_configs:\n      - targets: [{targets}]\n"
        )
        if self.rules:
            (self.folder / "rules.yml").write_text(self.rules)
            text += f"rule_files: [{self.folder / 'rules.yml'}]\n"
        if self.alertmanager:
            text += ("alerting:\n  alertmanagers:\n    - static_configs:\n"
                     f"        - targets: [\"{self.alertmanager}\"]\n")
        config = self.folder / "prometheus.yml"
        config.write_text(text)
        return [self.binary, f"--config.file={config}", f"--storage.tsdb.path={self.folder / 'data'}",
                f"--web.listen-address={self.address}", "--rules.alert.resend-delay=1s"]


# An alert on the simulator's metrics: a service whose error ratio stays above 5%.
DEMO_RULES = """groups:
  - name: monotui-demo
    rules:
      - alert: HighErrorRatio
        expr: >
          sum by (service) (rate(http_requests_total{code=~"5.."}[30s]))
          / sum by (service) (rate(http_requests_total[30s])) > 0.05
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.service }} fails {{ $value | humanizePercentage }} of requests"
"""


def find_alertmanager() -> str | None:
    return shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


class AlertmanagerServer(_Binary):
    """A real Alertmanager (clustering off) on an ephemeral loopback port with a temporary data directory."""

    name = "alertmanager"

    def __init__(self, binary: str | None = None) -> None:
        found = binary or find_alertmanager()
        if not found:
            raise FileNotFoundError("alertmanager is not installed: install it with "
                                    "`apt-get install prometheus-alertmanager`")
        super().__init__(found, "monotui-alertmanager-")

    def _command(self) -> list[str]:
        config = self.folder / "alertmanager.yml"
        config.write_text("route:\n  receiver: none\n  group_wait: 1s\n  group_interval: 1s\n"
                          "receivers:\n  - name: none\n")
        return [self.binary, f"--config.file={config}", f"--storage.path={self.folder / 'data'}",
                f"--web.listen-address={self.address}", "--cluster.listen-address="]
