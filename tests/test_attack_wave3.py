"""Wave 3's attacks that found a hole (issue: attack the demo's child process, the bulk poll's "same body", the
full list compared in steps, the line-by-line panels): each test failed before its fix."""

from __future__ import annotations

import json
from collections.abc import Callable

from monotui.engine.core import Engine
from monotui.models import ActionKind, Phase

from .hostile import json_answer
from .test_same_body import no_etag_server, rollouts_body


def _paused_answer(rollout_id: str) -> bytes:
    """An action's answer saying the rollout is paused (what the list will never say)."""
    row = json.loads(rollouts_body(3, paused=rollout_id))["rollouts"]
    return json.dumps({"rollout": next(r for r in row if r["id"] == rollout_id)}).encode()


async def test_an_action_answer_the_unchanged_list_contradicts_is_corrected_by_the_next_poll(
        engine_for: Callable[..., Engine]) -> None:
    """A server without ETags answers a pause with "Paused" but its list (byte for byte as before) still says
    Healthy: the list is the truth once it is read again, as before bulk bodies were skipped when identical. The
    skip kept the action's answer on screen for as long as the list did not change."""
    with no_etag_server(rollouts_body(3)) as server:
        server.routes["/v1/rollouts/svc-1/actions/pause"] = json_answer(_paused_answer("svc-1"))
        async with engine_for(server.url) as engine:
            await engine.refresh_once()
            await engine.refresh_once()  # the same list again: skipped
            rollout = engine.state.rollout("prod", "svc-1")
            assert rollout is not None and rollout.phase is Phase.HEALTHY
            outcome = await engine.execute(engine.plan("prod", rollout, ActionKind.PAUSE), "test")
            assert outcome.ok and engine.state.rollout("prod", "svc-1").phase is Phase.PAUSED, "shown at once"
            polls = sum(1 for a in server.asked if a.path == "/v1/rollouts")
            await engine.refresh_once()
            assert sum(1 for a in server.asked if a.path == "/v1/rollouts") == polls + 1
            assert engine.state.rollout("prod", "svc-1").phase is Phase.HEALTHY, "the list's word shown again"
