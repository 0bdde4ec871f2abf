"""The world `monotui demo` and `monotui simulate` serve lists each rollout's instances (docs/deploy-api.md,
"Instances and logs"): the rollouts answer carries them, and the logs endpoint has the lines they wrote."""

from __future__ import annotations

import httpx

from monotui.cli import _world
from monotui.simulator.server import SimulatorServer


def test_the_demo_and_simulate_world_lists_instances_and_their_logs() -> None:
    for staged in (False, True):  # `monotui simulate`, and the demo's staged world
        world = _world(services=4, seed=1, deploy_interval=5.0, bad_probability=0.2, auto_rollback=False,
                       staged=staged)
        assert world.config.instances
        with SimulatorServer(world, tick_interval=None) as sim:
            rollouts = httpx.get(f"{sim.url}/v1/rollouts").json()["rollouts"]
            assert rollouts and all(r["instances"] for r in rollouts)
            first = rollouts[0]
            stable = first["stable"]["revision"]
            assert stable in {i["revision"] for i in first["instances"]}
            logs = httpx.get(f"{sim.url}/v1/rollouts/{first['id']}/logs", params={"revision": "stable"})
            assert logs.status_code == 200
            lines = [line for line in logs.text.splitlines() if line]
            assert lines and all(f'"revision":{stable}' in line for line in lines)
