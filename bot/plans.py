"""Plan lifecycle: create, approve, reject, cancel. Services never commit; the caller's
transaction makes each multi-row change land whole."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, freezes
from bot.audit import AuditKind
from bot.clock import utcnow
from bot.db.models import Approval, Execution, Plan, PlanStep
from bot.domain import (
    Actor,
    BlastRadius,
    ExecutionStatus,
    PlanDraft,
    PlanStatus,
    PolicyDecision,
    RiskLevel,
    StepSpec,
)
from bot.errors import Conflict, NotFound, PolicyDenied, UserError
from bot.policy import PlanFacts, Policy, as_decision, as_record, refusal
from bot.policy_engine import PolicyResult

MAX_REASON_LENGTH = 2000


@dataclass(frozen=True)
class Created:
    plan: Plan
    is_new: bool


@dataclass(frozen=True)
class Approved:
    plan: Plan
    execution: Execution | None


async def submit(
    session: AsyncSession,
    *,
    requester: Actor,
    channel_id: str,
    source_key: str,
    draft: PlanDraft,
    policy: Policy,
) -> Created:
    """Decide a draft under the freezes active now and store it with that decision; refused
    outright when policy denies it and break-glass could not override."""
    facts = PlanFacts(
        requester_id=requester.user_id,
        environment=draft.target.environment,
        steps=draft.steps,
        targets=draft.risk.targets,
        dependents=len(draft.risk.dependents or ()),
    )
    frozen = await freezes.active(session, team_id=requester.team_id)
    result = policy.decide("plan.create", actor=requester, plan=facts, freezes=frozen)
    if not result.allow and not result.break_glass_required:
        raise PolicyDenied(refusal(result))
    # The card shows the risk the policy judged, not the planner's first guess.
    judged = {"level": RiskLevel(result.risk.level), "blast_radius": BlastRadius(result.risk.blast_radius)}
    risk = draft.risk.model_copy(update=judged)
    return await create(
        session,
        requester=requester,
        channel_id=channel_id,
        source_key=source_key,
        draft=draft.model_copy(update={"risk": risk}),
        decision=as_decision(result),
    )


async def create(
    session: AsyncSession,
    *,
    requester: Actor,
    channel_id: str,
    source_key: str,
    draft: PlanDraft,
    decision: PolicyDecision,
) -> Created:
    """Store a plan with its steps; a second delivery of the same Slack request returns the first."""
    now = utcnow()
    plan = Plan(
        team_id=requester.team_id,
        source_key=source_key,
        requester_id=requester.user_id,
        channel_id=channel_id,
        intent=draft.intent,
        summary=draft.summary,
        target=draft.target.model_dump(mode="json"),
        risk=draft.risk.model_dump(mode="json"),
        decision=decision.model_dump(mode="json"),
        rollback=draft.rollback,
        workflow_name=draft.workflow.name if draft.workflow else None,
        workflow_version=draft.workflow.version if draft.workflow else None,
        workflow_override=draft.workflow.override if draft.workflow else None,
        plan_hash=plan_hash(draft),
        # Created against policy only when break-glass could override what stands in the way.
        status=PlanStatus.AWAITING_APPROVAL if decision.allow else PlanStatus.BLOCKED,
        created_at=now,
        updated_at=now,
        steps=[
            PlanStep(
                position=position,
                stage=step.stage,
                action=step.action,
                args=step.args,
                description=step.description,
                timeout_seconds=step.timeout_seconds,
                risk=step.risk,
                rerun_on_rollback=step.rerun_on_rollback,
            )
            for position, step in enumerate(draft.steps)
        ],
    )
    try:
        async with session.begin_nested():
            session.add(plan)
    except IntegrityError:
        existing = await session.scalar(
            select(Plan).where(Plan.team_id == requester.team_id, Plan.source_key == source_key)
        )
        if existing is None:
            raise
        return Created(plan=existing, is_new=False)
    await audit.record(
        session,
        team_id=requester.team_id,
        actor_id=requester.user_id,
        kind=AuditKind.PLAN_CREATED,
        plan_id=plan.id,
        detail={"intent": draft.intent, "plan_hash": plan.plan_hash, "decision": plan.decision},
    )
    if decision.allow and decision.required_approvals == 0:
        await start_execution(session, plan)
    return Created(plan=plan, is_new=True)


async def approve(session: AsyncSession, *, plan_id: int, approver: Actor, policy: Policy) -> Approved:
    """Record an approval bound to the plan's current hash; queue the execution once quorum is met.

    The plan row is locked for the rest of the transaction, so concurrent approvals are counted
    one at a time, and the unique constraint on executions backs that up.
    """
    plan = await get(session, team_id=approver.team_id, plan_id=plan_id, for_update=True)
    require_open_for_decision(plan.id, plan.status, verb="approve")
    facts = await plan_facts(session, plan)
    frozen = await freezes.active(session, team_id=plan.team_id)
    check = policy.decide("plan.approve", actor=approver, plan=facts, freezes=frozen)
    if not check.allow:
        raise PolicyDenied(refusal(check))
    try:
        async with session.begin_nested():
            session.add(
                Approval(
                    team_id=plan.team_id,
                    plan_id=plan.id,
                    user_id=approver.user_id,
                    decision="approve",
                    plan_hash=plan.plan_hash,
                    created_at=utcnow(),
                )
            )
    except IntegrityError:
        raise Conflict(f"You have already approved plan #{plan.id}.") from None
    await audit.record(
        session,
        team_id=plan.team_id,
        actor_id=approver.user_id,
        kind=AuditKind.PLAN_APPROVED,
        plan_id=plan.id,
        detail={"plan_hash": plan.plan_hash, "decision": as_record(check)},
    )
    approvers = await approver_ids(session, plan, valid_for=policy.approval_ttl)
    run = policy.decide("plan.execute", actor=approver, plan=facts, approver_ids=approvers, freezes=frozen)
    plan.updated_at = utcnow()
    if run.allow:
        return Approved(plan=plan, execution=await start_execution(session, plan))
    if len(run.counted_approvals) >= run.required_approvals:
        await block(session, plan, run, actor_id=approver.user_id)
    return Approved(plan=plan, execution=None)


async def block(session: AsyncSession, plan: Plan, result: PolicyResult, *, actor_id: str) -> None:
    """Enough approvals, yet policy still says no (a freeze, a closed window): the plan waits as
    Blocked with the policy's reasons on its card, until the freeze lifts or an admin breaks glass."""
    plan.status = PlanStatus.BLOCKED
    plan.decision = as_decision(result).model_dump(mode="json")
    await audit.record(
        session,
        team_id=plan.team_id,
        actor_id=actor_id,
        kind=AuditKind.PLAN_BLOCKED,
        plan_id=plan.id,
        detail={"reasons": result.reasons},
    )


async def reject(session: AsyncSession, *, plan_id: int, actor: Actor, reason: str) -> Plan:
    reason = reason.strip()
    if not reason:
        raise UserError("Give a reason for the rejection; it is shown on the plan card.")
    if len(reason) > MAX_REASON_LENGTH:
        raise UserError(f"Keep the reason under {MAX_REASON_LENGTH} characters.")
    plan = await get(session, team_id=actor.team_id, plan_id=plan_id, for_update=True)
    require_open_for_decision(plan.id, plan.status, verb="reject")
    _finish(plan, PlanStatus.REJECTED, actor_id=actor.user_id, reason=reason)
    await audit.record(
        session,
        team_id=plan.team_id,
        actor_id=actor.user_id,
        kind=AuditKind.PLAN_REJECTED,
        plan_id=plan.id,
        detail={"reason": reason},
    )
    return plan


async def cancel(session: AsyncSession, *, plan_id: int, actor: Actor, policy: Policy) -> Plan:
    """Cancel a plan that has not finished.

    Before the worker has started, the plan ends here. Once it runs, cancellation is requested and
    the worker ends the plan at the next step boundary, so no step is cut off half-way.
    """
    plan = await get(session, team_id=actor.team_id, plan_id=plan_id, for_update=True)
    if PlanStatus(plan.status).is_final:
        raise Conflict(f"Plan #{plan.id} has already ended ({_label(plan.status)}).")
    check = policy.decide("plan.cancel", actor=actor, plan=await plan_facts(session, plan))
    if not check.allow:
        raise PolicyDenied(refusal(check))
    execution = await session.scalar(select(Execution).where(Execution.plan_id == plan.id).with_for_update())
    if execution is not None and execution.status == ExecutionStatus.RUNNING:
        execution.cancel_requested = True
        plan.status_actor_id = actor.user_id
        plan.status_reason = "cancel requested"
        plan.updated_at = utcnow()
    else:
        if execution is not None:
            execution.status = ExecutionStatus.CANCELLED
            execution.finished_at = utcnow()
        _finish(plan, PlanStatus.CANCELLED, actor_id=actor.user_id, reason="")
    await audit.record(
        session,
        team_id=plan.team_id,
        actor_id=actor.user_id,
        kind=AuditKind.PLAN_CANCELLED,
        plan_id=plan.id,
        detail={
            "while": "running" if execution and execution.cancel_requested else "waiting",
            "decision": as_record(check),
        },
    )
    return plan


async def get(session: AsyncSession, *, team_id: str, plan_id: int, for_update: bool = False) -> Plan:
    query = select(Plan).where(Plan.team_id == team_id, Plan.id == plan_id)
    if for_update:
        query = query.with_for_update()
    plan = await session.scalar(query)
    if plan is None:
        raise NotFound(f"There is no plan #{plan_id} in this workspace.")
    return plan


async def approver_ids(session: AsyncSession, plan: Plan, *, valid_for: timedelta) -> list[str]:
    """Who approved the plan as it is now (same hash) within `valid_for`; approvals of an older
    version of the plan, or older than that, do not count."""
    rows = await session.scalars(
        select(Approval.user_id)
        .where(
            Approval.plan_id == plan.id,
            Approval.plan_hash == plan.plan_hash,
            Approval.created_at > utcnow() - valid_for,
        )
        .order_by(Approval.id)
    )
    return list(rows.all())


async def plan_facts(session: AsyncSession, plan: Plan) -> PlanFacts:
    steps = await session.scalars(
        select(PlanStep).where(PlanStep.plan_id == plan.id).order_by(PlanStep.position)
    )
    return PlanFacts(
        requester_id=plan.requester_id,
        environment=plan.target["environment"],
        steps=[
            StepSpec(stage=s.stage, action=s.action, args=s.args, description=s.description, risk=s.risk)
            for s in steps
        ],
        targets=plan.risk["targets"],
        dependents=len(plan.risk.get("dependents") or ()),
    )


def plan_hash(draft: PlanDraft) -> str:
    """Hash of everything an approver looked at; any change to it voids earlier approvals."""
    content = {
        "intent": draft.intent,
        "target": draft.target.model_dump(mode="json"),
        "steps": [step.model_dump(mode="json") for step in draft.steps],
        "rollback": draft.rollback,
    }
    if draft.workflow is not None:
        content["workflow"] = draft.workflow.model_dump(mode="json")
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


async def start_execution(session: AsyncSession, plan: Plan) -> Execution:
    """Queue the plan's one execution; the worker picks it up."""
    plan.status = PlanStatus.APPROVED
    plan.updated_at = utcnow()
    execution = Execution(
        team_id=plan.team_id,
        plan_id=plan.id,
        status=ExecutionStatus.QUEUED,
        attempts=0,
        cancel_requested=False,
        error="",
        created_at=utcnow(),
    )
    session.add(execution)
    await session.flush()
    return execution


def _finish(plan: Plan, status: PlanStatus, *, actor_id: str, reason: str) -> None:
    now = utcnow()
    plan.status = status
    plan.status_actor_id = actor_id
    plan.status_reason = reason
    plan.updated_at = now
    plan.finished_at = now


OPEN_FOR_DECISION = frozenset({PlanStatus.AWAITING_APPROVAL, PlanStatus.BLOCKED})


def require_open_for_decision(plan_id: int, status: str, *, verb: str) -> None:
    """Approve, reject and break-glass only make sense before a plan has been let run."""
    if status not in OPEN_FOR_DECISION:
        raise Conflict(f"Plan #{plan_id} is {_label(status)}; there is nothing to {verb}.")


def _label(status: str) -> str:
    return status.replace("_", " ")
