"""`ActionSpec.why_not`: one line saying why an action does not apply, exactly when it does not."""

from __future__ import annotations

import pytest

from monotui.action_kinds import ROLLOUT_ACTIONS, ActionSpec
from monotui.models import Phase, Rollout, Strategy, replace

from .conftest import make_world


def rollouts() -> list[Rollout]:
    world = make_world()
    canary = world.deploy("cart-api", strategy=Strategy.CANARY)
    out = list(world.rollouts())
    out += [replace(canary, phase=phase) for phase in Phase]
    out += [replace(canary, phase=Phase.HEALTHY, rollback_to=None)]
    out += [replace(canary, phase=Phase.DEGRADED, message="RolloutAborted: metric failed")]
    if canary.stable is not None:  # in a phase where it applies, but nothing new to promote or abort
        out += [replace(canary, phase=Phase.PAUSED, revision=canary.stable.revision)]
    return out


@pytest.mark.parametrize("spec", ROLLOUT_ACTIONS, ids=lambda s: s.kind.value)
def test_why_not_exactly_when_it_does_not_apply(spec: ActionSpec) -> None:
    for rollout in rollouts():
        why = spec.why_not(rollout)
        assert (why is None) == spec.applies(rollout), (spec.kind, rollout.phase)
        if why is not None:
            assert rollout.service in why and spec.verb in why and "\n" not in why


def test_the_reasons_a_person_reads() -> None:
    by_kind = {s.kind.value: s for s in ROLLOUT_ACTIONS}
    healthy = next(r for r in rollouts() if r.service == "cart-api" and r.phase is Phase.HEALTHY)
    assert by_kind["promote"].why_not(healthy) == "promote needs a paused or progressing rollout (cart-api is Healthy)"
    assert by_kind["pause"].why_not(healthy) == "pause needs a progressing rollout (cart-api is Healthy)"
    assert by_kind["resume"].why_not(healthy) == "resume needs a paused rollout (cart-api is Healthy)"
    assert by_kind["retry"].why_not(healthy) == "retry needs an aborted rollout (cart-api is Healthy)"
