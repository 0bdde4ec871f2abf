"""The simulator conforms to its own OpenAPI document (schemathesis), so the contract the client relies on holds:
status codes, content types, headers and bodies as documented, invalid input rejected, auth enforced."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from monotui.simulator.openapi import openapi_document
from monotui.simulator.server import SimulatorServer

from .conftest import make_world

TOKEN = "conformance-token"
schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture(scope="module")
def live_sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(make_world(), token=TOKEN, tick_interval=0.2) as server:
        yield server


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_simulator_conforms_to_its_openapi_document(case: schemathesis.Case, live_sim: SimulatorServer) -> None:
    # the token goes with every case but those whose headers are the negative part (Authorization left out on
    # purpose): adding it there made a request schemathesis meant to be refused an accepted one (a failure that
    # came and went with hypothesis's example database)
    components = case.meta.components if case.meta else {}
    headers_negative = any(getattr(where, "value", where) == "header" and info.mode.value == "negative"
                           for where, info in components.items())
    headers = {} if headers_negative else {"Authorization": f"Bearer {TOKEN}"}
    if case.headers and "Idempotency-Key" in case.headers:
        # one key per intent, as the contract requires (a reused key with another body is a documented 422)
        headers["Idempotency-Key"] = uuid.uuid4().hex
    # a generated `since` is a cursor this server never gave: its documented answer is 410 (list again), which
    # the generic "valid data is accepted" check would call a rejection; every other check still applies
    # (so is a generated `continue` token: one this server never gave)
    excluded = [positive_data_acceptance] if case.path.startswith("/v1/changes/") or "continue" in (
        case.query or {}) else []
    case.call_and_validate(base_url=live_sim.url, headers=headers, excluded_checks=excluded)
