"""Reading a rollout's revisions: the capability a source offers (`RevisionSource`), and the deploy API's
`GET /v1/rollouts/{id}/revisions` (docs/deploy-api.md). The Argo Rollouts provider builds them from ReplicaSets
(providers/argo_rollouts/revisions.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable
from urllib.parse import quote

import msgspec

from monotui.models import replace
from monotui.providers.http_edge import HttpEdge
from monotui.providers.items import envelope
from monotui.revisions import RevisionList

_REVISION_LIST = msgspec.json.Decoder(RevisionList)


@runtime_checkable
class RevisionSource(Protocol):
    """A source that lists a rollout's revisions, newest first, with how each ended."""

    async def revisions(self, rollout_id: str) -> RevisionList: ...


def _shift(when: datetime | None, by: timedelta) -> datetime | None:
    return when - by if when is not None else None


async def read_revisions(edge: HttpEdge, rollout_id: str) -> RevisionList:
    """GET /v1/rollouts/{id}/revisions, its times moved onto our clock when the server's runs apart (as the
    rollouts' are). A server without the endpoint answers 404: ProviderError kind not_found."""
    path = f"/v1/rollouts/{quote(rollout_id, safe='')}/revisions"

    def parse(body: bytes) -> RevisionList:
        return envelope(_REVISION_LIST, body, f"GET {path}")

    _, found = await edge.get(path, parse)
    skew = edge.skew
    if skew is None:
        return found
    by = timedelta(seconds=skew)
    return replace(found, revisions=[replace(r, live_from=_shift(r.live_from, by), live_until=_shift(r.live_until, by))
                                     for r in found.revisions])
