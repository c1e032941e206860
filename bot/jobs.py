"""Runs each plan's scheduled jobs (escalation steps, notifications) when they come due, once,
whichever process gets there first.

One loop per process waits on its clock until the next job is due (or until a job is scheduled here,
or a poll interval passes, for jobs scheduled by other processes), claims the due ones and runs each
in a task of its own, so a slow receiver holds up nothing else. A claim moves the job's `due_at` on
by a lease, conditioned on the `due_at` it read: of two processes, one wins; a process that dies
mid-job leaves it due again when the lease ends. A handler returns what the job came to; it raises
`RetryLater` (or anything else) to be run again later, up to MAX_ATTEMPTS, after which the job ends
as failed, logged and counted: never dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db.engine import SessionFactory, upsert_insert
from bot.db.models import ScheduledJob
from bot.metrics import JOBS
from bot.tasks import TaskSupervisor

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=2)
CLAIM_BATCH = 20
MAX_BACKOFF_SECONDS = 300.0


@dataclass(frozen=True)
class Job:
    id: int
    team_id: str
    plan_id: int
    kind: str
    key: str
    payload: dict[str, Any]
    attempts: int
    """Including this run."""


class RetryLater(Exception):
    """The job could not be done now; run it again after `seconds` (None: the usual backoff)."""

    def __init__(self, reason: str, seconds: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.seconds = seconds


class GiveUp(Exception):
    """The job cannot succeed however often it is run (a receiver refused it): it ends failed now."""


Handler = Callable[[Job], Awaitable[str]]


async def schedule(
    session: AsyncSession,
    *,
    team_id: str,
    plan_id: int,
    kind: str,
    key: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Add a job unless the plan already has one of this kind and key; whether it was added."""
    insert = upsert_insert(session.bind.dialect.name, ScheduledJob).values(
        team_id=team_id,
        plan_id=plan_id,
        kind=kind,
        key=key,
        payload=payload or {},
        due_at=due_at,
        attempts=0,
        outcome="",
    )
    result = await session.execute(insert.on_conflict_do_nothing(index_elements=["plan_id", "kind", "key"]))
    return bool(result.rowcount)


class JobRunner:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        clock: Clock,
        supervisor: TaskSupervisor,
        handlers: Mapping[str, Handler],
        poll_seconds: float,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._supervisor = supervisor
        self._handlers = dict(handlers)
        self._poll = timedelta(seconds=poll_seconds)
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()

    @property
    def clock(self) -> Clock:
        return self._clock

    def wake(self) -> None:
        """A job was scheduled in this process: look again now rather than at the next due time."""
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            self._wake.clear()
            await self.run_due()
            next_due = await self._next_due()
            deadline = self._clock.now() + self._poll
            await self._clock.wait(min(deadline, next_due) if next_due else deadline, self._wake)

    async def run_due(self) -> None:
        """Claim the jobs due now and start each in a task of its own."""
        while True:
            claimed = await self._claim()
            for job in claimed:
                task = self._supervisor.spawn(self._run(job), name=f"job-{job.kind}-{job.id}")
                self._running.add(task)
                task.add_done_callback(self._running.discard)
            if len(claimed) < CLAIM_BATCH:
                return

    async def settle(self) -> None:
        """Run what is due now and wait until no job of this process is running (nor retried due
        now): what a test, or a shutdown, waits for."""
        while True:
            await self.run_due()
            if not self._running:
                return
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _claim(self) -> list[Job]:
        now = self._clock.now()
        claimed = []
        async with self._sessions.begin() as session:
            due = (
                await session.scalars(
                    select(ScheduledJob)
                    .where(ScheduledJob.done_at.is_(None), ScheduledJob.due_at <= now)
                    .order_by(ScheduledJob.due_at)
                    .limit(CLAIM_BATCH)
                )
            ).all()
            for row in due:
                taken = await session.execute(
                    update(ScheduledJob)
                    .where(
                        ScheduledJob.id == row.id,
                        ScheduledJob.done_at.is_(None),
                        ScheduledJob.due_at == row.due_at,
                    )
                    .values(due_at=now + LEASE, attempts=ScheduledJob.attempts + 1)
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount == 1:
                    claimed.append(
                        Job(
                            row.id, row.team_id, row.plan_id, row.kind, row.key, row.payload, row.attempts + 1
                        )
                    )
        return claimed

    async def _run(self, job: Job) -> None:
        handler = self._handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for {job.kind} jobs in this process")
            outcome = await handler(job)
        except GiveUp as exc:
            await self._fail(job, str(exc))
            return
        except Exception as exc:
            await self._retry_or_fail(job, exc)
            return
        JOBS.labels(kind=job.kind, outcome="done").inc()
        await self._end(job, outcome)

    async def _retry_or_fail(self, job: Job, exc: Exception) -> None:
        reason = exc.reason if isinstance(exc, RetryLater) else f"{type(exc).__name__}: {exc}"
        if job.attempts >= MAX_ATTEMPTS:
            await self._fail(job, reason, None if isinstance(exc, RetryLater) else exc)
            return
        JOBS.labels(kind=job.kind, outcome="retried").inc()
        seconds = exc.seconds if isinstance(exc, RetryLater) and exc.seconds is not None else None
        delay = seconds if seconds is not None else min(MAX_BACKOFF_SECONDS, 2.0**job.attempts)
        log.warning(
            "%s job %s of plan %s failed (%s); retrying in %gs", job.kind, job.key, job.plan_id, reason, delay
        )
        async with self._sessions.begin() as session:
            await session.execute(
                update(ScheduledJob)
                .where(ScheduledJob.id == job.id, ScheduledJob.done_at.is_(None))
                .values(due_at=self._clock.now() + timedelta(seconds=delay), outcome=reason[:2000])
            )
        self.wake()

    async def _fail(self, job: Job, reason: str, error: Exception | None = None) -> None:
        """End the job failed; `error`, an unexpected one, is logged with its traceback."""
        JOBS.labels(kind=job.kind, outcome="failed").inc()
        log.error(
            "%s job %s of plan %s failed after %d attempt(s), giving up: %s",
            job.kind,
            job.key,
            job.plan_id,
            job.attempts,
            reason,
            exc_info=error,
        )
        await self._end(job, f"failed: {reason}")

    async def _end(self, job: Job, outcome: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(ScheduledJob)
                .where(ScheduledJob.id == job.id)
                .values(done_at=self._clock.now(), outcome=outcome[:2000])
            )

    async def _next_due(self) -> datetime | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(ScheduledJob.due_at)
                .where(ScheduledJob.done_at.is_(None))
                .order_by(ScheduledJob.due_at)
                .limit(1)
            )
