"""The statements behind bot.executions, built once (bot.audited_writes says why). Each audited
write's statements are conditioned on `moved`: that the execution's audit stream still ended where
the worker left it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)

from bot import audit
from bot.audited_writes import AuditedWrite, insert_from, param
from bot.db.models import AuditChain, Execution, Plan, PlanStep, StepRun
from bot.domain import ExecutionStatus, PlanStatus, StepState

CLAIMABLE_NOW = or_(
    Execution.status == ExecutionStatus.QUEUED,
    (Execution.status == ExecutionStatus.RUNNING) & (Execution.lease_expires_at < bindparam("now")),
)
ANY_CLAIMABLE = select(exists().where(CLAIMABLE_NOW))
CLAIMABLE = (
    select(
        Execution.id,
        Execution.team_id,
        Execution.plan_id,
        Execution.status,
        Execution.lease_owner,
        Execution.attempts,
        Execution.resolution,
        Execution.started_at,
        Execution.cancel_requested,
        AuditChain.seq,
        AuditChain.head_hash,
    )
    .outerjoin(
        AuditChain,
        and_(
            AuditChain.team_id == Execution.team_id,
            AuditChain.stream == literal(audit.EXECUTION_STREAM_PREFIX) + cast(Execution.id, String),
        ),
    )
    .where(CLAIMABLE_NOW)
    .order_by(Execution.id)
    .limit(1)
    .with_for_update(skip_locked=True, of=Execution)
)
PLAN_STEPS = (
    select(
        PlanStep.id,
        PlanStep.stage,
        PlanStep.position,
        PlanStep.action,
        PlanStep.args,
        PlanStep.timeout_seconds,
        PlanStep.rerun_on_rollback,
    )
    .where(PlanStep.plan_id == bindparam("plan_id"))
    .order_by(PlanStep.position)
)
RECORDED_RUNS = (
    select(StepRun.stage, StepRun.position, StepRun.status, StepRun.undo)
    .where(StepRun.execution_id == bindparam("execution_id"))
    .order_by(StepRun.id)
)


def _this_execution(moved: ColumnElement[bool]) -> Any:
    return update(Execution).where(Execution.id == param(Execution.id), moved)


def _its_plan(moved: ColumnElement[bool]) -> Any:
    return update(Plan).where(Plan.team_id == param(Plan.team_id), Plan.id == param(Plan.id), moved)


def _its_run(moved: ColumnElement[bool]) -> Any:
    return update(StepRun).where(
        StepRun.execution_id == param(StepRun.execution_id),
        StepRun.stage == param(StepRun.stage),
        StepRun.position == param(StepRun.position),
        moved,
    )


def _leased(moved: ColumnElement[bool]) -> Any:
    return _this_execution(moved).values(
        lease_owner=param(Execution.lease_owner),
        lease_expires_at=param(Execution.lease_expires_at),
        attempts=Execution.attempts + 1,
    )


START = AuditedWrite(
    lambda moved, _: [
        _leased(moved).values(status=ExecutionStatus.RUNNING, started_at=param(Execution.started_at)),
        _its_plan(moved).values(status=PlanStatus.RUNNING, updated_at=param(Plan.updated_at)),
    ]
)
TAKE_OVER = AuditedWrite(lambda moved, _: [_leased(moved)])

_RUN_COLUMNS = (
    StepRun.execution_id,
    StepRun.plan_step_id,
    StepRun.stage,
    StepRun.position,
    StepRun.action,
    StepRun.args,
    StepRun.status,
    StepRun.started_at,
    StepRun.finished_at,
    StepRun.output_summary,
    StepRun.output,
    StepRun.error,
    StepRun.undo,
)


def _started_run(moved: ColumnElement[bool], dialect: str) -> Any:
    restart = {"status": param(StepRun.status), "started_at": param(StepRun.started_at)}
    return insert_from(StepRun, _RUN_COLUMNS, moved, dialect).on_conflict_do_update(
        index_elements=["execution_id", "stage", "position"],
        set_={**restart, "finished_at": None, "error": "", "output_summary": ""},
    )


def _step_result(moved: ColumnElement[bool]) -> Any:
    result = (
        StepRun.status,
        StepRun.finished_at,
        StepRun.output_summary,
        StepRun.output,
        StepRun.error,
        StepRun.undo,
    )
    return _its_run(moved).values({column: param(column) for column in result})


def _execution_end(moved: ColumnElement[bool]) -> list[Any]:
    return [
        _this_execution(moved).values(
            status=param(Execution.status),
            error=param(Execution.error),
            finished_at=param(Execution.finished_at),
            lease_expires_at=None,
        ),
        _its_plan(moved).values(
            status=param(Plan.status),
            # The execution's error explains the end; without one, the plan keeps its reason.
            status_reason=func.coalesce(func.nullif(param(Execution.error), ""), Plan.status_reason),
            updated_at=param(Plan.updated_at),
            finished_at=param(Plan.updated_at),
        ),
    ]


# Read with a step's result: the check between steps.
_CANCEL_REQUESTED = (
    select(Execution.cancel_requested)
    .where(Execution.id == param(StepRun.execution_id))
    .scalar_subquery()
    .label("cancel_requested")
)

START_STEP = AuditedWrite(lambda moved, dialect: [_started_run(moved, dialect)])
FINISH_STEP = AuditedWrite(lambda moved, _: [_step_result(moved)], returning=[_CANCEL_REQUESTED])
# The plan's last step, succeeded: its result and the execution's end, with both their events.
FINISH_LAST_STEP = AuditedWrite(
    lambda moved, _: [_step_result(moved), *_execution_end(moved)], returning=[_CANCEL_REQUESTED], events=2
)
PAUSE = AuditedWrite(
    lambda moved, _: [
        _its_run(moved).values(
            status=StepState.FAILED, finished_at=param(StepRun.finished_at), error=param(StepRun.error)
        ),
        _this_execution(moved).values(status=ExecutionStatus.PAUSED, lease_owner=None, lease_expires_at=None),
        _its_plan(moved).values(
            status=PlanStatus.PAUSED,
            status_reason=param(Plan.status_reason),
            updated_at=param(Plan.updated_at),
        ),
    ]
)
FINISH = AuditedWrite(lambda moved, _: _execution_end(moved))
