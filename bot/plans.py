"""Plan lifecycle: create, approve, reject, cancel. Services never commit; the caller's
transaction makes each multi-row change land whole."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, freezes
from bot.approval_rules import ApprovalRules
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
from bot.policy_engine import Freeze, PolicyResult

MAX_REASON_LENGTH = 2000


class OutdatedVersion(Conflict):
    def __init__(self, plan_id: int, *, seen: int, current: int) -> None:
        super().__init__(
            f"Plan #{plan_id} was edited after you saw it: your click was for v{seen}, the plan is "
            f"v{current} now, and nothing was done. Read the updated card and decide again."
        )


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
    approvals: ApprovalRules | None = None,
    min_approvals: int = 0,
) -> Created:
    """Decide a draft under the freezes active now and store it with that decision; refused
    outright when policy denies it and break-glass could not override. `approvals` says whether
    approving it will take a typed confirmation; `min_approvals` raises the approvals the card asks
    for (a plan nobody asked for, proposed for an incident, waits for one)."""
    judged, decision = await decide(session, requester=requester, draft=draft, policy=policy)
    return await create(
        session,
        requester=requester,
        channel_id=channel_id,
        source_key=source_key,
        draft=judged,
        decision=_at_least(decision, min_approvals),
        confirm_word=approvals.confirm_word(judged) if approvals else None,
    )


async def decide(
    session: AsyncSession, *, requester: Actor, draft: PlanDraft, policy: Policy
) -> tuple[PlanDraft, PolicyDecision]:
    """Ask the policy whether `requester` may have this plan, under the freezes active now: the
    draft with the risk the policy judged, and the decision; raises PolicyDenied when not even
    break-glass could override."""
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
    return draft.model_copy(update={"risk": risk}), as_decision(result)


async def create(
    session: AsyncSession,
    *,
    requester: Actor,
    channel_id: str,
    source_key: str,
    draft: PlanDraft,
    decision: PolicyDecision,
    confirm_word: str | None = None,
) -> Created:
    """Store a plan with its steps; a second delivery of the same Slack request returns the first."""
    now = utcnow()
    plan = Plan(
        team_id=requester.team_id,
        source_key=source_key,
        requester_id=requester.user_id,
        channel_id=channel_id,
        created_at=now,
        steps=[step_row(position, step) for position, step in enumerate(draft.steps)],
    )
    apply_draft(plan, draft, decision, version=1, confirm_word=confirm_word)
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


def apply_draft(
    plan: Plan, draft: PlanDraft, decision: PolicyDecision, *, version: int, confirm_word: str | None
) -> None:
    """Make `plan` the draft as `version`, waiting for approval under `decision` (steps apart)."""
    plan.intent = draft.intent
    plan.summary = draft.summary
    plan.target = draft.target.model_dump(mode="json")
    plan.risk = draft.risk.model_dump(mode="json")
    plan.decision = decision.model_dump(mode="json")
    plan.rollback = draft.rollback
    plan.workflow_name = draft.workflow.name if draft.workflow else None
    plan.workflow_version = draft.workflow.version if draft.workflow else None
    plan.workflow_override = draft.workflow.override if draft.workflow else None
    plan.workflow_inputs = draft.workflow_inputs
    plan.planner = draft.planner.name if draft.planner else None
    plan.planner_model = draft.planner.model if draft.planner else None
    plan.planner_note = draft.planner.note if draft.planner else None
    plan.version = version
    plan.confirm_word = confirm_word
    plan.plan_hash = version_hash(draft, version)
    # Stored against policy only when break-glass could override what stands in the way.
    plan.status = PlanStatus.AWAITING_APPROVAL if decision.allow else PlanStatus.BLOCKED
    plan.updated_at = utcnow()


def step_row(position: int, step: StepSpec) -> PlanStep:
    return PlanStep(
        position=position,
        stage=step.stage,
        action=step.action,
        args=step.args,
        description=step.description,
        timeout_seconds=step.timeout_seconds,
        risk=step.risk,
        rerun_on_rollback=step.rerun_on_rollback,
    )


def step_spec(row: PlanStep) -> StepSpec:
    return StepSpec(
        stage=row.stage,
        action=row.action,
        args=row.args,
        description=row.description,
        timeout_seconds=row.timeout_seconds,
        risk=row.risk,
        rerun_on_rollback=row.rerun_on_rollback,
    )


async def approve(
    session: AsyncSession,
    *,
    plan_id: int,
    approver: Actor,
    policy: Policy,
    version: int | None = None,
    confirmation: str | None = None,
) -> Approved:
    """Record an approval bound to the plan's current hash; queue the execution once quorum is met.
    `version` is the version the approver saw (None: whatever is current, as `/carapulse approve`);
    `confirmation` what they typed, for a plan whose approval takes a typed confirmation.

    The plan row is locked for the rest of the transaction, so concurrent approvals are counted
    one at a time, and the unique constraint on executions backs that up.
    """
    plan = await get(session, team_id=approver.team_id, plan_id=plan_id, for_update=True)
    facts, frozen, check = await _may_approve(session, plan, approver, policy, version)
    require_confirmation(plan, confirmation)
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


async def check_can_approve(
    session: AsyncSession, *, plan_id: int, approver: Actor, policy: Policy, version: int | None
) -> Plan:
    """Refuse early (before a confirmation dialog opens) what `approve` would refuse."""
    plan = await get(session, team_id=approver.team_id, plan_id=plan_id)
    await _may_approve(session, plan, approver, policy, version)
    return plan


async def _may_approve(
    session: AsyncSession, plan: Plan, approver: Actor, policy: Policy, version: int | None
) -> tuple[PlanFacts, Sequence[Freeze], PolicyResult]:
    """The plan's facts, the freezes in force and the policy's yes to this approval; raises when the
    plan is not open for it, the approver saw another version, or policy says no."""
    require_open_for_decision(plan.id, plan.status, verb="approve")
    require_version(plan, version)
    facts = await plan_facts(session, plan)
    frozen = await freezes.active(session, team_id=plan.team_id)
    check = policy.decide("plan.approve", actor=approver, plan=facts, freezes=frozen)
    if not check.allow:
        raise PolicyDenied(refusal(check))
    return facts, frozen, check


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
    finish(plan, PlanStatus.REJECTED, actor_id=actor.user_id, reason=reason)
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
        finish(plan, PlanStatus.CANCELLED, actor_id=actor.user_id, reason="")
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
    return PlanFacts(
        requester_id=plan.requester_id,
        environment=plan.target["environment"],
        steps=await stored_steps(session, plan),
        targets=plan.risk["targets"],
        dependents=len(plan.risk.get("dependents") or ()),
    )


async def stored_steps(session: AsyncSession, plan: Plan) -> list[StepSpec]:
    rows = await session.scalars(
        select(PlanStep).where(PlanStep.plan_id == plan.id).order_by(PlanStep.position)
    )
    return [step_spec(row) for row in rows]


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


def version_hash(draft: PlanDraft, version: int) -> str:
    """The hash approvals of `version` are bound to: the content's hash for v1, and for a later
    version the content's hash with the version's number, so that an edit back to an earlier
    content does not bring back the approvals an edit voided."""
    content = plan_hash(draft)
    if version == 1:
        return content
    return hashlib.sha256(f"{content}:v{version}".encode()).hexdigest()


def require_version(plan: Plan, version: int | None) -> None:
    """A click on a card drawn for an older version is refused: the approver has not seen this one."""
    if version is not None and version != plan.version:
        raise OutdatedVersion(plan.id, seen=version, current=plan.version)


def require_confirmation(plan: Plan, typed: str | None) -> None:
    if plan.confirm_word is None:
        return
    if typed is None:
        raise UserError(
            f"Plan #{plan.id} is high risk in production: approve it with the button on its card, "
            f"which asks you to type `{plan.confirm_word}`."
        )
    if typed.strip() != plan.confirm_word:
        raise UserError(f"That is not `{plan.confirm_word}`; plan #{plan.id} was not approved.")


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


def finish(plan: Plan, status: PlanStatus, *, actor_id: str, reason: str) -> None:
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


def _at_least(decision: PolicyDecision, approvals: int) -> PolicyDecision:
    if decision.required_approvals >= approvals:
        return decision
    reasons = [*decision.reasons, "proposed by Carapulse: a person approves it"]
    return decision.model_copy(update={"required_approvals": approvals, "reasons": reasons})
