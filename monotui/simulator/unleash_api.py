"""The simulated production's flags served as the subset of the Unleash 7 Admin API that monotui uses (and the
calls a test makes to set up a scenario), so the same provider code reads the simulator and a real Unleash.

Reading: a project's flags (one answer), feature search (project and state filters, paging), event search
(environment, project and type filters, newest first, paging), one flag, the feature export. Writing: create a
flag, tag it, add or update a strategy, turn it on or off in an environment, mark flags stale. Answers carry the
fields monotui reads, named as Unleash names them.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from monotui.simulator.flags import ENVIRONMENTS, FlagExists, FlagNotFound, FlagStore, SimFlag

_STALE_STATES = {"stale", "active", "potentially-stale"}


def _error(status: int, name: str, message: str) -> JSONResponse:
    return JSONResponse({"name": name, "message": message, "details": [{"message": message}]}, status_code=status)


def _values(request: Request, key: str) -> set[str] | None:
    """An Unleash filter, `IS:a` or `IS_ANY_OF:a,b`, as a set; None when absent."""
    raw = request.query_params.get(key)
    if raw is None:
        return None
    operator, _, values = raw.partition(":")
    if operator not in ("IS", "IS_ANY_OF"):
        raise ValueError(f"{key}: unsupported operator {operator!r}")
    return set(values.split(",")) if operator == "IS_ANY_OF" else {values}


def _page(request: Request, largest: int) -> tuple[int, int]:
    """offset and limit; as Unleash 7.5, a limit above the largest page gets the default page, 50."""
    offset = int(request.query_params.get("offset", "0"))
    limit = int(request.query_params.get("limit", "50"))
    if offset < 0 or limit < 1:
        raise ValueError("offset must be ≥ 0 and limit at least 1")
    return offset, limit if limit <= largest else 50


def _environment_json(flag: SimFlag, environment: str, *, with_strategies: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": environment, "enabled": flag.enabled[environment],
                           "type": environment, "hasStrategies": bool(flag.strategies[environment])}
    if with_strategies:
        out["strategies"] = [s.to_json() for s in flag.strategies[environment]]
    return out


def _feature_json(flag: SimFlag, *, with_strategies: bool) -> dict[str, Any]:
    return {"name": flag.name, "project": flag.project, "type": flag.type, "description": flag.description,
            "stale": flag.stale, "createdAt": flag.created_at.isoformat(), "impressionData": False,
            "archived": False, "tags": flag.tags_json(),
            "environments": [_environment_json(flag, e, with_strategies=with_strategies) for e in ENVIRONMENTS]}


def _state(flag: SimFlag) -> str:
    return "stale" if flag.stale else "potentially-stale" if flag.potentially_stale else "active"


def unleash_routes(flags: FlagStore, token: str | None = None) -> list[BaseRoute]:
    """Routes to mount on the simulator's app; with `token`, every request must carry it (as Unleash's
    `Authorization: <token>`, or with `Bearer `)."""

    def refused(request: Request) -> Response | None:
        if token is None:
            return None
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not given or not hmac.compare_digest(given.encode(), token.encode()):
            return _error(401, "AuthenticationRequired", "You must log in to use Unleash.")
        return None

    def handler(fn: Any) -> Any:
        async def run(request: Request) -> Response:
            if (answer := refused(request)) is not None:
                return answer
            try:
                result: Response = await fn(request)
                return result
            except FlagNotFound as e:
                return _error(404, "NotFoundError", str(e.args[0]))
            except FlagExists as e:
                return _error(409, "NameExistsError", str(e))
            except (ValueError, KeyError, TypeError) as e:
                return _error(400, "BadDataError", f"bad request: {e}")
        return run

    async def search_features(request: Request) -> Response:
        projects, states = _values(request, "project"), _values(request, "state")
        if states is not None and not states <= _STALE_STATES:
            raise ValueError(f"state: unknown value {sorted(states - _STALE_STATES)[0]!r}")
        offset, limit = _page(request, 100)
        with flags.lock:
            found = [f for f in flags.flags.values()
                     if (projects is None or f.project in projects) and (states is None or _state(f) in states)]
            found.sort(key=lambda f: f.created_at, reverse=True)
            body = {"features": [_feature_json(f, with_strategies=False) for f in found[offset:offset + limit]],
                    "total": len(found)}
        return JSONResponse(body)

    async def search_events(request: Request) -> Response:
        environments, projects = _values(request, "environment"), _values(request, "project")
        types, features = _values(request, "type"), _values(request, "feature")
        offset, limit = _page(request, 1000)
        with flags.lock:
            found = [e for e in flags.events
                     if (environments is None or e["environment"] in environments)
                     and (projects is None or e["project"] in projects)
                     and (types is None or e["type"] in types)
                     and (features is None or e["featureName"] in features)]
            # as Unleash orders them: newest creation time first, then highest id
            found.sort(key=lambda e: (datetime.fromisoformat(e["createdAt"]), e["id"]), reverse=True)
            body = {"events": found[offset:offset + limit], "total": len(found)}
        return JSONResponse(body)

    async def get_feature(request: Request) -> Response:
        p = request.path_params
        with flags.lock:
            return JSONResponse(_feature_json(flags.get(p["project"], p["feature"]), with_strategies=True))

    async def project_features(request: Request) -> Response:
        """A project's flags, all in one answer, as Unleash 7.5 lists them (no `project` in the items: the path
        names it); `POST` creates one."""
        project = request.path_params["project"]
        if request.method == "POST":
            return await create_feature(request)
        with flags.lock:
            found = sorted((f for f in flags.flags.values() if f.project == project), key=lambda f: f.name)
            body = {"version": 2, "features": [{k: v for k, v in _feature_json(f, with_strategies=False).items()
                                                if k not in ("project", "archived")} for f in found]}
        return JSONResponse(body)

    async def create_feature(request: Request) -> Response:
        data = await request.json()
        flag = flags.create(request.path_params["project"], str(data["name"]), type_=str(data.get("type", "release")),
                            description=str(data.get("description", "")))
        return JSONResponse(_feature_json(flag, with_strategies=False), status_code=201)

    async def add_tag(request: Request) -> Response:
        data = await request.json()
        flags.tag(request.path_params["feature"], str(data["type"]), str(data["value"]))
        return JSONResponse({"type": data["type"], "value": data["value"]}, status_code=201)

    async def add_tag_type(request: Request) -> Response:
        data = await request.json()  # every tag type is accepted: only the feature's tags matter here
        return JSONResponse({"name": data["name"], "description": data.get("description", "")}, status_code=201)

    def _env(request: Request) -> str:
        environment = request.path_params["environment"]
        if environment not in ENVIRONMENTS:
            raise FlagNotFound(f"Could not find environment {environment}")
        return str(environment)

    async def strategies(request: Request) -> Response:
        p = request.path_params
        environment = _env(request)
        if request.method == "GET":
            with flags.lock:
                flag = flags.get(p["project"], p["feature"])
                return JSONResponse([s.to_json() for s in flag.strategies[environment]])
        data = await request.json()
        added = flags.add_strategy(p["project"], p["feature"], environment, str(data["name"]),
                                   data.get("parameters") or {}, data.get("constraints") or [])
        return JSONResponse(added.to_json())

    async def update_strategy(request: Request) -> Response:
        p = request.path_params
        data = await request.json()
        updated = flags.update_strategy(p["project"], p["feature"], _env(request), p["strategy"],
                                        data.get("parameters") or {})
        return JSONResponse(updated.to_json())

    async def stale(request: Request) -> Response:
        data = await request.json()
        flags.set_stale(request.path_params["project"], [str(n) for n in data["features"]], bool(data["stale"]))
        return Response(status_code=202)

    async def toggle(request: Request) -> Response:
        p = request.path_params
        if p["state"] not in ("on", "off"):
            raise FlagNotFound(f"no such path: {p['state']}")
        flags.set_enabled(p["project"], p["feature"], _env(request), p["state"] == "on")
        return Response(status_code=200)

    async def export(request: Request) -> Response:
        """`POST /api/admin/features-batch/export` as Unleash 7.5 answers it: the flags named (`features`) or of
        a project (`project`), their strategies in one environment (`featureStrategies`, each with its
        `featureName`) and whether each is on there (`featureEnvironments`)."""
        data = await request.json()
        if not isinstance(data, dict) or not isinstance(data.get("environment"), str):
            raise ValueError('"environment" is required')
        environment = data["environment"]
        if environment not in ENVIRONMENTS:
            raise ValueError(f"environment {environment!r} does not exist")
        names, project = data.get("features"), data.get("project")
        with flags.lock:
            named = {n for n in names if isinstance(n, str)} if isinstance(names, list) else set()
            chosen = [f for f in flags.flags.values()
                      if f.name in named or (project is not None and f.project == project)]
            body = {
                "features": [{"name": f.name, "description": f.description, "type": f.type, "project": f.project,
                              "stale": f.stale, "impressionData": False, "archived": False} for f in chosen],
                "featureStrategies": [{**{k: v for k, v in s.to_json().items() if k != "sortOrder"},
                                       "featureName": f.name} for f in chosen for s in f.strategies[environment]],
                "featureEnvironments": [{"enabled": f.enabled[environment], "featureName": f.name,
                                         "environment": environment, "variants": [], "name": f.name}
                                        for f in chosen],
                "contextFields": [], "featureTags": [], "segments": [], "tagTypes": [], "dependencies": [],
                "links": [],
            }
        return JSONResponse(body)

    feature = "/projects/{project}/features/{feature}"
    environment = feature + "/environments/{environment}"
    return [Mount("/api/admin", routes=[
        Route("/features-batch/export", handler(export), methods=["POST"]),
        Route("/search/features", handler(search_features)),
        Route("/search/events", handler(search_events)),
        Route("/tag-types", handler(add_tag_type), methods=["POST"]),
        Route("/features/{feature}/tags", handler(add_tag), methods=["POST"]),
        Route("/projects/{project}/features", handler(project_features), methods=["GET", "POST"]),
        Route("/projects/{project}/stale", handler(stale), methods=["POST"]),
        Route(feature, handler(get_feature)),
        Route(environment + "/strategies", handler(strategies), methods=["GET", "POST"]),
        Route(environment + "/strategies/{strategy}", handler(update_strategy), methods=["PUT"]),
        Route(environment + "/{state}", handler(toggle), methods=["POST"]),
    ])]
