"""Reading a rollout's revisions: the capability a source offers (`RevisionSource`), and the deploy API's
`GET /v1/rollouts/{id}/revisions` (docs/deploy-api.md), each revision read on its own: one that cannot be read is
kept as "cannot be read: <field>" when its number can be, the others shown as usual. The Argo Rollouts provider
builds them from ReplicaSets (providers/argo_rollouts/revisions.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote

import msgspec

from monotui.models import replace
from monotui.providers.http_edge import HttpEdge
from monotui.providers.items import decode_items, envelope
from monotui.revisions import Ending, Revision, RevisionList


class _RevisionList(msgspec.Struct):
    rollout_id: str
    revisions: list[msgspec.Raw]


_REVISION_LIST = msgspec.json.Decoder(_RevisionList)
_REVISION = msgspec.json.Decoder(Revision)


def _stand_in(index: int, raw: Any, problem: str) -> Revision | None:
    """A revision that cannot be read: kept, saying so, when its number can be (else left out)."""
    number = raw.get("revision") if isinstance(raw, dict) else None
    if not isinstance(number, int) or isinstance(number, bool):
        return None
    return Revision(revision=number, ended=Ending.UNKNOWN, end_reason=f"cannot be read: {problem}")


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
        found = envelope(_REVISION_LIST, body, f"GET {path}")  # each revision read on its own (items.py)
        return RevisionList(rollout_id=found.rollout_id, revisions=decode_items(found.revisions, _REVISION,
                                                                                _stand_in))

    _, found = await edge.get(path, parse)
    skew = edge.skew
    if skew is None:
        return found
    by = timedelta(seconds=skew)
    return replace(found, revisions=[replace(r, live_from=_shift(r.live_from, by), live_until=_shift(r.live_until, by))
                                     for r in found.revisions])
