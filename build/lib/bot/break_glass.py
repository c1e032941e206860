"""Break-glass: an admin forces a blocked or under-approved plan through, with a reason, loudly.

Also the quiet way out of Blocked: when a freeze is lifted, plans it was holding back are checked
again and started if policy now lets them run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, freezes, plans
from bot.audit import AuditKind
from bot.clock import utcnow
from bot.db.models import Plan
from bot.domain import Actor, PlanStatus
from bot.errors import PolicyDenied, UserError
from bot.policy import PlanFacts, Policy, refusal
from bot.policy_engine import Freeze

MAX_REASON_LENGTH = 2000


@dataclass(frozen=True)
class BrokenGlass:
    plan: Plan
    bypassed: list[str]
    """The policy's objections that break-glass overrode, for the security notice."""


async def check_allowed(session: AsyncSession, *, plan_id: int, actor: Actor, policy: Policy) -> Plan:
    """Refuse early (before a modal opens) when the plan is not open or the actor may not do it."""
    plan = await plans.get(session, team_id=actor.team_id, plan_id=plan_id)
    await _authorize(session, plan, actor, policy)
    return plan


async def _authorize(
    session: AsyncSession, plan: Plan, actor: Actor, policy: Policy
) -> tuple[PlanFacts, Sequence[Freeze]]:
    plans.require_open_for_decision(plan.id, plan.status, verb="break glass for")
    facts = await plans.plan_facts(session, plan)
    frozen = await freezes.active(session, team_id=plan.team_id)
    check = policy.decide("break_glass", actor=actor, plan=facts, freezes=frozen)
    if not check.allow:
        raise PolicyDenied(refusal(check))
    return facts, frozen


async def break_glass(
    session: AsyncSession, *, plan_id: int, actor: Actor, reason: str, policy: Policy
) -> BrokenGlass:
    """Record who broke glass and why, and queue the plan with the approvals it has."""
    reason = reason.strip()
    if not reason:
        raise UserError("Break-glass needs a reason; it goes to the security channel and the audit log.")
    if len(reason) > MAX_REASON_LENGTH:
        raise UserError(f"Keep the reason under {MAX_REASON_LENGTH} characters.")
    plan = await plans.get(session, team_id=actor.team_id, plan_id=plan_id, for_update=True)
    facts, frozen = await _authorize(session, plan, actor, policy)
    approvers = await plans.approver_ids(session, plan, valid_for=policy.approval_ttl)
    would_run = policy.decide("plan.execute", actor=actor, plan=facts, approver_ids=approvers, freezes=frozen)
    bypassed = [r for r in would_run.reasons if r.startswith("Denied:")]
    now = utcnow()
    plan.break_glass_by = actor.user_id
    plan.break_glass_reason = reason
    plan.break_glass_at = now
    plan.status_actor_id = actor.user_id
    plan.updated_at = now
    await audit.record(
        session,
        team_id=plan.team_id,
        actor_id=actor.user_id,
        kind=AuditKind.BREAK_GLASS,
        plan_id=plan.id,
        detail={"reason": reason, "bypassed": bypassed, "approvers": approvers},
    )
    await plans.start_execution(session, plan)
    return BrokenGlass(plan=plan, bypassed=bypassed)


async def release_blocked(
    session: AsyncSession, *, team_id: str, environment: str, policy: Policy
) -> list[int]:
    """Start the blocked plans of `environment` that policy lets run now; their ids."""
    blocked = await session.scalars(
        select(Plan)
        .where(Plan.team_id == team_id, Plan.status == PlanStatus.BLOCKED)
        .order_by(Plan.id)
        .with_for_update()
    )
    frozen = await freezes.active(session, team_id=team_id)
    started: list[int] = []
    for plan in blocked.all():
        if plan.target["environment"] != environment:
            continue
        facts = await plans.plan_facts(session, plan)
        approvers = await plans.approver_ids(session, plan, valid_for=policy.approval_ttl)
        requester = Actor(team_id=team_id, user_id=plan.requester_id)
        run = policy.decide(
            "plan.execute", actor=requester, plan=facts, approver_ids=approvers, freezes=frozen
        )
        if run.allow:
            await plans.start_execution(session, plan)
            started.append(plan.id)
    return started
