"""Who owns a service: one `Owner` merged, field by field, from what each place says — the config's
`[services."name"]` table first (it wins), then the rollout's own (the deploy API's `owner`, Argo Rollouts
annotations or labels), then the service's other rollouts, then the team its flags are tagged with (Unleash).

Every string from a server is passed through monotui.text.clean here, so what leaves this module is safe to show
as plain text (never markup) on the screen, in the CLI and in JSON. Links are kept as text: nothing opens them.
No module here imports textual or rich.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from monotui.models import Owner
from monotui.text import clean

if TYPE_CHECKING:  # the config (pydantic) is not loaded for this: `monotui --version` and the simulator stay light
    from monotui.config import ServiceOwner

FIELDS = ("team", "on_call", "runbook", "dashboard")
LIMITS = {"team": 80, "on_call": 80, "runbook": 300, "dashboard": 300}


def _cleaned(owner: Owner | None) -> dict[str, str]:
    if owner is None:
        return {}
    return {f: clean(getattr(owner, f), LIMITS[f]) for f in FIELDS if getattr(owner, f)}


def merge(config: ServiceOwner | None, said: Iterable[Owner | None] = (), teams: Iterable[str] = ()) -> Owner | None:
    """The owner of a service: `config` wins field by field over each of `said` in order (the rollout's own first),
    and `teams` (from flag tags) fill the team last. None when nobody says anything."""
    fields: dict[str, str] = {}
    if config is not None:
        fields.update({f: clean(v, LIMITS[f]) for f in FIELDS if (v := getattr(config, f))})
    for owner in said:
        for key, value in _cleaned(owner).items():
            fields.setdefault(key, value)
    if "team" not in fields:
        for team in teams:
            if team := clean(team, LIMITS["team"]):
                fields["team"] = team
                break
    return Owner(**fields) if fields else None


def owner_line(owner: Owner | None) -> str:
    """What every confirmation says of the owner: "owner: payments-team, on call: payments-primary"."""
    if owner is None:
        return "owner: unknown (no team configured)"
    parts = [f"owner: {owner.team or 'unknown'}"]
    if owner.on_call:
        parts.append(f"on call: {owner.on_call}")
    return ", ".join(parts)


def owner_json(owner: Owner | None) -> dict[str, Any]:
    """The stable `owner` object of `status --json`: every key always present (null when unknown)."""
    return {f: (getattr(owner, f) or None) if owner is not None else None for f in FIELDS}
