"""`GET /api/v1/plans/{id}/events`: the plan as server-sent events until it ends.

Driven by state changes: the stream waits on the notifier's wake-up for the plan (bot/plan_changes)
and rereads the plan only when it fires, so a change made in this process (a step, an approval in
Slack, a cancel) is sent at once. Changes made by another process (a separate `carapulse worker`) are
not heard here, so the stream also rereads every API_EVENTS_RECHECK_SECONDS; that tick writes a
comment line too, which keeps proxies from closing an idle stream and finds clients that went away.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from aiohttp import web

from bot.api import plan_reads, requests
from bot.api.calls import Call
from bot.api.models import PlanOut
from bot.api.service import ApiService

log = logging.getLogger(__name__)

PLAN_EVENT = "plan"
END_EVENT = "end"
ERROR_EVENT = "error"
# How long a client waits before it reconnects after the stream drops (the SSE `retry` field).
RECONNECT_MS = 2000


async def plan_events(api: ApiService, request: web.Request, call: Call) -> web.StreamResponse:
    call.plan_id = requests.plan_id(request)
    with api.changes.watch(api.team_id, call.plan_id) as changed:
        # Read before the stream opens, so an unknown plan is a plain 404.
        plan = await _read(api, call.plan_id)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        try:
            await response.write(f"retry: {RECONNECT_MS}\n\n".encode())
            await _follow(api, response, changed, plan)
        except ConnectionResetError:
            log.debug("event stream of plan %s: the client went away", call.plan_id)
        except Exception:
            # The answer has started: the error can only be told as an event.
            reference = uuid.uuid4().hex[:8]
            log.exception("event stream of plan %s failed (ref %s)", call.plan_id, reference)
            await _send(response, ERROR_EVENT, f'{{"message": "the stream failed (ref {reference})"}}')
    return response


async def _follow(
    api: ApiService, response: web.StreamResponse, changed: asyncio.Event, plan: PlanOut
) -> None:
    """Send the plan each time it reads differently; `end` with its last state once it is final. Ends
    without `end` when the server shuts down, and the client reconnects."""
    shown = ""
    while True:
        body = plan.model_dump_json()
        if plan.final:
            await _send(response, END_EVENT, body)
            return
        if body != shown:
            await _send(response, PLAN_EVENT, body)
            shown = body
        if api.changes.closed:
            return
        try:
            await asyncio.wait_for(changed.wait(), api.recheck_seconds)
        except TimeoutError:
            await response.write(b": recheck\n\n")
        changed.clear()
        plan = await _read(api, plan.id)


async def _read(api: ApiService, plan_id: int) -> PlanOut:
    async with api.runtime.sessions() as session:
        return await plan_reads.plan(
            session, team_id=api.team_id, plan_id=plan_id, redactor=api.runtime.registry.redactor
        )


async def _send(response: web.StreamResponse, event: str, data: str) -> None:
    await response.write(f"event: {event}\ndata: {data}\n\n".encode())
