"""The demo's story: both drills within its first minute.

- the bad deploy: the world's second initial deploy is a bad canary (world.py); its analysis fails at 25% of the
  traffic about 10 s in, and monotui flags it as a suspect (`s`, Tab, Enter rolls it back);
  (with the default seed, inventory-api);
- the bad flag flip: at BAD_FLAG_AT seconds, FLIPPER turns on a flag of a healthy, unprotected service that is not
  rolling out, at BAD_FLAG_ROLLOUT % of production, and the flag raises that service's errors (simulator/flags.py)
  until it is off again; monotui flags it as a suspect (`s`, Tab, Enter turns it off). No random deploy starts on
  that service for QUIET_FOR seconds, so the flag stays the one change to blame.

`tests/test_demo_story.py` shows both, in simulated time and through the TUI at 80×24.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from monotui.models import Phase
from monotui.simulator.flags import PRODUCTION, SimFlag

if TYPE_CHECKING:
    from monotui.simulator.world import World

BAD_FLAG_AT = 25.0  # seconds into the demo: after the bad deploy was flagged, well within the first minute
BAD_FLAG_ROLLOUT = 50  # % of production the bad flag goes on for: its errors breach the default 5% threshold
FLIPPER = "dana"
QUIET_FOR = 120.0


def tell(world: World, protected: Iterable[str] = ()) -> None:
    """Script the demo's story into `world` (the deploys' part is the world's own staging); the flag drill is
    never on a `protected` service (its confirmation asks for the name typed out: more than 3 keys)."""
    avoid = frozenset(protected)

    def flip(w: World) -> None:
        flag = bad_flag_flip(w, avoid)
        service = flag.service() if flag is not None else None
        if service is not None:
            w.quiet.add(service)
            w.beats.append((w.elapsed + QUIET_FOR, lambda later: later.quiet.discard(service)))

    world.beats.append((BAD_FLAG_AT, flip))


def _candidate(world: World, avoid: frozenset[str]) -> SimFlag | None:
    quiet = {s.name for s in world.services.values()
             if s.phase is Phase.HEALTHY and not s.in_rollout and s.name not in avoid}
    flags = sorted(world.flags.flags.values(), key=lambda f: f.name)
    usable = [f for f in flags if f.service() in quiet and not f.bad]
    # one that is off first: "turned on" is the clearest flip to read
    return next((f for f in usable if not f.enabled[PRODUCTION]), usable[0] if usable else None)


def bad_flag_flip(world: World, avoid: frozenset[str] = frozenset()) -> SimFlag | None:
    """The story's bad flip: a quiet service's flag on for BAD_FLAG_ROLLOUT % of production, by FLIPPER."""
    store = world.flags
    with store.lock:
        flag = _candidate(world, avoid)
        if flag is None:  # no flag on a quiet service (a tiny world): no flag drill
            return None
        store.mark_bad(flag.project, flag.name)
        parameters = {"rollout": str(BAD_FLAG_ROLLOUT), "stickiness": "default", "groupId": flag.name}
        strategy = next((s for s in flag.strategies[PRODUCTION] if "rollout" in s.parameters), None)
        if strategy is None:
            store.add_strategy(flag.project, flag.name, PRODUCTION, "flexibleRollout", parameters, actor=FLIPPER)
        elif strategy.parameters.get("rollout") != str(BAD_FLAG_ROLLOUT):
            store.update_strategy(flag.project, flag.name, PRODUCTION, strategy.id,
                                  {**strategy.parameters, "rollout": str(BAD_FLAG_ROLLOUT)}, actor=FLIPPER)
        store.set_enabled(flag.project, flag.name, PRODUCTION, True, actor=FLIPPER)
        return flag
