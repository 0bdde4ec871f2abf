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

import httpx

from monotui.simulator.loopback import loopback_socket

INSTALL_HINT = "install it with `apt-get install prometheus` (Debian/Ubuntu) or put `prometheus` on PATH"


def find_prometheus() -> str | None:
    return shutil.which("prometheus")


def _free_port() -> int:
    with loopback_socket() as sock:
        return int(sock.getsockname()[1])


class PrometheusServer:
    """`with PrometheusServer(targets=["127.0.0.1:8700"]) as prom: prom.url` — scrapes every `scrape_interval`."""

    def __init__(self, targets: list[str], *, scrape_interval: str = "1s", binary: str | None = None,
                 alertmanager: str | None = None, rules: str | None = None) -> None:
        found = binary or find_prometheus()
        if not found:
            raise FileNotFoundError(f"prometheus is not installed: {INSTALL_HINT}")
        self.binary = found
        self.targets = targets
        self.scrape_interval = scrape_interval
        self.alertmanager = alertmanager  # host:port to send alerts to
        self.rules = rules  # a Prometheus rule file's text
        self._tmp = tempfile.TemporaryDirectory(prefix="monotui-prometheus-")
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def _write_config(self) -> Path:
        folder = Path(self._tmp.name)
        targets = ", ".join(f'"{t}"' for t in self.targets)
        config = folder / "prometheus.yml"
        text = (
            "global:\n"
            f"  scrape_interval: {self.scrape_interval}\n"
            f"  evaluation_interval: {self.scrape_interval}\n"
            "scrape_configs:\n"
            "  - job_name: monotui-simulator\n"
            f"    static_configs:\n      - targets: [{targets}]\n"
        )
        if self.rules:
            (folder / "rules.yml").write_text(self.rules)
            text += f"rule_files: [{folder / 'rules.yml'}]\n"
        if self.alertmanager:
            text += ("alerting:\n  alertmanagers:\n    - static_configs:\n"
                     f"        - targets: [\"{self.alertmanager}\"]\n")
        config.write_text(text)
        return config

    def start(self, timeout: float = 30.0) -> PrometheusServer:
        config = self._write_config()
        self._process = subprocess.Popen(
            [self.binary, f"--config.file={config}", f"--storage.tsdb.path={Path(self._tmp.name) / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--rules.alert.resend-delay=1s"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:  # poll for readiness instead of sleeping
            if self._process.poll() is not None:
                raise RuntimeError(f"prometheus exited with status {self._process.returncode}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("prometheus did not become ready")
            time.sleep(0.1)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._tmp.cleanup()

    def __enter__(self) -> PrometheusServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


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


class AlertmanagerServer:
    """A real Alertmanager (clustering off) on an ephemeral loopback port with a temporary data directory."""

    def __init__(self, binary: str | None = None) -> None:
        found = binary or find_alertmanager()
        if not found:
            raise FileNotFoundError("alertmanager is not installed: install it with "
                                    "`apt-get install prometheus-alertmanager`")
        self.binary = found
        self._tmp = tempfile.TemporaryDirectory(prefix="monotui-alertmanager-")
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> AlertmanagerServer:
        folder = Path(self._tmp.name)
        config = folder / "alertmanager.yml"
        config.write_text("route:\n  receiver: none\n  group_wait: 1s\n  group_interval: 1s\n"
                          "receivers:\n  - name: none\n")
        self._process = subprocess.Popen(
            [self.binary, f"--config.file={config}", f"--storage.path={folder / 'data'}",
             f"--web.listen-address={self.address}", "--cluster.listen-address="],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"alertmanager exited with status {self._process.returncode}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("alertmanager did not become ready")
            time.sleep(0.1)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._tmp.cleanup()

    def __enter__(self) -> AlertmanagerServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
