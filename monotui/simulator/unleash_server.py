"""Run a real Unleash (the npm package `unleash-server`) on a real PostgreSQL, both on ephemeral loopback ports with
temporary data directories, for the tests (and later `monotui demo --unleash`).

PostgreSQL refuses to run as root, so as root it runs as the unprivileged `postgres` user that Debian's
`postgresql` package creates. `unleash-server` is installed by `.ci/run` into `install_dir()` (a cache folder, not
global); `missing()` says what is not there and how to install it.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any, BinaryIO, Self

import httpx
import platformdirs

from monotui.simulator.prometheus import _Binary

UNLEASH_VERSION = "7.5.1"  # 7.5.x is the last line that runs on Node 20; bump on purpose
NPM_PACKAGE = f"unleash-server@{UNLEASH_VERSION}"
NODE_MAJOR = 20
PG_USER = "postgres"  # the unprivileged user Debian's postgresql package creates
INSTALL_HINT = "run `bash .ci/run` as root, or: apt-get install postgresql && npm install --prefix {dir} {pkg}"


def install_dir() -> Path:
    """Where `unleash-server` is installed: `$MONOTUI_UNLEASH_DIR`, else a versioned folder in the user's cache."""
    explicit = os.environ.get("MONOTUI_UNLEASH_DIR")
    if explicit:
        return Path(explicit)
    return Path(platformdirs.user_cache_dir("monotui")) / f"unleash-server-{UNLEASH_VERSION}"


def unleash_entry() -> Path:
    return install_dir() / "node_modules" / "unleash-server" / "dist" / "server.js"


def postgres_bin() -> Path | None:
    """The folder holding `initdb` and `postgres`: on PATH, else Debian's /usr/lib/postgresql/N/bin (newest N)."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(os.path.realpath(on_path)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(re.sub(r"\D", "", p.split("/")[4]) or 0))
    return Path(found[-1]).parent if found else None


def node_version() -> int | None:
    node = shutil.which("node")
    if node is None:
        return None
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"v(\d+)\.", out.strip())
    return int(match.group(1)) if match else None


def missing() -> str | None:
    """What prevents starting a real Unleash here, with the install hint; None when everything is present."""
    problems = []
    major = node_version()
    if major is None:
        problems.append("node is not installed")
    elif major < NODE_MAJOR:
        problems.append(f"node {major} is too old (unleash-server {UNLEASH_VERSION} needs {NODE_MAJOR}+)")
    if postgres_bin() is None:
        problems.append("PostgreSQL (initdb, postgres) is not installed")
    if not unleash_entry().is_file():
        problems.append(f"{NPM_PACKAGE} is not installed in {install_dir()}")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(PG_USER)
        except KeyError:
            problems.append(f"running as root, and there is no unprivileged {PG_USER!r} user to run PostgreSQL")
    if not problems:
        return None
    return "; ".join(problems) + ": " + INSTALL_HINT.format(dir=install_dir(), pkg=NPM_PACKAGE)


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class _LoggedBinary(_Binary):
    """A `_Binary` whose output goes to a log file, quoted when it fails to start."""

    def __init__(self, binary: str, prefix: str) -> None:
        super().__init__(binary, prefix)
        self.log = self.folder / f"{self.name}.log"
        self.last_log = ""  # the end of the log, kept when the folder is removed
        self._log_file: BinaryIO | None = None

    def _popen_options(self) -> dict[str, Any]:
        self._log_file = self.log.open("ab")
        return {"stdout": self._log_file, "stderr": subprocess.STDOUT}

    def stop(self) -> None:
        if self.log.exists():
            self.last_log = _log_tail(self.log)
        super().stop()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def start(self, timeout: float = 60.0) -> Self:
        try:
            return super().start(timeout)
        except RuntimeError as e:
            self.stop()  # a process that exited early has not been stopped yet
            raise RuntimeError(f"{e}; its log ends with:\n{self.last_log}") from None


class PostgresServer(_LoggedBinary):
    """PostgreSQL in a temporary data directory on 127.0.0.1 (trust authentication for `user`, no fsync)."""

    name = "postgres"
    user = "unleash"
    database = "postgres"

    def __init__(self) -> None:
        bin_dir = postgres_bin()
        if bin_dir is None:
            raise FileNotFoundError("PostgreSQL is not installed: apt-get install postgresql")
        self.bin_dir = bin_dir
        super().__init__(str(bin_dir / "postgres"), "monotui-postgres-")
        self._run_as: str | None = PG_USER if os.geteuid() == 0 else None
        if self._run_as:
            entry = pwd.getpwnam(self._run_as)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)

    def _popen_options(self) -> dict[str, Any]:
        return {**super()._popen_options(), "user": self._run_as}

    def start(self, timeout: float = 60.0) -> Self:
        initdb = subprocess.run(
            [str(self.bin_dir / "initdb"), "-D", str(self.folder / "data"), "-U", self.user, "--auth=trust",
             "-E", "UTF8", "--no-sync", "--no-instructions"],
            user=self._run_as, capture_output=True, text=True, timeout=timeout,
        )
        if initdb.returncode != 0:
            self.stop()
            raise RuntimeError(f"initdb failed: {initdb.stderr.strip()[-500:]}")
        return super().start(timeout)

    def _command(self) -> list[str]:
        return [self.binary, "-D", str(self.folder / "data"), "-h", "127.0.0.1", "-p", str(self.port),
                "-k", str(self.folder), "-F", "-c", "max_connections=40"]

    def _ready(self) -> bool:
        check = subprocess.run([str(self.bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                               capture_output=True, timeout=10)
        return check.returncode == 0


class UnleashServer(_LoggedBinary):
    """`with UnleashServer(postgres) as unleash: unleash.url, unleash.admin_token` — ready once its Admin API
    answers with the admin token (migrations done)."""

    name = "unleash"

    def __init__(self, postgres: PostgresServer) -> None:
        node = shutil.which("node")
        if node is None or not unleash_entry().is_file():
            raise FileNotFoundError(missing() or "unleash-server is not installed")
        super().__init__(node, "monotui-unleash-")
        self.postgres = postgres
        self.admin_token = f"*:*.{secrets.token_hex(16)}"

    def _command(self) -> list[str]:
        return [self.binary, str(unleash_entry())]

    def _popen_options(self) -> dict[str, Any]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.folder), "TZ": "UTC",
            "DATABASE_HOST": "127.0.0.1", "DATABASE_PORT": str(self.postgres.port),
            "DATABASE_USERNAME": self.postgres.user, "DATABASE_PASSWORD": "unused-trust-auth",
            "DATABASE_NAME": self.postgres.database, "DATABASE_SSL": "false",
            "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(self.port), "UNLEASH_URL": self.url,
            "INIT_ADMIN_API_TOKENS": self.admin_token, "CHECK_VERSION": "false", "SEND_TELEMETRY": "false",
            "LOG_LEVEL": "warn",
        }
        return {**super()._popen_options(), "env": env, "cwd": str(self.folder)}

    def _ready(self) -> bool:
        try:
            response = httpx.get(f"{self.url}/api/admin/projects", headers={"Authorization": self.admin_token},
                                 timeout=2)
        except httpx.HTTPError:
            return False
        return response.status_code == 200


class RealUnleash:
    """PostgreSQL then Unleash on it; `with RealUnleash() as u: u.url, u.admin_token`; stops both on exit."""

    def __init__(self) -> None:
        self.postgres = PostgresServer()
        self.server: UnleashServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None, "not started"
        return self.server.url

    @property
    def admin_token(self) -> str:
        assert self.server is not None, "not started"
        return self.server.admin_token

    def start(self, timeout: float = 120.0) -> Self:
        self.postgres.start(timeout)
        try:
            self.server = UnleashServer(self.postgres).start(timeout)
        except BaseException:
            self.postgres.stop()
            raise
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        self.postgres.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":  # `.ci/run` asks where and what to install: one source for the pinned version
    print(install_dir(), NPM_PACKAGE)
