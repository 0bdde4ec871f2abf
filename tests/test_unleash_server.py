"""The real Unleash the flag tests run against: it starts on loopback ports, answers its Admin API only with the
admin token, and stops completely."""

from __future__ import annotations

import httpx
import pytest

from monotui.simulator.unleash_server import PostgresServer, RealUnleash, UnleashServer

from .conftest import require_real_unleash


def test_the_admin_api_answers_with_the_admin_token_only(real_unleash: RealUnleash) -> None:
    assert real_unleash.url.startswith("http://127.0.0.1:")
    with_token = httpx.get(f"{real_unleash.url}/api/admin/environments",
                           headers={"Authorization": real_unleash.admin_token}, timeout=10)
    assert with_token.status_code == 200
    assert "production" in [e["name"] for e in with_token.json()["environments"]]
    without = httpx.get(f"{real_unleash.url}/api/admin/environments", timeout=10)
    assert without.status_code == 401


def test_stopping_frees_both_ports() -> None:
    require_real_unleash()
    with RealUnleash() as unleash:
        postgres, server = unleash.postgres, unleash.server
        assert server is not None
    for process in (postgres._process, server._process):
        assert process is not None and process.poll() is not None
    try:
        httpx.get(f"{server.url}/health", timeout=2)
    except httpx.ConnectError:
        pass
    else:
        raise AssertionError("Unleash still answers after stop")
    assert not postgres.folder.exists()


def test_a_server_that_cannot_start_says_why_and_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    require_real_unleash()
    with PostgresServer() as postgres:
        unleash = UnleashServer(postgres)
        monkeypatch.setattr(unleash, "admin_token", "not-a-valid-admin-token")  # Unleash refuses to start
        with pytest.raises(RuntimeError) as caught:
            unleash.start(timeout=120)
    assert "unleash exited with status" in str(caught.value)
    assert "its log ends with:\n" in str(caught.value) and len(str(caught.value).splitlines()) > 1
    assert not unleash.folder.exists() and not postgres.folder.exists()
