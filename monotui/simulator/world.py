"""The simulated production: services, releases, rollouts and their health, advanced tick by tick.

Everything random comes from one `random.Random(seed)` and time only moves through `step(dt)`, so a given seed
and sequence of steps and actions always yields the same production. The HTTP server (server.py) wraps it.
"""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from monotui.action_kinds import ActionKind
from monotui.models import (
    Event,
    EventKind,
    Freeze,
    HealthSeries,
    Phase,
    Rollout,
    ServiceHealth,
    Step,
    Strategy,
)
from monotui.simulator import revisions
from monotui.simulator.changes import ERROR_RATIO_FLOOR, P99_MS_FLOOR, RPS_FLOOR, ChangeLog, moved
from monotui.simulator.flags import FlagStore
from monotui.simulator.instances import instances_of
from monotui.simulator.owners import owner_for
from monotui.simulator.services import Release, ServiceSim, UnknownRollout

_SERVICE_WORDS = (
    "checkout", "payments", "search", "cart", "auth", "catalog", "orders", "billing", "inventory", "shipping",
    "profile", "reviews", "pricing", "ledger", "notify", "gateway", "media", "ranking", "session", "tax",
)
_SUFFIXES = ("api", "worker", "web", "svc", "consumer")
_ENVIRONMENTS = ("eu-west-1", "us-east-1", "ap-south-1")
_AUTHORS = ("alice", "bob", "chen", "dana", "eve", "farid", "grace", "hiro", "ines", "jo")
_MESSAGES = (
    "Bump client timeout to 3s",
    "Add index on orders.created_at",
    "Cache price lookups for 30s",
    "Upgrade httpx to 0.28",
    "Retry idempotent calls on 503",
    "Feature flag: new checkout flow",
    "Fix N+1 query in listing",
    "Log request ids on errors",
    "Drop legacy v1 endpoint",
    "Tune connection pool size",
    "Handle empty cart gracefully",
    "Switch serializer to orjson",
)
_CANARY_STEPS: tuple[Step, ...] = (
    Step(weight=10),
    Step(pause=True, duration_s=8),
    Step(weight=25),
    Step(pause=True, duration_s=8),
    Step(weight=50),
    Step(pause=True, duration_s=8),
    Step(weight=75),
)
ANALYSIS_ERROR_RATIO = 0.05  # the simulated analysis fails a release above this error ratio
WEIGHT_SPEED = 20.0  # traffic % per second that actual weight moves toward the set weight
HISTORY_LIMIT = 20
EVENT_LIMIT = 10_000
# services whose health one tick samples at most: past that, each is sampled every few ticks over the time since
# (a tick of a 100,000-service production otherwise takes longer than a tick, and the server answers no one);
# up to 10,000 services every one is sampled every tick, as the benches of 10,000 have always measured
HEALTH_SAMPLES_PER_TICK = 10_000


class ActionConflict(Exception):
    """The action does not fit the rollout's state (HTTP 409)."""


class TargetChanged(ActionConflict):
    """The rollout is no longer what the caller confirmed: another revision or step (HTTP 412)."""


class Frozen(ActionConflict):
    """The line is frozen for this service: no promotion, resume or new deploy (HTTP 409)."""


class UnknownRevision(ValueError):
    """Rollback to a revision the service never had (HTTP 422)."""


LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class SimConfig:
    services: int = 12
    seed: int = 1
    deploy_interval: float = 5.0  # mean seconds between new deploys
    bad_probability: float = 0.2
    manual_gate_probability: float = 0.25  # canaries whose 50% pause waits for a human
    auto_rollback: bool = False  # roll back automatically when analysis fails
    fix_forward_after: float = 180.0  # a Degraded/Aborted service gets a new deploy after this long
    initial_deploys: int = 3
    tick: float = 0.5
    names: tuple[str, ...] = ()  # explicit service names (tests); generated names fill the rest
    flag_share: float = 0.5  # services that have a feature flag
    flag_interval: float = 30.0  # mean seconds between flag changes, while deploys arrive by themselves
    bad_flag_probability: float = 0.3  # flag changes that raise their service's errors
    staged_auto_rollback: bool = False  # the demo's past: one service's bad release rolled back by the platform
    instances: bool = False  # each rollout lists its instances (simulator/instances.py)


class World:
    """The whole simulated production. Thread-safe: the HTTP server and tests may call it from any thread."""

    def __init__(self, config: SimConfig | None = None, *, start: datetime | None = None) -> None:
        self.config = config or SimConfig()
        self.rng = random.Random(self.config.seed)
        self.lock = threading.RLock()
        self.now = start or datetime.now(UTC).replace(microsecond=0)
        self.elapsed = 0.0
        self.version = 1  # bumped whenever any rollout changes: the ETag of the rollout list
        self.health_version = 1
        # the change feed: which rollouts changed at which `version`, and which services' health was last
        # published at which `health_feed_version` (only moves beyond a step are published)
        self.rollout_changes = ChangeLog()
        self.health_changes = ChangeLog()
        self.health_feed_version = 0
        self.events: deque[Event] = deque(maxlen=EVENT_LIMIT)
        self._event_id = 0
        self.freeze = Freeze(frozen=False)  # the platform holds the line itself: see `set_freeze`
        # a scripted story's beats, (elapsed seconds, what happens), in time order: each runs once (story.py)
        self.beats: list[tuple[float, Callable[[World], object]]] = []
        self.quiet: set[str] = set()  # services no random deploy picks while a story plays on them
        self._next_deploy_in = self._draw_deploy_gap()
        self.services: dict[str, ServiceSim] = {}
        self._build_services()
        if self.config.staged_auto_rollback:
            self._stage_auto_rollback()
        for i in range(min(self.config.initial_deploys, len(self.services))):
            # The demo must show trouble early: the second initial deploy is a bad canary.
            if i == 1 and self.config.bad_probability > 0:
                self._start_deploy(self._pick_idle(), bad=True, manual_gate=False, force_strategy=Strategy.CANARY)
            else:
                self._start_deploy(self._pick_idle())
        # flags draw from their own generator, so the deploys of a seed are the same with or without them
        self.flags = FlagStore(lambda: self.now, random.Random(self.config.seed + 1))
        self.flags.seed(self.services, self.config.flag_share)
        self._next_flip_in = self._draw_flip_gap()
        self._health_turn = 0  # which of the services' turns the next tick samples (a large production)
        self._sample_health(self.config.tick, every=True)

    # ---- construction --------------------------------------------------------------------------------------

    def _service_names(self, n: int) -> list[str]:
        names: list[str] = list(self.config.names[:n])
        combos = [f"{w}-{s}" for s in _SUFFIXES for w in _SERVICE_WORDS]
        for i in range(n - len(names)):
            base = combos[i % len(combos)]
            names.append(base if i < len(combos) else f"{base}-{i // len(combos)}")
        return names

    def _build_services(self) -> None:
        rng = self.rng
        for name in self._service_names(self.config.services):
            history: list[Release] = []
            minor = rng.randint(1, 9)
            for k in range(3):
                rev = 10 + k
                history.append(self._make_release(name, rev, f"v2.{minor}.{k}",
                                                  self.now - timedelta(hours=rng.uniform(1, 48) * (3 - k))))
            for older, newer in zip(history[-2::-1], history[:0:-1], strict=True):  # each before the next, same draws
                if older.deployed_at >= newer.deployed_at:
                    older.deployed_at = newer.deployed_at - (self.now - older.deployed_at)
            strategy = Strategy.BLUE_GREEN if rng.random() < 0.25 else Strategy.CANARY
            svc = ServiceSim(
                name=name, environment=rng.choice(_ENVIRONMENTS), strategy=strategy,
                base_error=rng.uniform(0.001, 0.006), base_p99=rng.uniform(80, 250), base_rps=rng.uniform(20, 400),
                history=history, stable=history[-1], current=history[-1],
                started_at=history[-1].deployed_at, updated_at=history[-1].deployed_at,
                latency_buckets=[0.0] * len(LATENCY_BUCKETS_S),
            )
            svc.steps = self._steps_for(svc)
            svc.step_index = len(svc.steps)
            svc.message = "healthy"
            self.services[name] = svc

    def _stage_auto_rollback(self) -> None:
        """The demo's past: the last service's bad canary failed its analysis and was rolled back by the platform
        4 minutes ago, and the service's next deploy started a minute ago (the rollback stays in view)."""
        svc = list(self.services.values())[-1]
        now = self.now
        self.now = now - timedelta(minutes=6)
        self._start_deploy(svc, bad=True, manual_gate=False, force_strategy=Strategy.CANARY)
        self.now = now - timedelta(minutes=4)
        svc.set_weight, svc.actual_weight = 25, 25.0
        message = f"analysis failed: error ratio 9.1% > {ANALYSIS_ERROR_RATIO:.0%} at 25% traffic"
        self._set_phase(svc, Phase.DEGRADED, message)
        self._touch(svc)
        self._emit(svc, EventKind.DEGRADED, message)
        self._rollback(svc, svc.stable, "auto-rollback", "analysis failed")
        self.now = now - timedelta(minutes=1)
        self._start_deploy(svc, bad=False, manual_gate=False)
        self.now = now

    def _make_release(self, service: str, revision: int, version: str, at: datetime, bad: bool = False) -> Release:
        rng = self.rng
        return Release(
            revision=revision, version=version, image=f"registry.example.com/{service}:{version}",
            commit=f"{rng.getrandbits(28):07x}", commit_message=rng.choice(_MESSAGES),
            author=rng.choice(_AUTHORS), deployed_at=at, bad=bad,
        )

    def _steps_for(self, svc: ServiceSim, manual_gate: bool = False) -> tuple[Step, ...]:
        if svc.strategy is Strategy.BLUE_GREEN:
            # preview up, then a pause before the active service switches
            return (Step(pause=True, duration_s=None if manual_gate else 10),)
        steps = list(_CANARY_STEPS)
        if manual_gate:
            steps[5] = Step(pause=True, duration_s=None)
        return tuple(steps)

    def _draw_flip_gap(self) -> float:
        mean = max(self.config.flag_interval, 0.01)
        return self.flags.rng.uniform(0.5 * mean, 1.5 * mean)

    def _draw_deploy_gap(self) -> float:
        mean = max(self.config.deploy_interval, 0.01)
        return self.rng.uniform(0.5 * mean, 1.5 * mean)

    # ---- helpers ------------------------------------------------------------------------------------------

    def _emit(self, svc: ServiceSim, kind: EventKind, message: str, actor: str = "deploy-bot") -> Event:
        self._event_id += 1
        event = Event(
            id=self._event_id, time=self.now, kind=kind, service=svc.name, rollout_id=svc.name,
            revision=svc.current.revision, actor=actor, message=message,
        )
        self.events.append(event)
        return event

    def _touch(self, svc: ServiceSim) -> None:
        svc.updated_at = self.now
        self.version += 1
        self.rollout_changes.mark(svc.name, self.version)

    def _set_phase(self, svc: ServiceSim, phase: Phase, message: str) -> None:
        if svc.phase is not phase:
            svc.phase_since = 0.0
        svc.phase = phase
        svc.message = message

    def _pick_idle(self) -> ServiceSim:
        idle = [
            s for s in self.services.values()
            if (s.phase is Phase.HEALTHY and not s.in_rollout and s.name not in self.quiet)
            # a newer release supersedes one left broken or waiting for too long
            or (s.phase in (Phase.DEGRADED, Phase.ABORTED, Phase.PAUSED)
                and s.phase_since >= self.config.fix_forward_after)
        ]
        return self.rng.choice(idle or list(self.services.values()))

    # ---- deploys ------------------------------------------------------------------------------------------

    def _start_deploy(
        self, svc: ServiceSim, *, bad: bool | None = None, manual_gate: bool | None = None,
        force_strategy: Strategy | None = None,
    ) -> None:
        """Start a new release; `bad` and `manual_gate` are drawn at random when None."""
        rng = self.rng
        if svc.in_rollout or svc.phase is not Phase.HEALTHY:
            # fix forward: the new release replaces the broken one, traffic starts from the stable revision
            revisions.superseded(svc, svc.history[-1].revision + 1, self.now)
            svc.current = svc.stable
        if force_strategy is not None:
            svc.strategy = force_strategy
        if bad is None:
            bad = rng.random() < self.config.bad_probability
        if manual_gate is None:
            manual_gate = rng.random() < self.config.manual_gate_probability
        major, minor, patch = (int(x) for x in svc.history[-1].version.lstrip("v").split("."))
        version = f"v{major}.{minor + 1}.0" if rng.random() < 0.3 else f"v{major}.{minor}.{patch + 1}"
        release = self._make_release(svc.name, svc.history[-1].revision + 1, version, self.now, bad=bad)
        svc.history.append(release)
        del svc.history[:-HISTORY_LIMIT]
        svc.current = release
        svc.steps = self._steps_for(svc, manual_gate)
        svc.step_index = 0
        svc.step_elapsed = 0.0
        svc.set_weight = 0
        svc.actual_weight = 0.0
        svc.pause_reason = None
        svc.rolled_back_at = None
        svc.started_at = self.now
        self._set_phase(svc, Phase.PROGRESSING, "deploy started")
        self._touch(svc)
        self._emit(svc, EventKind.DEPLOY_STARTED,
                   f"{release.version} ({release.commit}) by {release.author}: {release.commit_message}",
                   actor=release.author)

    def deploy(
        self, service: str, *, bad: bool = False, strategy: Strategy | None = None, manual_gate: bool = False,
        message: str | None = None, author: str | None = None,
    ) -> Rollout:
        """Start a new release of `service` now, exactly as asked (tests and demos use this to stage a scenario)."""
        with self.lock:
            svc = self._service(service)
            self._refuse_if_frozen(svc, "deploy")
            self._start_deploy(svc, bad=bad, manual_gate=manual_gate, force_strategy=strategy)
            if message is not None:
                svc.current.commit_message = message
            if author is not None:
                svc.current.author = author
            return self._rollout(svc)

    # ---- time ---------------------------------------------------------------------------------------------

    def step(self, dt: float | None = None) -> None:
        """Advance the world by `dt` simulated seconds (one tick by default)."""
        dt = self.config.tick if dt is None else dt
        with self.lock:
            self.elapsed += dt
            self.now += timedelta(seconds=dt)
            self._next_deploy_in -= dt
            while self._next_deploy_in <= 0 and self.config.deploy_interval > 0:
                chosen = self._pick_idle()
                if not self._frozen_for(chosen.name):  # a frozen line starts no new deploy
                    self._start_deploy(chosen)
                self._next_deploy_in += self._draw_deploy_gap()
            self._next_flip_in -= dt
            while self._next_flip_in <= 0 and self.config.deploy_interval > 0 and self.config.flag_interval > 0:
                self.flags.flip_random(self.config.bad_flag_probability)
                self._next_flip_in += self._draw_flip_gap()
            while self.beats and self.beats[0][0] <= self.elapsed:
                self.beats.pop(0)[1](self)
            for svc in self.services.values():
                svc.phase_since += dt
                if svc.phase is Phase.PROGRESSING:
                    self._advance(svc, dt)
            self._sample_health(dt)

    def _advance(self, svc: ServiceSim, dt: float) -> None:
        assert svc.step_index is not None
        if svc.step_index >= len(svc.steps):
            self._complete(svc)
            return
        step = svc.steps[svc.step_index]
        if step.weight is not None:
            if svc.set_weight != step.weight:
                svc.set_weight = step.weight
                self._touch(svc)
            if svc.actual_weight < svc.set_weight:
                before = int(svc.actual_weight)
                svc.actual_weight = min(float(svc.set_weight), svc.actual_weight + WEIGHT_SPEED * dt)
                if int(svc.actual_weight) != before:
                    self._touch(svc)
                if svc.actual_weight < svc.set_weight:
                    return
            if self._analysis_fails(svc):
                return
            self._next_step(svc)
        else:
            svc.step_elapsed += dt
            if step.duration_s is None:
                svc.pause_reason = (
                    "BlueGreenPause: waiting for promotion" if svc.strategy is Strategy.BLUE_GREEN
                    else "CanaryPauseStep: waiting for a human to promote"
                )
                self._set_phase(svc, Phase.PAUSED, svc.pause_reason)
                self._touch(svc)
                self._emit(svc, EventKind.PAUSED, svc.pause_reason)
            elif svc.step_elapsed >= step.duration_s:
                self._next_step(svc)
            elif svc.message != (msg := f"pausing {step.duration_s:g}s at {svc.set_weight}%"):
                svc.message = msg
                self._touch(svc)

    def _analysis_fails(self, svc: ServiceSim) -> bool:
        ratio = self._error_ratio(svc)
        if not svc.current.bad or ratio <= ANALYSIS_ERROR_RATIO:
            return False
        message = (f"analysis failed: error ratio {ratio:.1%} > {ANALYSIS_ERROR_RATIO:.0%} "
                   f"at {svc.set_weight}% traffic")
        self._set_phase(svc, Phase.DEGRADED, message)
        self._touch(svc)
        self._emit(svc, EventKind.DEGRADED, message)
        if self.config.auto_rollback:
            self._rollback(svc, svc.stable, "auto-rollback", "analysis failed")
        return True

    def _next_step(self, svc: ServiceSim) -> None:
        assert svc.step_index is not None
        svc.step_index += 1
        svc.step_elapsed = 0.0
        if svc.step_index >= len(svc.steps):
            self._complete(svc)
            return
        self._set_phase(svc, Phase.PROGRESSING, f"step {svc.step_index + 1}/{len(svc.steps)}")
        self._touch(svc)
        self._emit(svc, EventKind.STEP_ADVANCED, f"step {svc.step_index + 1}/{len(svc.steps)}")

    def _complete(self, svc: ServiceSim) -> None:
        svc.step_index = len(svc.steps)
        svc.set_weight = 100
        svc.actual_weight = 100.0
        svc.pause_reason = None
        revisions.promoted(svc, self.now)
        svc.stable = svc.current
        self._set_phase(svc, Phase.HEALTHY, "fully promoted")
        self._touch(svc)
        self._emit(svc, EventKind.COMPLETED, f"{svc.current.version} fully promoted")

    # ---- health -------------------------------------------------------------------------------------------

    def _live_bad_weight(self, svc: ServiceSim) -> float:
        """Fraction of traffic served by a bad release right now."""
        if not svc.current.bad or svc.phase is Phase.ABORTED:
            return 0.0
        return svc.actual_weight / 100.0

    def _error_ratio(self, svc: ServiceSim, boosts: dict[str, float] | None = None) -> float:
        boost = self.flags.error_boost(svc.name) if boosts is None else boosts.get(svc.name, 0.0)
        return min(1.0, svc.base_error + 0.35 * self._live_bad_weight(svc) + boost)

    def _health_rounds(self) -> int:
        """Ticks between two samples of one service's health: 1 up to HEALTH_SAMPLES_PER_TICK services."""
        return max(1, -(-len(self.services) // HEALTH_SAMPLES_PER_TICK))

    def _sample_health(self, dt: float, *, every: bool = False) -> None:
        """Sample the health of the next HEALTH_SAMPLES_PER_TICK services (all of them with `every`), each over
        the time since its last sample, and publish what moved."""
        rng = self.rng
        self.health_version += 1
        services = list(self.services.values())
        rounds = 1 if every else self._health_rounds()
        if rounds > 1:  # each service once every `rounds` ticks: at most HEALTH_SAMPLES_PER_TICK a tick
            services = services[self._health_turn % rounds::rounds]
            self._health_turn += 1
        boosts = self.flags.error_boosts()
        for svc in services:
            span = dt if rounds == 1 else self.elapsed - svc.health_at  # the time since its last sample
            svc.health_at = self.elapsed
            bad = self._live_bad_weight(svc)
            noise = rng.uniform(0.9, 1.1)
            svc.error_ratio = min(1.0, self._error_ratio(svc, boosts) * noise)
            svc.p99_ms = (svc.base_p99 + 1400.0 * bad) * noise
            svc.rps = svc.base_rps * (1.0 + 0.1 * math.sin(self.elapsed / 60.0)) * noise
            svc.series_error.append(round(svc.error_ratio, 5))
            svc.series_p99.append(round(svc.p99_ms, 1))
            n = svc.rps * span
            errors = n * svc.error_ratio
            svc.requests["500"] += errors
            svc.requests["200"] += n - errors
            # latency: exponential with the p99 we want (p99 = mean * ln 100)
            mean_s = svc.p99_ms / 1000.0 / math.log(100.0)
            for i, le in enumerate(LATENCY_BUCKETS_S):
                svc.latency_buckets[i] += n * (1.0 - math.exp(-le / mean_s))
            svc.latency_sum += n * mean_s
        self._publish_health(services)

    def _publish_health(self, sampled: list[ServiceSim]) -> None:
        """Publish on the change feed the health of the services sampled whose figures moved beyond a step."""
        changed = [
            s for s in sampled
            if s.published is None
            or moved(s.published.error_ratio, s.error_ratio, ERROR_RATIO_FLOOR)
            or moved(s.published.p99_ms, s.p99_ms, P99_MS_FLOOR)
            or moved(s.published.rps, s.rps, RPS_FLOOR)
        ]
        if not changed:
            return
        self.health_feed_version += 1
        for svc in changed:
            svc.published = self._health(svc)
            self.health_changes.mark(svc.name, self.health_feed_version)

    # ---- views --------------------------------------------------------------------------------------------

    def _service(self, rollout_id: str) -> ServiceSim:
        try:
            return self.services[rollout_id]
        except KeyError:
            raise UnknownRollout(rollout_id) from None

    def _rollout(self, svc: ServiceSim) -> Rollout:
        target = svc.rollback_target()
        return Rollout(
            id=svc.name, service=svc.name, environment=svc.environment, strategy=svc.strategy, phase=svc.phase,
            message=svc.message, revision=svc.current.revision, version=svc.current.version,
            image=svc.current.image, commit=svc.current.commit, commit_message=svc.current.commit_message,
            author=svc.current.author, started_at=svc.started_at, updated_at=svc.updated_at,
            steps=list(svc.steps), current_step=svc.step_index, set_weight=svc.set_weight,
            actual_weight=int(svc.actual_weight), pause_reason=svc.pause_reason, stable=svc.stable.info(),
            rollback_to=target.info() if target else None, rolled_back_at=svc.rolled_back_at,
            owner=owner_for(svc.name),
            instances=instances_of(svc) if self.config.instances else [],
        )

    def rollouts(self) -> list[Rollout]:
        with self.lock:
            return [self._rollout(s) for s in self.services.values()]

    def rollout(self, rollout_id: str) -> Rollout:
        with self.lock:
            return self._rollout(self._service(rollout_id))

    def _health(self, s: ServiceSim) -> ServiceHealth:
        return ServiceHealth(
            service=s.name, error_ratio=round(s.error_ratio, 5), p99_ms=round(s.p99_ms, 1), rps=round(s.rps, 2),
            series=HealthSeries(interval_s=self.config.tick * self._health_rounds(),
                                error_ratio=list(s.series_error), p99_ms=list(s.series_p99)),
        )

    def health(self) -> list[ServiceHealth]:
        with self.lock:
            return [self._health(s) for s in self.services.values()]

    def rollouts_changed(self, since: int | None) -> tuple[list[Rollout], int]:
        """Rollouts changed after version `since` (all of them when None), and the version now."""
        with self.lock:
            if since is None:
                return [self._rollout(s) for s in self.services.values()], self.version
            names = self.rollout_changes.since(since)
            return [self._rollout(self.services[n]) for n in names], self.version

    def health_changed(self, since: int | None) -> tuple[list[ServiceHealth], int]:
        """Health published after feed version `since`; every service's figures as they are now when None."""
        with self.lock:
            if since is None:
                return [self._health(s) for s in self.services.values()], self.health_feed_version
            names = self.health_changes.since(since)
            return [h for n in names if (h := self.services[n].published) is not None], self.health_feed_version

    def events_since(self, since: int, limit: int = 500) -> tuple[list[Event], int]:
        with self.lock:
            newer = [e for e in self.events if e.id > since] if since < self._event_id else []
            return newer[-limit:], self._event_id

    # ---- actions ------------------------------------------------------------------------------------------

    def act(
        self, rollout_id: str, action: ActionKind, actor: str, reason: str | None = None,
        revision: int | None = None, *, expected_revision: int | None = None, expected_step: int | None = None,
    ) -> tuple[Rollout, Event]:
        """Apply an operator's action as a real deploy engine would; raise ActionConflict when it can't, and
        TargetChanged (before anything is done) when the rollout is no longer at the revision or step confirmed."""
        with self.lock:
            svc = self._service(rollout_id)
            current = svc.current
            if expected_revision is not None and expected_revision != current.revision:
                raise TargetChanged(f"{svc.name} is now at r{current.revision} ({current.version}), not "
                                    f"r{expected_revision} as confirmed: nothing was done")
            if expected_step is not None and expected_step != svc.step_index:
                now = "no step" if svc.step_index is None else f"step {svc.step_index + 1}/{len(svc.steps)}"
                raise TargetChanged(f"{svc.name} is now at {now}, not step {expected_step + 1} as confirmed: "
                                    "nothing was done")
            if action in (ActionKind.PROMOTE, ActionKind.PROMOTE_FULL, ActionKind.RESUME):
                self._refuse_if_frozen(svc, action.value.replace("_", " "))
            suffix = f": {reason}" if reason else ""
            handler = {
                ActionKind.PAUSE: self._act_pause,
                ActionKind.RESUME: self._act_resume,
                ActionKind.PROMOTE: self._act_promote,
                ActionKind.PROMOTE_FULL: self._act_promote_full,
                ActionKind.ABORT: self._act_abort,
            }.get(action)
            if handler is not None:
                event = handler(svc, actor, suffix)
            else:
                event = self._act_rollback(svc, actor, suffix, revision)
            return self._rollout(svc), event

    # ---- freeze -------------------------------------------------------------------------------------------

    def set_freeze(self, actor: str, reason: str | None = None, services: list[str] | None = None) -> Freeze:
        """Stop the line: no new deploy starts, promotions and resumes are refused, for `services` or every one."""
        with self.lock:
            for name in services or []:
                self._service(name)  # an unknown service is refused before anything changes
            self.freeze = Freeze(frozen=True, since=self.now, actor=actor, reason=reason or "",
                                 services=sorted(set(services or [])))
            return self.freeze

    def lift_freeze(self) -> Freeze:
        with self.lock:
            self.freeze = Freeze(frozen=False)
            return self.freeze

    def _frozen_for(self, service: str) -> bool:
        return self.freeze.frozen and (not self.freeze.services or service in self.freeze.services)

    def _refuse_if_frozen(self, svc: ServiceSim, what: str) -> None:
        if self._frozen_for(svc.name):
            since = self.freeze.since.strftime("%H:%M") if self.freeze.since else "?"
            said = f": {self.freeze.reason}" if self.freeze.reason else ""
            raise Frozen(f"cannot {what} {svc.name}: frozen since {since} by {self.freeze.actor}{said}")

    def _refuse(self, svc: ServiceSim, what: str) -> ActionConflict:
        return ActionConflict(f"cannot {what} {svc.name}: rollout is {svc.phase.value}")

    def _act_pause(self, svc: ServiceSim, actor: str, suffix: str) -> Event:
        if svc.phase is not Phase.PROGRESSING:
            raise self._refuse(svc, "pause")
        svc.pause_reason = f"PausedByUser: {actor}{suffix}"
        self._set_phase(svc, Phase.PAUSED, f"paused by {actor}")
        self._touch(svc)
        return self._emit(svc, EventKind.PAUSED, f"paused by {actor}{suffix}", actor)

    def _act_resume(self, svc: ServiceSim, actor: str, suffix: str) -> Event:
        if svc.phase is not Phase.PAUSED:
            raise self._refuse(svc, "resume")
        assert svc.step_index is not None
        at_gate = svc.step_index < len(svc.steps) and svc.steps[svc.step_index].pause
        svc.pause_reason = None
        self._set_phase(svc, Phase.PROGRESSING, f"resumed by {actor}")
        if at_gate and svc.steps[svc.step_index].duration_s is None:
            self._next_step(svc)  # a pause that waits for a human ends when the human resumes
        self._touch(svc)
        return self._emit(svc, EventKind.RESUMED, f"resumed by {actor}{suffix}", actor)

    def _act_promote(self, svc: ServiceSim, actor: str, suffix: str) -> Event:
        if svc.phase not in (Phase.PROGRESSING, Phase.PAUSED):
            raise self._refuse(svc, "promote")
        assert svc.step_index is not None
        step = svc.steps[svc.step_index] if svc.step_index < len(svc.steps) else None
        if step is not None and step.weight is not None:
            svc.set_weight = step.weight
            svc.actual_weight = float(step.weight)
        svc.pause_reason = None
        self._set_phase(svc, Phase.PROGRESSING, f"promoted by {actor}")
        self._next_step(svc)
        self._touch(svc)
        return self._emit(svc, EventKind.PROMOTED, f"promoted one step by {actor}{suffix}", actor)

    def _act_promote_full(self, svc: ServiceSim, actor: str, suffix: str) -> Event:
        if svc.phase not in (Phase.PROGRESSING, Phase.PAUSED, Phase.DEGRADED) or not svc.in_rollout:
            raise self._refuse(svc, "promote fully")
        self._complete(svc)
        svc.message = f"fully promoted by {actor}"
        return self._emit(svc, EventKind.PROMOTED_FULL, f"fully promoted by {actor}{suffix}", actor)

    def _act_abort(self, svc: ServiceSim, actor: str, suffix: str) -> Event:
        if svc.phase not in (Phase.PROGRESSING, Phase.PAUSED, Phase.DEGRADED) or not svc.in_rollout:
            raise self._refuse(svc, "abort")
        svc.set_weight = 0
        svc.actual_weight = 0.0
        svc.pause_reason = None
        revisions.aborted(svc, self.now, actor, suffix.removeprefix(": "))
        self._set_phase(svc, Phase.ABORTED, f"aborted by {actor}: traffic back on r{svc.stable.revision}")
        self._touch(svc)
        return self._emit(svc, EventKind.ABORTED, f"aborted by {actor}{suffix}", actor)

    def _act_rollback(self, svc: ServiceSim, actor: str, suffix: str, revision: int | None) -> Event:
        if revision is None:
            target = svc.rollback_target()
            if target is None:
                raise ActionConflict(f"cannot roll back {svc.name}: no earlier revision")
        else:
            found = [r for r in svc.history if r.revision == revision]
            if not found:
                raise UnknownRevision(f"{svc.name} has no revision {revision}")
            target = found[0]
        if target.revision == svc.current.revision and svc.phase is Phase.HEALTHY:
            raise ActionConflict(f"cannot roll back {svc.name}: r{target.revision} is already running")
        return self._rollback(svc, target, actor, suffix.removeprefix(": "))

    def _rollback(self, svc: ServiceSim, target: Release, actor: str, reason: str) -> Event:
        previous = svc.current
        revisions.rolled_back(svc, previous, target, self.now, actor, reason)
        # Rolling back to a revision that already served is fast-tracked, as Argo's rollback window does.
        svc.current = replace(target)
        svc.stable = svc.current
        svc.step_index = len(svc.steps)
        svc.set_weight = 100
        svc.actual_weight = 100.0
        svc.pause_reason = None
        svc.rolled_back_at = self.now
        svc.started_at = self.now
        self._set_phase(svc, Phase.HEALTHY,
                        f"rolled back from r{previous.revision} to r{target.revision} by {actor}")
        self._touch(svc)
        text = f"rolled back r{previous.revision} ({previous.version}) → r{target.revision} ({target.version})"
        return self._emit(svc, EventKind.ROLLED_BACK, f"{text} by {actor}" + (f": {reason}" if reason else ""),
                          actor)

    # ---- metrics ------------------------------------------------------------------------------------------

    def prometheus_text(self) -> str:
        """Per-service request counter by status code and latency histogram, Prometheus text format 0.0.4."""
        out = [
            "# HELP http_requests_total Requests served, by service and status code.",
            "# TYPE http_requests_total counter",
        ]
        with self.lock:
            services = list(self.services.values())
            for s in services:
                for code, count in s.requests.items():
                    out.append(f'http_requests_total{{service="{s.name}",code="{code}"}} {count:.3f}')
            out += [
                "# HELP http_request_duration_seconds Request latency, by service.",
                "# TYPE http_request_duration_seconds histogram",
            ]
            for s in services:
                total = sum(s.requests.values())
                for le, count in zip(LATENCY_BUCKETS_S, s.latency_buckets, strict=True):
                    out.append(f'http_request_duration_seconds_bucket{{service="{s.name}",le="{le}"}} {count:.3f}')
                out.append(f'http_request_duration_seconds_bucket{{service="{s.name}",le="+Inf"}} {total:.3f}')
                out.append(f'http_request_duration_seconds_sum{{service="{s.name}"}} {s.latency_sum:.3f}')
                out.append(f'http_request_duration_seconds_count{{service="{s.name}"}} {total:.3f}')
        return "\n".join(out) + "\n"
