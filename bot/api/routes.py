"""The API's routes in one table: aiohttp serves them and the OpenAPI document describes them
from the same entries, so neither can drift from the other."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from aiohttp import web
from pydantic import BaseModel

from bot.api import openapi
from bot.api.calls import Handler, endpoint, refused
from bot.api.events import plan_events
from bot.api.models import PlanCreate, PlanCreated, PlanOut, PlanPage, PlanQuery
from bot.api.plan_routes import API_PREFIX, cancel_plan, create_plan, get_plan, list_plans
from bot.api.service import ApiService

OPENAPI_PATH = f"{API_PREFIX}/openapi.json"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation_id: str
    summary: str
    handler: Handler
    answer: type[BaseModel]
    status: int = 200
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    # The answer is a text/event-stream whose events each carry an `answer` as JSON.
    streams: bool = False
    # Besides openapi.AUTHENTICATION_REFUSALS, which any call may get.
    refusals: tuple[int, ...] = ()

    @property
    def aiohttp_path(self) -> str:
        return self.path.replace("{plan_id}", r"{plan_id:\d+}")


ROUTES: tuple[Route, ...] = (
    Route(
        "POST",
        f"{API_PREFIX}/plans",
        "createPlan",
        "Plan a change from a workflow and its inputs, or a sentence; its card goes to Slack to be approved",
        create_plan,
        PlanCreated,
        status=201,
        body=PlanCreate,
        refusals=(400, 403, 404, 409, 413, 415, 422, 429, 502),
    ),
    Route(
        "GET",
        f"{API_PREFIX}/plans",
        "listPlans",
        "Plans of the workspace, newest first, a page at a time",
        list_plans,
        PlanPage,
        query=PlanQuery,
        refusals=(422,),
    ),
    Route(
        "GET",
        f"{API_PREFIX}/plans/{{plan_id}}",
        "getPlan",
        "A plan with its steps, approvals and execution",
        get_plan,
        PlanOut,
        refusals=(404, 422),
    ),
    Route(
        "POST",
        f"{API_PREFIX}/plans/{{plan_id}}/cancel",
        "cancelPlan",
        "Cancel a plan (a running one stops at the next step boundary)",
        cancel_plan,
        PlanOut,
        refusals=(403, 404, 409, 422),
    ),
    Route(
        "GET",
        f"{API_PREFIX}/plans/{{plan_id}}/events",
        "planEvents",
        "The plan as server-sent events each time it changes, until it ends",
        plan_events,
        PlanOut,
        streams=True,
        refusals=(404, 422),
    ),
)


def register(app: web.Application, api: ApiService | None) -> None:
    """Serve the API, or, when it is off, answer its paths with why."""
    if api is None:
        app.router.add_route("*", f"{API_PREFIX}/{{tail:.*}}", _api_off)
        return
    for route in ROUTES:
        app.router.add_route(route.method, route.aiohttp_path, endpoint(api, route.handler))
    app.router.add_get(OPENAPI_PATH, _openapi)
    app.on_shutdown.append(lambda _: api.aclose())


async def _openapi(_: web.Request) -> web.Response:
    return web.json_response(_document())


@functools.cache
def _document() -> dict:  # type: ignore[type-arg]
    return openapi.document(ROUTES)


async def _api_off(_: web.Request) -> web.Response:
    return refused(404, "api_off", "The API is off on this Carapulse: set API_CHANNEL and API_TEAM_ID.")
