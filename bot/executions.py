"""Execution state kept in the database: claiming with a lease, step transitions, the final state.

Each function is one transition; the worker calls each inside its own transaction so the state is
stored before anything is shown in Slack.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit
from bot.audit import AuditKind
from bot.clock import utcnow
from bot.db.models import Execution, Plan, PlanStep, StepRun
from bot.domain import ExecutionStatus, PlanStatus, StepStage, StepState
from bot.errors import Conflict
from tools.redaction import Redactor

_REDACTOR = Redactor()

_EXECUTION_TO_PLAN = {
    ExecutionStatus.SUCCEEDED: PlanStatus.SUCCEEDED,
    ExecutionStatus.FAILED: PlanStatus.FAILED,
    ExecutionStatus.ROLLED_BACK: PlanStatus.ROLLED_BACK,
    ExecutionStatus.CANCELLED: PlanStatus.CANCELLED,
}


async def claim(session: AsyncSession, *, owner: str, lease_seconds: float) -> Execution | None:
    """Take the oldest queued execution, or one whose worker's lease has expired.

    On PostgreSQL `SKIP LOCKED` lets several workers claim different rows at once; on SQLite the
    transaction already holds the database write lock.
    """
    now = utcnow()
    execution = await session.scalar(
        select(Execution)
        .where(
            or_(
                Execution.status == ExecutionStatus.QUEUED,
                (Execution.status == ExecutionStatus.RUNNING) & (Execution.lease_expires_at < now),
            )
        )
        .order_by(Execution.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if execution is None:
        return None
    detail: dict[str, Any] = {"execution_id": execution.id}
    if execution.status == ExecutionStatus.RUNNING:
        detail["taken_over_from"] = execution.lease_owner
    else:
        execution.status = ExecutionStatus.RUNNING
        execution.started_at = now
        plan = await _plan(session, execution)
        plan.status = PlanStatus.RUNNING
        plan.updated_at = now
    execution.lease_owner = owner
    execution.lease_expires_at = now + timedelta(seconds=lease_seconds)
    execution.attempts += 1
    await audit.record(
        session,
        team_id=execution.team_id,
        actor_id=owner,
        kind=AuditKind.EXECUTION_STARTED,
        plan_id=execution.plan_id,
        detail=detail,
    )
    return execution


async def renew_lease(session: AsyncSession, *, execution_id: int, owner: str, lease_seconds: float) -> bool:
    """Extend the lease; False means another worker owns the execution now and this one must stop."""
    execution = await session.get(Execution, execution_id, with_for_update=True)
    if execution is None or execution.lease_owner != owner:
        return False
    execution.lease_expires_at = utcnow() + timedelta(seconds=lease_seconds)
    return True


async def plan_steps(session: AsyncSession, execution: Execution) -> Sequence[PlanStep]:
    rows = await session.scalars(
        select(PlanStep).where(PlanStep.plan_id == execution.plan_id).order_by(PlanStep.position)
    )
    return rows.all()


async def step_runs(session: AsyncSession, *, execution_id: int) -> Sequence[StepRun]:
    rows = await session.scalars(
        select(StepRun).where(StepRun.execution_id == execution_id).order_by(StepRun.id)
    )
    return rows.all()


async def is_cancel_requested(session: AsyncSession, *, execution_id: int) -> bool:
    return bool(await session.scalar(select(Execution.cancel_requested).where(Execution.id == execution_id)))


async def start_step(
    session: AsyncSession,
    *,
    execution: Execution,
    stage: StepStage,
    position: int,
    action: str,
    args: dict[str, Any],
    plan_step_id: int | None,
) -> StepRun:
    run = await session.scalar(
        select(StepRun).where(
            StepRun.execution_id == execution.id,
            StepRun.stage == stage,
            StepRun.position == position,
        )
    )
    if run is None:
        run = StepRun(
            execution_id=execution.id,
            plan_step_id=plan_step_id,
            stage=stage,
            position=position,
            action=action,
            args=args,
            output={},
        )
        session.add(run)
    run.status = StepState.RUNNING
    run.started_at = utcnow()
    run.finished_at = None
    run.error = ""
    run.output_summary = ""
    await session.flush()
    await audit.record(
        session,
        team_id=execution.team_id,
        actor_id=execution.lease_owner or "worker",
        kind=AuditKind.STEP_STARTED,
        plan_id=execution.plan_id,
        # The audit log outlives everything: values under secret-sounding keys never enter it.
        detail={
            "stage": str(stage),
            "position": position,
            "action": action,
            "args": _REDACTOR.redact_data(args),
        },
    )
    return run


async def finish_step(
    session: AsyncSession,
    *,
    execution: Execution,
    run_id: int,
    state: StepState,
    summary: str = "",
    output: dict[str, Any] | None = None,
    error: str = "",
    undo: dict[str, Any] | None = None,
) -> StepRun:
    run = await session.get_one(StepRun, run_id)
    run.status = state
    run.finished_at = utcnow()
    run.output_summary = summary
    run.output = output or {}
    run.error = error
    run.undo = undo
    await audit.record(
        session,
        team_id=execution.team_id,
        actor_id=execution.lease_owner or "worker",
        kind=AuditKind.STEP_FINISHED,
        plan_id=execution.plan_id,
        detail={
            "stage": run.stage,
            "position": run.position,
            "action": run.action,
            "state": str(state),
            "summary": summary,
            "error": error,
        },
    )
    return run


async def skip_steps(session: AsyncSession, *, execution: Execution, steps: Sequence[PlanStep]) -> None:
    for step in steps:
        session.add(
            StepRun(
                execution_id=execution.id,
                plan_step_id=step.id,
                stage=step.stage,
                position=step.position,
                action=step.action,
                args=step.args,
                status=StepState.SKIPPED,
                output={},
            )
        )
    await session.flush()


async def pause(
    session: AsyncSession, *, execution_id: int, owner: str, run_id: int, reason: str
) -> Execution:
    """Stop at an interrupted step that is not safe to repeat and hand the decision to people: the
    step is marked failed with `reason`, the lease is released, the plan waits in Paused."""
    execution = await session.get_one(Execution, execution_id, with_for_update=True)
    if execution.lease_owner != owner:
        raise Conflict(f"execution {execution_id} is now owned by {execution.lease_owner}")
    run = await session.get_one(StepRun, run_id)
    run.status = StepState.FAILED
    run.finished_at = utcnow()
    run.error = reason
    execution.status = ExecutionStatus.PAUSED
    execution.lease_owner = None
    execution.lease_expires_at = None
    plan = await _plan(session, execution)
    plan.status = PlanStatus.PAUSED
    plan.status_reason = reason
    plan.updated_at = utcnow()
    await audit.record(
        session,
        team_id=execution.team_id,
        actor_id=owner,
        kind=AuditKind.EXECUTION_PAUSED,
        plan_id=execution.plan_id,
        detail={"execution_id": execution.id, "step": run.action, "position": run.position, "reason": reason},
    )
    return execution


async def finish(
    session: AsyncSession,
    *,
    execution_id: int,
    owner: str,
    status: ExecutionStatus,
    error: str = "",
) -> Execution:
    """End the execution and its plan together; refuses if this worker no longer holds the lease."""
    execution = await session.get_one(Execution, execution_id, with_for_update=True)
    if execution.lease_owner != owner:
        raise Conflict(f"execution {execution_id} is now owned by {execution.lease_owner}")
    now = utcnow()
    execution.status = status
    execution.error = error
    execution.finished_at = now
    execution.lease_expires_at = None
    plan = await _plan(session, execution)
    plan.status = _EXECUTION_TO_PLAN[status]
    plan.status_reason = error or plan.status_reason
    plan.updated_at = now
    plan.finished_at = now
    await audit.record(
        session,
        team_id=execution.team_id,
        actor_id=owner,
        kind=AuditKind.EXECUTION_FINISHED,
        plan_id=execution.plan_id,
        detail={"execution_id": execution.id, "status": str(status), "error": error},
    )
    return execution


async def _plan(session: AsyncSession, execution: Execution) -> Plan:
    return await session.get_one(Plan, execution.plan_id, with_for_update=True)
