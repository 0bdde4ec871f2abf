"""What starting monotui loads and builds: nothing the first screen does not need (each import checked in a fresh
interpreter, as `sys.modules` shows it), and no certificate store for a plain-HTTP source."""

from __future__ import annotations

import ssl
import subprocess
import sys

import pytest

from monotui.config import HttpSourceConfig
from monotui.providers.http_edge import HttpEdge


def loaded_by(statement: str, candidates: list[str]) -> list[str]:
    """The `candidates` a fresh interpreter has loaded after running `statement`."""
    code = f"import sys\n{statement}\nprint(' '.join(m for m in {candidates!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return out.stdout.split()


def test_the_command_line_loads_no_configuration_client_nor_ui_before_a_command_needs_them() -> None:
    # `monotui demo` starts its simulator process first: everything after this import runs beside it
    assert loaded_by("import monotui.cli", ["pydantic", "pydantic_settings", "monotui.config", "httpx", "textual",
                                            "rich", "starlette", "uvicorn"]) == []


def test_the_simulator_process_loads_no_ui_configuration_nor_client() -> None:
    assert loaded_by("import monotui.cli, monotui.simulator.server",
                     ["textual", "rich", "pydantic", "monotui.config", "httpx"]) == []


def test_the_app_does_not_load_what_its_first_screen_does_not_need() -> None:
    assert loaded_by("import monotui.ui.app", [
        "starlette", "uvicorn", "monotui.simulator",  # the simulator: the demo runs it in its own process
        "kr8s", "yaml", "jsonpatch", "monotui.providers.argo_rollouts",  # Kubernetes: only for such a source
        "monotui.providers.prometheus", "monotui.providers.alertmanager", "monotui.providers.unleash",
    ]) == []


def _context(edge: HttpEdge) -> ssl.SSLContext:
    context = edge._client._transport._pool._ssl_context  # type: ignore[attr-defined]
    assert isinstance(context, ssl.SSLContext)
    return context


@pytest.mark.parametrize("url", ["http://127.0.0.1:8700", "https://deploys.example.com"])
async def test_a_plain_http_source_loads_no_certificates_and_an_https_one_still_verifies(url: str) -> None:
    edge = HttpEdge(HttpSourceConfig(name="s", kind="http", url=url))
    try:
        context = _context(edge)
        # both verify: a plain-HTTP client that were ever asked for TLS would trust no one (it fails closed)
        assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
        cas = context.cert_store_stats()["x509_ca"]
        assert (cas == 0) if url.startswith("http:") else (cas > 0)
    finally:
        await edge.aclose()
