"""The deploy API's freeze, as the simulator serves it: the platform itself holds the line, so every client
(another operator's monotui, a CI pipeline) is held too."""

from __future__ import annotations

import uuid

import httpx

from monotui.models import Phase, Strategy
from monotui.simulator.server import SimulatorServer

from .conftest import make_world


def act(client: httpx.Client, service: str, action: str, **body: object) -> httpx.Response:
    return client.post(f"/v1/rollouts/{service}/actions/{action}", json={"actor": "bob@bastion-2", **body},
                       headers={"Idempotency-Key": uuid.uuid4().hex})


def test_while_frozen_promotions_and_new_deploys_are_refused_and_mitigation_is_not(sim: SimulatorServer) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    sim.world.deploy("search-api", strategy=Strategy.CANARY)
    with httpx.Client(base_url=sim.url) as client:
        assert client.get("/v1/freeze").json() == {"frozen": False, "since": None, "actor": "", "reason": "",
                                                   "services": []}
        answer = client.put("/v1/freeze", json={"actor": "alice@bastion-1", "reason": "checkout errors"})
        assert answer.status_code == 200
        freeze = answer.json()
        assert freeze["frozen"] and freeze["actor"] == "alice@bastion-1" and freeze["services"] == []
        assert act(client, "cart-api", "pause").status_code == 200  # pausing is how a freeze stops the line
        refused = act(client, "cart-api", "resume")
        assert refused.status_code == 409
        assert "frozen since" in refused.json()["message"] and "alice@bastion-1: checkout errors" in \
            refused.json()["message"]
        assert act(client, "search-api", "promote").status_code == 409
        assert act(client, "search-api", "promote-full").status_code == 409
        assert client.post("/_sim/deploy", json={"services": ["auth-api"]}).status_code == 409
        assert act(client, "search-api", "abort").status_code == 200  # mitigation is never blocked
        assert act(client, "cart-api", "rollback").status_code == 200
        assert client.delete("/v1/freeze").json()["frozen"] is False
        assert client.post("/_sim/deploy", json={"services": ["auth-api"]}).status_code == 200


def test_a_freeze_of_some_services_holds_only_those(sim: SimulatorServer) -> None:
    sim.world.deploy("cart-api", strategy=Strategy.CANARY)
    sim.world.deploy("search-api", strategy=Strategy.CANARY)
    with httpx.Client(base_url=sim.url) as client:
        assert client.put("/v1/freeze", json={"actor": "a@b", "services": ["cart-api"]}).json()["services"] == [
            "cart-api"]
        assert act(client, "cart-api", "promote").status_code == 409
        assert act(client, "search-api", "promote").status_code == 200
        assert client.put("/v1/freeze", json={"actor": "a@b", "services": ["no-such-api"]}).status_code == 404
        assert client.put("/v1/freeze", json={"reason": "no actor"}).status_code == 422


def test_a_frozen_world_starts_no_new_deploy_as_time_passes() -> None:
    world = make_world(deploy_interval=1.0, initial_deploys=0)  # starts now: see make_world
    world.set_freeze("alice@bastion-1", "incident")
    started = [r.revision for r in world.rollouts()]
    for _ in range(60):
        world.step(0.5)
    assert [r.revision for r in world.rollouts()] == started
    assert all(r.phase is Phase.HEALTHY for r in world.rollouts())
    world.lift_freeze()
    for _ in range(60):
        world.step(0.5)
    assert [r.revision for r in world.rollouts()] != started
