"""The plan routes: create (from a workflow and inputs, or from a sentence), read, list, cancel.
They call the services the Slack listeners call, as a pipeline Actor, and post the card into
API_CHANNEL, where people approve it."""

from __future__ import annotations

import shlex
import uuid

from aiohttp import web

from bot import operations
from bot.api import plan_reads, requests
from bot.api.calls import Call, answer
from bot.api.models import InputValue, PlanCreate, PlanCreated, PlanQuery
from bot.api.service import ApiService
from bot.domain import Actor, PlanDraft
from bot.workflows.catalog import WorkflowRequest

API_PREFIX = "/api/v1"


async def create_plan(api: ApiService, request: web.Request, call: Call) -> web.Response:
    body = await requests.json_body(request, PlanCreate)
    key = requests.idempotency_key(request)
    # Keyed per caller, so two pipelines choosing the same key never share a plan.
    source_key = f"api:{call.actor.user_id}:{key}" if key else f"api:{uuid.uuid4()}"
    plan_id = await _plan(api, call.actor, body, source_key)
    call.plan_id = plan_id
    view = await operations.status(api.runtime, actor=call.actor, plan_id=plan_id)
    link = await api.runtime.notifier.permalink(team_id=api.team_id, plan_id=plan_id)
    created = PlanCreated(
        id=plan_id, status=view.status, url=plan_url(request, plan_id), slack_permalink=link
    )
    return answer(created, status=201)


async def get_plan(api: ApiService, request: web.Request, call: Call) -> web.Response:
    call.plan_id = requests.plan_id(request)
    async with api.runtime.sessions() as session:
        plan = await plan_reads.plan(
            session, team_id=api.team_id, plan_id=call.plan_id, redactor=api.runtime.registry.redactor
        )
    return answer(plan)


async def list_plans(api: ApiService, request: web.Request, call: Call) -> web.Response:
    query = requests.query(request, PlanQuery)
    async with api.runtime.sessions() as session:
        return answer(await plan_reads.page(session, team_id=api.team_id, query=query))


async def cancel_plan(api: ApiService, request: web.Request, call: Call) -> web.Response:
    call.plan_id = requests.plan_id(request)
    await operations.cancel(api.runtime, actor=call.actor, plan_id=call.plan_id)
    return await get_plan(api, request, call)


def plan_url(request: web.Request, plan_id: int) -> str:
    return str(request.url.with_path(f"{API_PREFIX}/plans/{plan_id}").with_query(None))


async def _plan(api: ApiService, actor: Actor, body: PlanCreate, source_key: str) -> int:
    """The same path as `/carapulse <intent>` or `/carapulse workflow start <name> k=v …`."""
    runtime = api.runtime
    if body.workflow is not None:
        typed = {name: _as_typed(value) for name, value in body.inputs.items()}
        start = operations.workflow_start(runtime, WorkflowRequest(name=body.workflow, typed=typed))
        pairs = " ".join(shlex.quote(f"{name}={value}") for name, value in typed.items())
        intent = f"workflow start {body.workflow} {pairs}".strip()
    else:
        intent = body.intent or ""
        understood = operations.understand(runtime, intent)
        if isinstance(understood, PlanDraft):
            return await operations.request_plan(
                runtime,
                requester=actor,
                channel_id=api.channel_id,
                thread_ts=None,
                draft=understood,
                source_key=source_key,
            )
        start = understood
    return await operations.start_workflow(
        runtime,
        requester=actor,
        channel_id=api.channel_id,
        thread_ts=None,
        start=start,
        intent=intent,
        source_key=source_key,
    )


def _as_typed(value: InputValue) -> str:
    """Inputs as the workflow's form would have them typed; its model reads them back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
