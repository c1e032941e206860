"""Free text to a proposal through the configured planner, with the context the providers find;
then, for a plan, stored and posted like any other."""

from __future__ import annotations

from collections.abc import Sequence

from bot import operations, plan_rate, planning_context
from bot.clock import utcnow
from bot.domain import Actor
from bot.operations import Runtime
from bot.planners import PlanAsk, Proposal
from bot.planning_context import ContextItem, ContextQuery


async def propose(
    runtime: Runtime,
    *,
    requester: Actor,
    text: str,
    channel_id: str = "",
    data: Sequence[ContextItem] = (),
    may_investigate: bool = False,
) -> Proposal:
    """What the planner reads from `text`, given `data` (a thread, alert labels) and what the context
    providers find for it; raises UserError when it reads nothing it may propose, and RateLimited
    (before any model call) when the requester has asked for as many plans as PLAN_RATE_LIMIT allows."""
    if runtime.plan_rate is not None:
        async with runtime.sessions() as session:
            await plan_rate.ensure_allowed(session, rate=runtime.plan_rate, requester=requester, now=utcnow())
    query = ContextQuery(
        team_id=requester.team_id, environment=runtime.environment, text=text, channel_id=channel_id
    )
    found = await planning_context.gather(runtime.context_providers, query)
    ask = PlanAsk(
        text=text,
        requester=requester,
        environment=runtime.environment,
        workflows=runtime.workflows,
        registry=runtime.registry,
        context=[*data, *found],
        may_investigate=may_investigate and runtime.model is not None,
    )
    return await runtime.planner.propose(ask)


async def plan_text(
    runtime: Runtime, *, requester: Actor, channel_id: str, thread_ts: str | None, text: str, source_key: str
) -> int:
    """Plan `text` and post the card; the plan's id."""
    proposal = await propose(runtime, requester=requester, text=text, channel_id=channel_id)
    return await operations.plan_proposal(
        runtime,
        requester=requester,
        channel_id=channel_id,
        thread_ts=thread_ts,
        proposal=proposal,
        intent=text,
        source_key=source_key,
    )
