"""Execution state kept in the database: claiming with a lease, step transitions, the final state.

The worker calls each transition as soon as it happens, so the state is stored before anything is
shown in Slack. A transition and its audit event land together and are atomic by themselves: on
PostgreSQL one autocommitted statement, on SQLite one transaction (bot.audited_writes, which also
says why the statements are templates); inside a caller's transaction they join it. Every
transition after the claim is conditioned on the execution's audit stream still ending where this
worker left it (`Lease.head`), which stops being true exactly when another worker has taken the
execution over; it then raises Conflict and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Row,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot import audit
from bot import execution_statements as statements
from bot.audit import AuditKind, ChainHead
from bot.audited_writes import AuditedWrite, values
from bot.clock import utcnow
from bot.db.engine import atomic
from bot.db.models import Execution, Plan, StepRun
from bot.domain import ExecutionStatus, PlanStatus, StepStage, StepState
from bot.errors import Conflict
from tools.common.redaction import Redactor

_REDACTOR = Redactor()
# How far in the past a handed-back lease is set to end: enough that a replica whose clock runs a
# little behind also sees it as ended.
LEASE_ENDED_MARGIN = timedelta(minutes=1)

_EXECUTION_TO_PLAN = {
    ExecutionStatus.SUCCEEDED: PlanStatus.SUCCEEDED,
    ExecutionStatus.FAILED: PlanStatus.FAILED,
    ExecutionStatus.ROLLED_BACK: PlanStatus.ROLLED_BACK,
    ExecutionStatus.CANCELLED: PlanStatus.CANCELLED,
}


@dataclass
class Lease:
    """An execution as the worker holding its lease knows it.

    `head` is the end of the execution's audit stream as this worker last wrote it, and
    `cancel_requested` the cancel flag as last read (by the claim, then by every finished step);
    the transitions below keep both current.
    """

    execution_id: int
    team_id: str
    plan_id: int
    owner: str
    attempt: int
    resolution: str | None
    started_at: datetime
    cancel_requested: bool
    head: ChainHead


@dataclass(frozen=True)
class PlannedStep:
    id: int
    stage: str
    position: int
    action: str
    args: dict[str, Any]
    timeout_seconds: float | None
    rerun_on_rollback: bool


@dataclass(frozen=True)
class RecordedRun:
    stage: str
    position: int
    status: str
    undo: dict[str, Any] | None


async def claim(conn: AsyncConnection, *, owner: str, lease_seconds: float) -> Lease | None:
    """Take the oldest queued execution, or one whose worker's lease has expired, inside the
    caller's transaction, which holds the row until the claim is stored; None when there is
    nothing to claim.

    On PostgreSQL `SKIP LOCKED` lets several workers claim different rows at once; on SQLite the
    transaction already holds the database write lock.
    """
    while True:
        now = utcnow()
        found = (await conn.execute(statements.CLAIMABLE, {"now": now})).first()
        if found is None:
            # On PostgreSQL a row that another worker claimed after this statement began drops out
            # on the recheck, and LIMIT 1 takes no other in its place: look again while any is left.
            if await conn.scalar(statements.ANY_CLAIMABLE, {"now": now}):
                continue
            return None
        lease = await _take(conn, found, owner=owner, lease_seconds=lease_seconds, now=now)
        # None: the worker whose lease ran out wrote to the execution meanwhile, so it is still at
        # work; the next look sees where it got to.
        if lease is not None:
            return lease


async def _take(
    conn: AsyncConnection, found: Row[Any], *, owner: str, lease_seconds: float, now: datetime
) -> Lease | None:
    head = ChainHead(
        found.team_id, audit.execution_stream(found.id), found.seq or 0, found.head_hash or audit.GENESIS_HASH
    )
    starting = found.status == ExecutionStatus.QUEUED
    detail: dict[str, Any] = {"execution_id": found.id}
    if not starting:
        detail["taken_over_from"] = found.lease_owner
    event = audit.seal(
        head,
        actor_id=owner,
        kind=AuditKind.EXECUTION_STARTED,
        plan_id=found.plan_id,
        detail=detail,
        created_at=now,
    )
    placeholders = values(
        {
            Execution.id: found.id,
            Execution.lease_owner: owner,
            Execution.lease_expires_at: now + timedelta(seconds=lease_seconds),
            Execution.started_at: now,
            Plan.team_id: found.team_id,
            Plan.id: found.plan_id,
            Plan.updated_at: now,
        }
    )
    # A claim changes nothing outside the database: it need not wait for the disk (bot.audited_writes),
    # and the first step that changes something flushes it with its own start.
    take = statements.START if starting else statements.TAKE_OVER
    if await take(conn, [event], placeholders, synchronous=False) is None:
        return None
    return Lease(
        execution_id=found.id,
        team_id=found.team_id,
        plan_id=found.plan_id,
        owner=owner,
        attempt=found.attempts + 1,
        resolution=found.resolution,
        started_at=now if starting else found.started_at,
        cancel_requested=found.cancel_requested,
        head=event.head,
    )


async def renew_lease(session: AsyncSession, *, execution_id: int, owner: str, lease_seconds: float) -> bool:
    """Extend the lease; False means another worker owns the execution now and this one must stop."""
    execution = await session.get(Execution, execution_id, with_for_update=True)
    if execution is None or execution.lease_owner != owner:
        return False
    execution.lease_expires_at = utcnow() + timedelta(seconds=lease_seconds)
    return True


async def release_leases(session: AsyncSession, *, owner: str) -> list[int]:
    """End the leases `owner` holds on running executions, so the next claim takes them over at
    once (as after a lease ran out); the ids of those executions. Each hand-back is audited on its
    plan, in the same transaction: the log says why another worker went on before the lease ran out."""
    now = utcnow()
    held = (
        Execution.lease_owner == owner,
        Execution.status == ExecutionStatus.RUNNING,
        Execution.lease_expires_at >= now,
    )
    released = (
        await session.execute(
            update(Execution)
            .where(*held)
            .values(lease_expires_at=now - LEASE_ENDED_MARGIN)
            .returning(Execution.id, Execution.team_id, Execution.plan_id)
        )
    ).all()
    for execution_id, team_id, plan_id in released:
        await audit.record(
            session,
            team_id=team_id,
            actor_id=owner,
            kind=AuditKind.EXECUTION_RELEASED,
            plan_id=plan_id,
            detail={"execution_id": execution_id},
        )
    return [execution_id for execution_id, _, _ in released]


async def plan_steps(conn: AsyncConnection, lease: Lease) -> list[PlannedStep]:
    return [
        PlannedStep(**row._mapping)
        for row in await conn.execute(statements.PLAN_STEPS, {"plan_id": lease.plan_id})
    ]


async def recorded_runs(conn: AsyncConnection, lease: Lease) -> list[RecordedRun]:
    """The runs earlier attempts recorded; the first attempt knows there are none without asking."""
    if lease.attempt == 1:
        return []
    rows = await conn.execute(statements.RECORDED_RUNS, {"execution_id": lease.execution_id})
    return [RecordedRun(**row._mapping) for row in rows]


async def is_cancel_requested(session: AsyncSession, *, execution_id: int) -> bool:
    return bool(await session.scalar(select(Execution.cancel_requested).where(Execution.id == execution_id)))


async def start_step(
    conn: AsyncConnection,
    lease: Lease,
    *,
    stage: StepStage,
    position: int,
    action: str,
    args: dict[str, Any],
    plan_step_id: int | None,
    synchronous: bool = True,
) -> None:
    """Record the step as running (again, if it ran before) with its step.started event; with
    `synchronous` False, without waiting for the disk (bot.audited_writes)."""
    now = utcnow()
    run = {
        StepRun.execution_id: lease.execution_id,
        StepRun.plan_step_id: plan_step_id,
        StepRun.stage: stage,
        StepRun.position: position,
        StepRun.action: action,
        StepRun.args: args,
        StepRun.status: StepState.RUNNING,
        StepRun.started_at: now,
        StepRun.finished_at: None,
        StepRun.output_summary: "",
        StepRun.output: {},
        StepRun.error: "",
        StepRun.undo: None,
    }
    # The audit log outlives everything: values under secret-sounding keys never enter it.
    detail = {
        "stage": str(stage),
        "position": position,
        "action": action,
        "args": _REDACTOR.redact_data(args),
    }
    events = [(AuditKind.STEP_STARTED, detail)]
    await _transition(conn, lease, statements.START_STEP, events, run, now, synchronous=synchronous)


async def finish_step(
    conn: AsyncConnection,
    lease: Lease,
    *,
    stage: StepStage,
    position: int,
    action: str,
    state: StepState,
    summary: str = "",
    output: dict[str, Any] | None = None,
    error: str = "",
    undo: dict[str, Any] | None = None,
    last: bool = False,
    synchronous: bool = True,
) -> bool:
    """Store the step's result and undo with its step.finished event, and read the cancel flag
    in the same statement: that read is the check between steps.

    When the plan's `last` step succeeded, the same write ends the execution as Succeeded, which
    spares the end a write (and, on PostgreSQL, a commit) of its own; True when it did. With
    `synchronous` False, the write does not wait for the disk (bot.audited_writes).
    """
    now = utcnow()
    result = {
        StepRun.execution_id: lease.execution_id,
        StepRun.stage: stage,
        StepRun.position: position,
        StepRun.status: state,
        StepRun.finished_at: now,
        StepRun.output_summary: summary,
        StepRun.output: output or {},
        StepRun.error: error,
        StepRun.undo: undo,
    }
    detail = {
        "stage": str(stage),
        "position": position,
        "action": action,
        "state": str(state),
        "summary": summary,
        "error": error,
    }
    events = [(AuditKind.STEP_FINISHED, detail)]
    ends = last and state == StepState.SUCCEEDED
    if ends:
        end, end_detail = _end(lease, ExecutionStatus.SUCCEEDED, "", now)
        result |= end
        events.append((AuditKind.EXECUTION_FINISHED, end_detail))
    write = statements.FINISH_LAST_STEP if ends else statements.FINISH_STEP
    head = await _transition(conn, lease, write, events, result, now, synchronous=synchronous)
    lease.cancel_requested = bool(head[1])  # after the head's seq
    return ends


async def skip_steps(conn: AsyncConnection, lease: Lease, steps: Sequence[PlannedStep]) -> None:
    if not steps:
        return
    skipped = [
        {
            "execution_id": lease.execution_id,
            "plan_step_id": step.id,
            "stage": step.stage,
            "position": step.position,
            "action": step.action,
            "args": step.args,
            "status": StepState.SKIPPED,
            "output": {},
            "output_summary": "",
            "error": "",
        }
        for step in steps
    ]
    async with atomic(conn, one_statement=True):
        await conn.execute(insert(StepRun).values(skipped))


async def pause(conn: AsyncConnection, lease: Lease, *, step: PlannedStep, reason: str) -> None:
    """Stop at an interrupted step that is not safe to repeat and hand the decision to people: the
    step is marked failed with `reason`, the lease is released, the plan waits in Paused."""
    now = utcnow()
    paused = {
        StepRun.execution_id: lease.execution_id,
        StepRun.stage: step.stage,
        StepRun.position: step.position,
        StepRun.finished_at: now,
        StepRun.error: reason,
        Execution.id: lease.execution_id,
        Plan.team_id: lease.team_id,
        Plan.id: lease.plan_id,
        Plan.status_reason: reason,
        Plan.updated_at: now,
    }
    detail = {
        "execution_id": lease.execution_id,
        "step": step.action,
        "position": step.position,
        "reason": reason,
    }
    await _transition(conn, lease, statements.PAUSE, [(AuditKind.EXECUTION_PAUSED, detail)], paused, now)


async def finish(conn: AsyncConnection, lease: Lease, *, status: ExecutionStatus, error: str = "") -> None:
    """End the execution and its plan together; `error`, if any, becomes the plan's status reason."""
    now = utcnow()
    end, detail = _end(lease, status, error, now)
    await _transition(conn, lease, statements.FINISH, [(AuditKind.EXECUTION_FINISHED, detail)], end, now)


def _end(
    lease: Lease, status: ExecutionStatus, error: str, now: datetime
) -> tuple[dict[Any, Any], dict[str, Any]]:
    """The placeholders and the event detail of the execution's end."""
    end = {
        Execution.id: lease.execution_id,
        Execution.status: status,
        Execution.error: error,
        Execution.finished_at: now,
        Plan.team_id: lease.team_id,
        Plan.id: lease.plan_id,
        Plan.status: _EXECUTION_TO_PLAN[status],
        Plan.updated_at: now,
    }
    return end, {"execution_id": lease.execution_id, "status": str(status), "error": error}


async def _transition(
    conn: AsyncConnection,
    lease: Lease,
    write: AuditedWrite,
    events: Sequence[tuple[AuditKind, dict[str, Any]]],
    placeholders: dict[Any, Any],
    created_at: datetime,
    *,
    synchronous: bool = True,
) -> Any:
    """Make `write` with its events, each sealed onto the one before; the head row it returns."""
    sealed: list[audit.Sealed] = []
    head = lease.head
    for kind, detail in events:
        sealed.append(
            audit.seal(
                head,
                actor_id=lease.owner,
                kind=kind,
                plan_id=lease.plan_id,
                detail=detail,
                created_at=created_at,
            )
        )
        head = sealed[-1].head
    row = await write(conn, sealed, values(placeholders), synchronous=synchronous)
    if row is None:
        raise Conflict(f"execution {lease.execution_id} has been taken over by another worker")
    lease.head = head
    return row
