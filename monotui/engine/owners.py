"""Ownership in the state: each row's owner (config, then the rollout's own, then its flags' team tag), kept up to
date when a flag's team tag changes; `Engine.owner(service)` is the accessor every other part uses (the timeline
included). The merge itself is monotui/owners.py."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from monotui.config import Settings
from monotui.models import Flag, Owner, Rollout
from monotui.owners import merge

CACHED = 100_000  # merged owners kept (one per service and what its rollout and flags say, in practice)


class OwnerIndex:
    def __init__(self, settings: Settings, flags_of: Callable[[str], Iterable[tuple[str, Flag]]]) -> None:
        self.settings = settings
        self._flags_of = flags_of
        self._teams: dict[str, str] = {}  # service → the team its flags are tagged with, as last seen
        self._merged: dict[tuple[str, Owner | None, str], Owner | None] = {}  # rows rebuilt every poll: merge once

    def flag_team(self, service: str) -> str:
        return self._teams.get(service, "")

    def teams_changed(self, services: Iterable[str]) -> set[str]:
        """After a flag poll: the services whose flag team changed (their rows show another owner)."""
        changed: set[str] = set()
        for service in services:
            team = next((f.team for _, f in self._flags_of(service) if f.team), "")
            if self._teams.get(service, "") != team:
                self._teams[service] = team
                changed.add(service)
        return changed

    def of_rollout(self, rollout: Rollout) -> Owner | None:
        """A row's owner (cheap when nobody says anything: the common case at 100,000 rows)."""
        config = self.settings.services.get(rollout.service)
        team = self._teams.get(rollout.service, "")
        if config is None and rollout.owner is None and not team:
            return None
        key = (rollout.service, rollout.owner, team)
        if key in self._merged:
            return self._merged[key]
        if len(self._merged) > CACHED:
            self._merged.clear()
        found = self._merged[key] = merge(config, (rollout.owner,), (team,))
        return found

    def of_service(self, service: str, rollouts: Iterable[Rollout]) -> Owner | None:
        """A service's owner from the config, any of its rollouts, and its flags' team tag."""
        return merge(self.settings.services.get(service), (r.owner for r in rollouts), (self.flag_team(service),))
