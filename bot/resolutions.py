"""What approvers decide for a plan the worker could not finish on its own.

A paused plan (a step that is not safe to repeat was interrupted) offers Retry step, Skip step and
Abort and roll back; a cancelled plan whose completed steps can be undone offers Roll back. Each
choice is one transaction that re-queues the execution; the worker carries it out on its next claim.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, plans
from bot.audit import AuditKind
from bot.clock import utcnow
from bot.db.models import Execution, Plan, StepRun
from bot.domain import Actor, ExecutionStatus, PlanStatus, Resolution, StepStage, StepState
from bot.errors import Conflict, PolicyDenied
from bot.policy import Policy, as_record, refusal

RESOLUTION_LABELS = {
    Resolution.RETRY: "retry the interrupted step",
    Resolution.SKIP: "skip the interrupted step",
    Resolution.ROLL_BACK: "roll back",
}


async def resolve(
    session: AsyncSession, *, plan_id: int, actor: Actor, resolution: Resolution, policy: Policy
) -> Plan:
    plan = await plans.get(session, team_id=actor.team_id, plan_id=plan_id, for_update=True)
    check = policy.decide("plan.resolve", actor=actor, plan=await plans.plan_facts(session, plan))
    if not check.allow:
        raise PolicyDenied(refusal(check))
    execution = await session.scalar(select(Execution).where(Execution.plan_id == plan.id).with_for_update())
    runs = [] if execution is None else await _runs(session, execution)
    _require_choice_open(plan, resolution, runs)
    assert execution is not None  # a paused or rollback-offered plan has run
    if resolution == Resolution.SKIP:
        interrupted = next(run for run in runs if _is_interrupted(run))
        interrupted.status = StepState.SKIPPED
    execution.status = ExecutionStatus.QUEUED
    execution.resolution = resolution
    execution.cancel_requested = False
    execution.finished_at = None
    execution.error = ""
    plan.status = PlanStatus.APPROVED
    plan.status_actor_id = actor.user_id
    plan.status_reason = f"{RESOLUTION_LABELS[resolution]}, chosen by <@{actor.user_id}>"
    plan.finished_at = None
    plan.updated_at = utcnow()
    await audit.record(
        session,
        team_id=plan.team_id,
        actor_id=actor.user_id,
        kind=AuditKind.PLAN_RESOLVED,
        plan_id=plan.id,
        detail={"resolution": str(resolution), "decision": as_record(check)},
    )
    return plan


def rollback_offered(status: PlanStatus, runs: Sequence[StepRun]) -> bool:
    """A cancelled plan whose completed act steps nothing has rolled back yet."""
    return status == PlanStatus.CANCELLED and _undoable(runs)


def _require_choice_open(plan: Plan, resolution: Resolution, runs: Sequence[StepRun]) -> None:
    status = PlanStatus(plan.status)
    if status == PlanStatus.PAUSED:
        return
    if resolution == Resolution.ROLL_BACK and rollback_offered(status, runs):
        return
    if resolution == Resolution.ROLL_BACK:
        raise Conflict(f"Plan #{plan.id} has nothing to roll back ({status.value.replace('_', ' ')}).")
    raise Conflict(f"Plan #{plan.id} is not waiting for a decision ({status.value.replace('_', ' ')}).")


def _undoable(runs: Sequence[StepRun]) -> bool:
    """Some completed act step recorded an inverse, and no rollback has run yet."""
    undoable = any(r.stage == StepStage.ACT and r.status == StepState.SUCCEEDED and r.undo for r in runs)
    rolled_back = any(r.stage == StepStage.ROLLBACK for r in runs)
    return undoable and not rolled_back


def _is_interrupted(run: StepRun) -> bool:
    return run.stage != StepStage.ROLLBACK and run.status == StepState.FAILED


async def _runs(session: AsyncSession, execution: Execution) -> Sequence[StepRun]:
    rows = await session.scalars(select(StepRun).where(StepRun.execution_id == execution.id))
    return rows.all()
