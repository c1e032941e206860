"""The OpenAPI 3.1 document of the API, generated from the route table and the pydantic models
(their JSON Schema is OpenAPI 3.1's schema dialect), never written by hand."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from bot.api.models import ErrorBody

if TYPE_CHECKING:
    from bot.api.routes import Route

VERSION = "1.0.0"
REF = "#/components/schemas/{model}"
_PATH_PARAMETER = re.compile(r"{(\w+)}")
_REFUSALS = {
    400: "The request cannot be read, or the plan cannot be made as asked",
    401: "No credentials, or credentials that prove nothing (unknown, revoked, expired, forged)",
    403: "The caller may not do this; the policy's reason says why",
    404: "No such plan or workflow in this workspace",
    409: "The plan's state does not allow this (already ended, already cancelled)",
    413: "The body is larger than the server accepts",
    415: "The body is not application/json",
    422: "The body, query or path breaks the model; `problems` names each field",
    429: "The caller asked for as many plans as PLAN_RATE_LIMIT allows; the message says when to ask again",
    502: "The plan is stored, but Slack refused its card",
    503: "The CI provider's signing keys cannot be fetched, so its token cannot be checked now, or this "
    "replica is shutting down (Retry-After)",
}
# Any call may fail to authenticate.
AUTHENTICATION_REFUSALS = (401, 503)


def document(routes: Sequence[Route]) -> dict[str, Any]:
    schemas = _schemas(routes)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Carapulse pipeline API",
            "version": VERSION,
            "description": (
                "CI/CD asks for a change; people approve its card in Slack; the pipeline waits for "
                "the result. Authenticate with `Authorization: Bearer` and a Carapulse API token "
                "(cpt_…) or an OIDC token of a configured CI provider."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _schemas(routes: Sequence[Route]) -> dict[str, Any]:
    modes: dict[type[BaseModel], JsonSchemaMode] = {ErrorBody: "serialization"}
    for route in routes:
        modes[route.answer] = "serialization"
        for model in (route.body, route.query):
            if model is not None:
                modes[model] = "validation"
    _, top = models_json_schema(list(modes.items()), ref_template=REF)
    return dict(top.get("$defs", {}))


def _operation(route: Route, schemas: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "parameters": _path_parameters(route) + _query_parameters(route, schemas),
        "responses": {str(route.status): _success(route)}
        | {str(status): _refusal(status) for status in sorted({*AUTHENTICATION_REFUSALS, *route.refusals})},
    }
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": REF.format(model=route.body.__name__)}}},
        }
    return operation


def _success(route: Route) -> dict[str, Any]:
    schema = {"$ref": REF.format(model=route.answer.__name__)}
    if route.streams:
        return {
            "description": (
                f"Server-sent events: `plan` each time the plan changes, `end` once it has ended (the "
                f"stream then closes); each event's data is a {route.answer.__name__} as JSON"
            ),
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    return {"description": route.summary, "content": {"application/json": {"schema": schema}}}


def _refusal(status: int) -> dict[str, Any]:
    schema = {"$ref": REF.format(model=ErrorBody.__name__)}
    return {"description": _REFUSALS[status], "content": {"application/json": {"schema": schema}}}


def _path_parameters(route: Route) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
        for name in _PATH_PARAMETER.findall(route.path)
    ]


def _query_parameters(route: Route, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    if route.query is None:
        return []
    schema = schemas[route.query.__name__]
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": field}
        for name, field in schema["properties"].items()
    ]
