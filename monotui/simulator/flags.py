"""The simulated production's feature flags, kept as Unleash keeps them: flags in projects, each with a state and
strategies per environment and tags, and an event log of their changes. `unleash_api.py` serves them as the subset
of the Unleash Admin API that monotui uses; a flag marked `bad` raises its service's error ratio while it is on in
production, in proportion to its rollout.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ENVIRONMENTS = ("development", "production")
PRODUCTION = "production"
BAD_FLAG_ERROR = 0.35  # error ratio a bad flag adds at 100% rollout (as a bad release at 100% traffic does)
EVENT_LIMIT = 10_000
ACTOR = "admin"  # who Unleash names for changes made with an admin API token
_FLAG_WORDS = ("new-checkout", "fast-path", "async-writes", "v2-ranking", "batch-sync", "edge-cache", "retry-budget",
               "lazy-load", "bulk-api", "smart-routing")


class FlagNotFound(KeyError):
    """No such flag in that project (HTTP 404)."""


class FlagExists(ValueError):
    """A flag of that name exists already (HTTP 409)."""


@dataclass
class SimStrategy:
    id: str
    name: str
    parameters: dict[str, str] = field(default_factory=dict)
    constraints: list[dict[str, Any]] = field(default_factory=list)
    disabled: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "title": None, "disabled": self.disabled,
                "constraints": list(self.constraints), "parameters": dict(self.parameters), "variants": [],
                "segments": [], "sortOrder": 0}


@dataclass
class SimFlag:
    name: str
    project: str
    created_at: datetime
    type: str = "release"
    description: str = ""
    stale: bool = False
    potentially_stale: bool = False
    bad: bool = False  # raises its service's errors while on in production
    tags: list[tuple[str, str]] = field(default_factory=list)
    enabled: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(ENVIRONMENTS, False))
    strategies: dict[str, list[SimStrategy]] = field(default_factory=lambda: {e: [] for e in ENVIRONMENTS})

    def tags_json(self) -> list[dict[str, str]]:
        return [{"type": t, "value": v} for t, v in self.tags]

    def service(self) -> str | None:
        return next((v for t, v in self.tags if t == "service"), None)

    def production_share(self) -> float:
        """Fraction of production traffic the flag is on for (the largest rollout of its strategies)."""
        if not self.enabled[PRODUCTION]:
            return 0.0
        shares = []
        for s in self.strategies[PRODUCTION]:
            if s.disabled:
                continue
            if s.name == "default":
                shares.append(1.0)
            elif "rollout" in s.parameters:
                shares.append(int(s.parameters["rollout"]) / 100.0)
        return max(shares, default=0.0)


class FlagStore:
    """All flags and their change events. Thread-safe: the HTTP server and the world's clock call it."""

    def __init__(self, now: Callable[[], datetime], rng: random.Random | None = None) -> None:
        self._now = now
        self.rng = rng or random.Random(0)
        self.lock = threading.RLock()
        self.flags: dict[tuple[str, str], SimFlag] = {}
        self._by_name: dict[str, SimFlag] = {}
        self.events: deque[dict[str, Any]] = deque(maxlen=EVENT_LIMIT)
        self._event_id = 0
        self._bad: list[SimFlag] = []  # few: the health of every service is computed each tick

    # ---- changes --------------------------------------------------------------------------------------------

    def _emit(self, type_: str, flag: SimFlag, *, environment: str | None = None, data: Any = None,
              pre_data: Any = None, actor: str = ACTOR) -> None:
        self._event_id += 1
        self.events.append({
            "id": self._event_id, "type": type_, "createdBy": actor, "createdAt": self._now().isoformat(),
            "featureName": flag.name, "project": flag.project, "environment": environment,
            "tags": flag.tags_json(), "data": data, "preData": pre_data,
        })

    def get(self, project: str, name: str) -> SimFlag:
        try:
            return self.flags[(project, name)]
        except KeyError:
            raise FlagNotFound(f"There's no feature named \"{name}\" in project \"{project}\".") from None

    def create(self, project: str, name: str, *, type_: str = "release", description: str = "",
               actor: str = ACTOR) -> SimFlag:
        with self.lock:
            if name in self._by_name:  # names are unique across projects, as in Unleash
                raise FlagExists(f"A flag with the name {name} already exists")
            flag = SimFlag(name=name, project=project, created_at=self._now(), type=type_, description=description)
            self.flags[(project, name)] = flag
            self._by_name[name] = flag
            self._emit("feature-created", flag, data={"name": name, "project": project, "type": type_})
            return flag

    def tag(self, name: str, type_: str, value: str, actor: str = ACTOR) -> None:
        with self.lock:
            flag = self._by_name.get(name)
            if flag is None:
                raise FlagNotFound(f"Could not find feature with name {name}")
            if (type_, value) not in flag.tags:
                flag.tags.append((type_, value))
                self._emit("feature-tagged", flag, data={"type": type_, "value": value}, actor=actor)

    def add_strategy(self, project: str, name: str, environment: str, strategy: str,
                     parameters: dict[str, Any] | None = None, constraints: list[dict[str, Any]] | None = None,
                     actor: str = ACTOR) -> SimStrategy:
        with self.lock:
            flag = self.get(project, name)
            added = SimStrategy(id=str(uuid.UUID(int=self.rng.getrandbits(128))), name=strategy,
                                parameters={k: str(v) for k, v in (parameters or {}).items()},
                                constraints=list(constraints or []))
            flag.strategies[environment].append(added)
            self._emit("feature-strategy-add", flag, environment=environment, data=added.to_json(), actor=actor)
            return added

    def update_strategy(self, project: str, name: str, environment: str, strategy_id: str,
                        parameters: dict[str, Any], actor: str = ACTOR) -> SimStrategy:
        with self.lock:
            flag = self.get(project, name)
            found = next((s for s in flag.strategies[environment] if s.id == strategy_id), None)
            if found is None:
                raise FlagNotFound(f"Could not find strategy with id {strategy_id}")
            before = found.to_json()
            found.parameters = {k: str(v) for k, v in parameters.items()}
            self._emit("feature-strategy-update", flag, environment=environment, data=found.to_json(),
                       pre_data=before, actor=actor)
            return found

    def set_stale(self, project: str, names: Iterable[str], stale: bool, actor: str = ACTOR) -> None:
        """Mark flags stale or not; as Unleash does, names that do not exist are ignored."""
        with self.lock:
            for name in names:
                flag = self.flags.get((project, name))
                if flag is not None and flag.stale != stale:
                    flag.stale = stale
                    self._emit(f"feature-stale-{'on' if stale else 'off'}", flag, actor=actor)

    def set_enabled(self, project: str, name: str, environment: str, enabled: bool, actor: str = ACTOR) -> None:
        """As Unleash does: nothing happens (no event) when the flag is already so; turning on a flag with no
        strategy adds the default one (100% rollout) first."""
        with self.lock:
            flag = self.get(project, name)
            if flag.enabled[environment] == enabled:
                return
            if enabled and not flag.strategies[environment]:
                self.add_strategy(project, name, environment, "flexibleRollout",
                                  {"rollout": "100", "stickiness": "default", "groupId": name}, actor=actor)
            flag.enabled[environment] = enabled
            self._emit(f"feature-environment-{'enabled' if enabled else 'disabled'}", flag,
                       environment=environment, actor=actor)

    # ---- the simulated production's own flags --------------------------------------------------------------

    def seed(self, services: Iterable[str], share: float = 0.5) -> None:
        """Give about `share` of the services one flag each, tagged with the service, on at a random rollout;
        their creation is history, so it leaves no events."""
        with self.lock:
            for service in services:
                if self.rng.random() >= share:
                    continue
                name = f"{service}.{self.rng.choice(_FLAG_WORDS)}"
                if name in self._by_name:
                    continue
                flag = self.create("default", name, type_=self.rng.choice(("release", "kill-switch")))
                self.tag(name, "service", service)
                self.add_strategy("default", name, PRODUCTION, "flexibleRollout",
                                  {"rollout": str(self.rng.choice((10, 25, 50, 100))), "stickiness": "default",
                                   "groupId": name})
                flag.enabled[PRODUCTION] = self.rng.random() < 0.7
                flag.potentially_stale = self.rng.random() < 0.2
            self.events.clear()

    def flip_random(self, bad_probability: float) -> SimFlag | None:
        """A change someone makes in production: a flag is turned on or off, or its rollout moves; with
        `bad_probability` it is a bad change that raises its service's errors."""
        with self.lock:
            candidates = [f for f in self.flags.values() if f.service() and not f.bad]
            if not candidates:
                return None
            flag = self.rng.choice(candidates)
            actor = self.rng.choice(("alice", "bob", "chen", "dana", "eve"))
            if self.rng.random() < bad_probability and flag.production_share() < 1.0:
                flag.bad = True
                self._bad.append(flag)
                if not flag.enabled[PRODUCTION]:
                    self.set_enabled(flag.project, flag.name, PRODUCTION, True, actor=actor)
                else:
                    self._raise_rollout(flag, actor)
            else:
                self.set_enabled(flag.project, flag.name, PRODUCTION, not flag.enabled[PRODUCTION], actor=actor)
            return flag

    def _raise_rollout(self, flag: SimFlag, actor: str) -> None:
        strategy = next((s for s in flag.strategies[PRODUCTION] if "rollout" in s.parameters), None)
        if strategy is None:
            self.add_strategy(flag.project, flag.name, PRODUCTION, "default", actor=actor)
            return
        now = int(strategy.parameters["rollout"])
        self.update_strategy(flag.project, flag.name, PRODUCTION, strategy.id,
                             {**strategy.parameters, "rollout": str(100 if now >= 50 else 50)}, actor=actor)

    def mark_bad(self, project: str, name: str) -> None:
        """Tests and demos: make this flag one that raises its service's errors while on."""
        with self.lock:
            flag = self.get(project, name)
            if not flag.bad:
                flag.bad = True
                self._bad.append(flag)

    def error_boost(self, service: str) -> float:
        """Error ratio added to `service` by its bad flags that are on in production."""
        return self.error_boosts().get(service, 0.0)

    def error_boosts(self) -> dict[str, float]:
        """`error_boost` of every service that has one (one pass over the bad flags, for a whole health sample)."""
        boosts: dict[str, float] = {}
        with self.lock:
            for flag in self._bad:
                if (service := flag.service()) is not None:
                    boosts[service] = boosts.get(service, 0.0) + BAD_FLAG_ERROR * flag.production_share()
        return boosts
