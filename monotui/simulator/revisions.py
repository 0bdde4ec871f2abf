"""The simulator's revision history: how each release of a service ended (world.py calls `promoted`, `aborted`,
`rolled_back` and `superseded` as it happens), served as `GET /v1/rollouts/{id}/revisions` with the optional
`changes` of each revision (its commit range and the config keys it changed, drawn from its commit so the world's
own random draws stay as they were)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from monotui.revisions import Ending, Revision, RevisionChanges, RevisionList
from monotui.simulator.services import Release, ServiceSim, ServiceTable, UnknownRollout

CONFIG_KEYS = ("HTTP_TIMEOUT_MS", "POOL_SIZE", "CACHE_TTL_S", "LOG_LEVEL", "RETRY_BUDGET", "DB_PASSWORD",
               "FEATURE_NEW_CHECKOUT")


def _entry(svc: ServiceSim, release: Release) -> Release:
    """The history's own record of a release (the service's current one may be a copy, after a rollback)."""
    return next((r for r in svc.history if r.revision == release.revision), release)


def _end(release: Release, how: Ending, at: datetime, reason: str = "", by: str = "") -> None:
    release.ended, release.end_reason, release.ended_by = how.value, reason, by
    if release.live_until is None:
        release.live_until = at


def superseded(svc: ServiceSim, new_revision: int, at: datetime) -> None:
    """A new deploy replaces a release still in progress (or left broken): it ends, unless it already did."""
    if svc.current.revision == svc.stable.revision:
        return
    entry = _entry(svc, svc.current)
    if not entry.ended:
        _end(entry, Ending.SUPERSEDED, at, f"replaced by r{new_revision} before it was promoted", "deploy-bot")


def promoted(svc: ServiceSim, at: datetime) -> None:
    """The current release is fully promoted: the stable one before it stops serving."""
    entry = _entry(svc, svc.current)
    if svc.stable.revision != svc.current.revision:
        old = _entry(svc, svc.stable)
        old.live_until = at
    entry.ended, entry.end_reason, entry.ended_by = Ending.PROMOTED.value, "", ""
    entry.live_until = None


def aborted(svc: ServiceSim, at: datetime, actor: str, reason: str) -> None:
    _end(_entry(svc, svc.current), Ending.ABORTED, at, reason or f"aborted by {actor}", actor)


def rolled_back(svc: ServiceSim, previous: Release, target: Release, at: datetime, actor: str, reason: str) -> None:
    """`previous` was rolled back to `target` (by the platform when the actor is "auto-rollback")."""
    how = Ending.AUTO_ROLLED_BACK if actor == "auto-rollback" else Ending.ROLLED_BACK
    if previous.revision != target.revision:
        entry = _entry(svc, previous)
        entry.live_until = None  # it stops now (a promoted one was still live)
        _end(entry, how, at, reason or f"rolled back to r{target.revision}", actor)
        if svc.stable.revision not in (previous.revision, target.revision):
            _entry(svc, svc.stable).live_until = at
    back = _entry(svc, target)
    back.ended, back.ended_by = Ending.PROMOTED.value, actor
    back.end_reason = f"back by a rollback from r{previous.revision}"
    back.live_from, back.live_until = at, None


def _changes(svc: ServiceSim, index: int) -> RevisionChanges | None:
    if index == 0:
        return None
    release, before = svc.history[index], svc.history[index - 1]
    digest = hashlib.sha256(f"{svc.name}:{release.commit}".encode()).digest()
    keys = sorted({CONFIG_KEYS[b % len(CONFIG_KEYS)] for b in digest[1:1 + digest[0] % 3]})
    return RevisionChanges(commit_range=f"{before.commit}..{release.commit}", commits=1 + digest[3] % 9,
                           config_keys=keys)


def revisions_of(svc: ServiceSim) -> list[Revision]:
    """Every release the service keeps, newest first, with how each ended."""
    out: list[Revision] = []
    for i, release in enumerate(svc.history):
        is_current = release.revision == svc.current.revision
        is_stable = release.revision == svc.stable.revision
        live = is_stable or (is_current and release.ended != Ending.ABORTED.value)
        if live:  # serving: the stable revision, or one being rolled out (degraded ones too: they take traffic)
            ended, live_until, by = Ending.LIVE, None, ""
            reason = svc.message if is_current and not is_stable else release.end_reason
        else:
            # no recorded end: a release from before the simulated production started, promoted, then replaced
            ended = Ending(release.ended) if release.ended else Ending.PROMOTED
            live_until = release.live_until
            after = svc.history[i + 1].deployed_at if i + 1 < len(svc.history) else None
            if live_until is None and after is not None and after >= release.deployed_at:
                live_until = after
            reason, by = release.end_reason, release.ended_by
        out.append(Revision(
            revision=release.revision, version=release.version, images=[release.image], commit=release.commit,
            commit_message=release.commit_message, author=release.author,
            live_from=release.live_from or release.deployed_at, live_until=live_until, ended=ended,
            end_reason=reason, ended_by=by, stable=is_stable, current=is_current, changes=_changes(svc, i)))
    return out[::-1]


def revision_list(world: ServiceTable, rollout_id: str) -> RevisionList:
    """Raises the world's UnknownRollout for an id it does not know."""
    with world.lock:
        svc = world._service(rollout_id)
        return RevisionList(rollout_id=svc.name, revisions=revisions_of(svc))


def revision_routes(world: ServiceTable) -> list[Route]:
    """`GET /v1/rollouts/{rollout_id}/revisions` (listed before the route of one rollout, whose id takes a path)."""
    async def revisions(request: Request) -> Response:
        if request.query_params:
            return JSONResponse({"error": "bad_request", "message": "this endpoint takes no query parameters"},
                                status_code=400)
        rollout_id = request.path_params["rollout_id"]
        try:
            found = revision_list(world, rollout_id)
        except UnknownRollout:
            return JSONResponse({"error": "not_found", "message": f"no rollout {rollout_id!r}"}, status_code=404)
        return Response(msgspec.json.encode(found), media_type="application/json")

    return [Route("/v1/rollouts/{rollout_id:path}/revisions", revisions)]


def openapi_paths() -> dict[str, Any]:
    """The endpoint in the OpenAPI document (openapi.py adds RevisionList to its schemas)."""
    return {
        "/v1/rollouts/{rollout_id}/revisions": {
            "get": {
                "operationId": "listRevisions",
                "summary": "A rollout's revisions, newest first: version, images, commit, author, when each was "
                           "live and for how long, how it ended (and why), which is stable, and (optional) what "
                           "changed since the revision before it",
                "parameters": [{"name": "rollout_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "the revisions",
                            "content": {"application/json": {
                                "schema": {"$ref": "#/components/schemas/RevisionList"}}}},
                    **{str(code): {"description": text, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ApiError"}}}}
                       for code, text in ((400, "bad request (a query parameter)"), (401, "missing bearer token"),
                                          (403, "wrong bearer token"), (404, "no such rollout"))},
                },
            }
        }
    }
