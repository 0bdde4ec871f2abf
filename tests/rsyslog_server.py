"""A real rsyslogd on loopback for the tests: its own config, spool and output file, on an ephemeral port.

Every message it receives is written as one line of the output file: app-name, hostname, msgid, pri, the
structured data and the message, separated by `|`, so a test reads exactly what a log pipeline would index.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Self

import pytest

TEMPLATE = "%app-name%|%hostname%|%msgid%|%pri%|%structured-data%|%msg%\\n"


def missing() -> str | None:
    return None if shutil.which("rsyslogd") else "rsyslogd is not installed (Debian package rsyslog)"


def missing_tls() -> str | None:
    folders = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib")
    if any((Path(folder) / "rsyslog" / "lmnsd_gtls.so").exists() for folder in folders):
        return None
    return "rsyslog's TLS driver is not installed (Debian package rsyslog-gnutls)"


def require_rsyslog() -> None:
    why = missing()
    if why:
        pytest.skip(why)


class Rsyslog:
    """`with Rsyslog(tmp) as syslog:` — TCP on `syslog.port` (and UDP on `syslog.udp_port`), lines in `out`."""

    def __init__(self, folder: Path, *, port: int = 0, udp_port: int | None = None,
                 tls: tuple[Path, Path, Path] | None = None) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.out = folder / "received.log"
        self.port = port
        self.udp_port = udp_port
        self.tls = tls  # (CA, certificate, key): TCP then speaks TLS only (rsyslog-gnutls)
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        spool = self.folder / "spool"
        spool.mkdir(exist_ok=True)
        port_file = self.folder / "port"
        port_file.unlink(missing_ok=True)
        udp = ""
        if self.udp_port is not None:
            udp = (f'module(load="imudp")\n'
                   f'input(type="imudp" address="127.0.0.1" port="{self.udp_port}" ruleset="trail")\n')
        conf = self.folder / "rsyslog.conf"
        tls = ""
        imtcp = 'module(load="imtcp")\n'
        if self.tls is not None:
            ca, cert, key = self.tls
            tls = (f'global(DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="{ca}" '
                   f'DefaultNetstreamDriverCertFile="{cert}" DefaultNetstreamDriverKeyFile="{key}")\n')
            imtcp = ('module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" '
                     'StreamDriver.AuthMode="anon")\n')
        conf.write_text(
            f'global(workDirectory="{spool}")\n'
            f"{tls}{imtcp}"
            f'input(type="imtcp" address="127.0.0.1" port="{self.port}" listenPortFileName="{port_file}" '
            'ruleset="trail")\n'
            f"{udp}"
            f'template(name="line" type="string" string="{TEMPLATE}")\n'
            f'ruleset(name="trail") {{ action(type="omfile" file="{self.out}" template="line") }}\n')
        self.proc = subprocess.Popen(
            ["rsyslogd", "-n", "-f", str(conf), "-i", str(self.folder / "rsyslogd.pid")],
            stdout=subprocess.DEVNULL, stderr=(self.folder / "rsyslogd.stderr").open("wb"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rsyslogd exited: {(self.folder / 'rsyslogd.stderr').read_text()}")
            # with port 0 rsyslog writes the port the system chose; a fixed port is where it is
            text = port_file.read_text().strip() if port_file.exists() else ""
            port = self.port or (int(text) if text.isdigit() else 0)
            if port > 0:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                except OSError:
                    pass
                else:
                    self.port = port
                    return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("rsyslogd did not listen within 20 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def lines(self) -> list[str]:
        try:
            return self.out.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []

    def wait_for(self, count: int, timeout: float = 20.0) -> list[str]:
        """The received lines once there are at least `count` (rsyslog writes at the end of each batch)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.lines()
            if len(lines) >= count:
                return lines
            time.sleep(0.02)
        raise AssertionError(f"rsyslog received {len(self.lines())} lines, not {count}: {self.lines()}")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
