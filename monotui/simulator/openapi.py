"""The OpenAPI 3.1 document of the monotui deploy API, generated from the same models the client uses."""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec

from monotui import __version__
from monotui.action_kinds import DEPLOY_API_ACTIONS
from monotui.models import (
    ActionRequest,
    ActionResponse,
    ApiError,
    EventPage,
    Freeze,
    FreezeRequest,
    HealthChanges,
    HealthList,
    LogLine,
    Rollout,
    RolloutChanges,
    RolloutList,
)
from monotui.revisions import RevisionList
from monotui.simulator.revisions import openapi_paths as revision_paths

REF = "#/components/schemas/{name}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(name=name)}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "bad request (e.g. missing Idempotency-Key)",
        401: "missing bearer token",
        403: "wrong bearer token",
        404: "no such rollout, action or revision",
        409: "the action does not fit the rollout's state",
        410: "the cursor or continue token is too old, or from another run of the server: list again without it",
        412: "target_changed: the rollout is no longer at the expected_revision (or expected_step) sent",
        422: "invalid body, or an Idempotency-Key reused for another request",
    }
    return {str(c): _json("ApiError", text[c]) for c in codes}


@cache
def openapi_document() -> dict[str, Any]:
    _, schemas = msgspec.json.schema_components(
        (RolloutList, HealthList, EventPage, ActionRequest, ActionResponse, ApiError, Rollout, RolloutChanges,
         HealthChanges, Freeze, FreezeRequest, RevisionList, LogLine), ref_template=REF)
    auth: list[dict[str, list[str]]] = [{"bearer": []}]
    page_parameters = [
        {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1},
         "description": "page the list: at most this many items (the server may send fewer), and `continue` in "
                        "the answer when more follow; without it the whole list comes in one answer"},
        {"name": "continue", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "the `continue` token of the previous page: the next page of the same listing (a "
                        "snapshot: every item exactly once); 410 when it expired: list again from the first page"},
    ]
    feed_parameters = [
        {"name": "since", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "the cursor of the previous answer; without it, everything is listed"},
        {"name": "wait", "in": "query", "required": False,
         "schema": {"type": "number", "minimum": 0, "maximum": 30, "default": 0},
         "description": "long-poll: with since, wait up to this many seconds for a change before answering"},
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "monotui deploy API",
            "version": __version__,
            "description": "What a deploy pipeline implements so that monotui can show and drive its rollouts. "
            "See docs/deploy-api.md.",
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": auth,
        "paths": {
            "/v1/rollouts": {
                "get": {
                    "operationId": "listRollouts",
                    "summary": "Every live rollout, in one request",
                    "parameters": [{"name": "If-None-Match", "in": "header", "required": False,
                                    "schema": {"type": "string"}}, *page_parameters],
                    "responses": {
                        "200": {**_json("RolloutList", "all rollouts (or one page of them)"),
                                "headers": {"ETag": {"schema": {"type": "string"}}}},
                        "304": {"description": "unchanged since the ETag given in If-None-Match"},
                        **_errors(400, 401, 403, 410),
                    },
                }
            },
            "/v1/rollouts/{rollout_id}": {
                "get": {
                    "operationId": "getRollout",
                    "summary": "One rollout",
                    "parameters": [{"name": "rollout_id", "in": "path", "required": True,
                                    "schema": {"type": "string"}}],
                    "responses": {"200": _json("Rollout", "the rollout"), **_errors(401, 403, 404)},
                }
            },
            **revision_paths(),
            "/v1/rollouts/{rollout_id}/actions/{action}": {
                "post": {
                    "operationId": "act",
                    "summary": "Pause, resume, promote one step, promote fully, abort or roll back",
                    "parameters": [
                        {"name": "rollout_id", "in": "path", "required": True, "schema": {"type": "string"}},
                        {"name": "action", "in": "path", "required": True,
                         "schema": {"type": "string", "enum": [a.value for a in DEPLOY_API_ACTIONS]}},
                        {"name": "Idempotency-Key", "in": "header", "required": True,
                         "schema": {"type": "string", "minLength": 1},
                         "description": "a repeated key returns the first answer and never acts twice"},
                    ],
                    "requestBody": {"required": True,
                                    "content": {"application/json": {"schema": _ref("ActionRequest")}}},
                    "responses": {"200": _json("ActionResponse", "done; the rollout as it is now"),
                                  **_errors(400, 401, 403, 404, 409, 412, 422)},
                }
            },
            "/v1/health": {
                "get": {
                    "operationId": "listHealth",
                    "summary": "Health of every service, in one request or in pages",
                    "parameters": page_parameters,
                    "responses": {"200": _json("HealthList", "per-service health"), **_errors(400, 401, 403, 410)},
                }
            },
            "/v1/changes/rollouts": {
                "get": {
                    "operationId": "rolloutChanges",
                    "summary": "Rollouts changed since a cursor (every rollout without one)",
                    "parameters": [*feed_parameters, *page_parameters],
                    "responses": {"200": _json("RolloutChanges", "the changes, and the next cursor"),
                                  **_errors(400, 401, 403, 410)},
                }
            },
            "/v1/changes/health": {
                "get": {
                    "operationId": "healthChanges",
                    "summary": "Services whose health moved beyond a step since a cursor (every service without one)",
                    "parameters": [*feed_parameters, *page_parameters],
                    "responses": {"200": _json("HealthChanges", "the changes, and the next cursor"),
                                  **_errors(400, 401, 403, 410)},
                }
            },
            "/v1/freeze": {
                "get": {
                    "operationId": "getFreeze",
                    "summary": "Whether the line is frozen, since when, by whom, why, for which services",
                    "responses": {"200": _json("Freeze", "the freeze, or frozen: false"), **_errors(401, 403)},
                },
                "put": {
                    "operationId": "setFreeze",
                    "summary": "Stop the line: no new deploy starts; promote, promote_full and resume answer 409 "
                               "for the services held (rollback, abort and pause stay allowed)",
                    "requestBody": {"required": True,
                                    "content": {"application/json": {"schema": _ref("FreezeRequest")}}},
                    "responses": {"200": _json("Freeze", "frozen"), **_errors(401, 403, 404, 422)},
                },
                "delete": {
                    "operationId": "liftFreeze",
                    "summary": "Lift the freeze (the rollouts it paused stay paused until resumed)",
                    "responses": {"200": _json("Freeze", "frozen: false"), **_errors(401, 403)},
                },
            },
            "/v1/events": {
                "get": {
                    "operationId": "listEvents",
                    "summary": "Events newer than a cursor",
                    "parameters": [
                        {"name": "since", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 0, "default": 0}},
                        {"name": "limit", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": 5000, "default": 500}},
                    ],
                    "responses": {"200": _json("EventPage", "events, oldest first"), **_errors(400, 401, 403)},
                }
            },
            "/v1/rollouts/{rollout_id}/logs": {
                "get": {
                    "operationId": "rolloutLogs",
                    "summary": "Optional: the lines the instances of one revision wrote, as newline-delimited JSON "
                               "LogLine objects (oldest first); with follow, the stream stays open and sends each "
                               "new line as it is written. A server without logs answers 404.",
                    "parameters": [
                        {"name": "rollout_id", "in": "path", "required": True, "schema": {"type": "string"}},
                        {"name": "revision", "in": "query", "required": False,
                         "schema": {"type": "string", "default": "canary"},
                         "description": "canary (the current revision), stable, or a revision number"},
                        {"name": "since_s", "in": "query", "required": False,
                         "schema": {"type": "number", "exclusiveMinimum": 0},
                         "description": "only lines written in the last since_s seconds"},
                        {"name": "tail", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 0}, "description": "only the last tail lines"},
                        {"name": "follow", "in": "query", "required": False,
                         "schema": {"type": "boolean", "default": False}},
                    ],
                    "responses": {"200": {"description": "one LogLine per line",
                                          "content": {"application/x-ndjson": {"schema": _ref("LogLine")}}},
                                  **_errors(400, 401, 403, 404)},
                }
            },
        },
    }
