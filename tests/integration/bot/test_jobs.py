"""Scheduled jobs on SQLite and PostgreSQL: two runners sharing a database (two replicas) run each
due job once; a failing job is retried later and ends failed after MAX_ATTEMPTS, never silently; a
job scheduled twice is stored once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import jobs
from bot.db.engine import SessionFactory
from bot.db.models import ScheduledJob
from bot.jobs import MAX_ATTEMPTS, Job, JobRunner, RetryLater
from bot.tasks import TaskSupervisor
from tests.builders import TEAM, stored_plan
from tests.fakes.clock import FakeClock

KIND = "test.count"


async def scheduled(sessions: SessionFactory, clock: FakeClock, count: int, *, after: float = 0) -> int:
    plan_id = await stored_plan(sessions)
    async with sessions.begin() as session:
        for n in range(count):
            await jobs.schedule(
                session,
                team_id=TEAM,
                plan_id=plan_id,
                kind=KIND,
                key=f"k{n}",
                due_at=clock.now() + timedelta(seconds=after),
            )
    return plan_id


def runner(sessions: SessionFactory, clock: FakeClock, handler: jobs.Handler) -> JobRunner:
    return JobRunner(
        sessions=sessions, clock=clock, supervisor=TaskSupervisor(), handlers={KIND: handler}, poll_seconds=60
    )


async def stored(sessions: SessionFactory) -> list[ScheduledJob]:
    async with sessions() as session:
        return list((await session.scalars(select(ScheduledJob).order_by(ScheduledJob.id))).all())


async def test_two_runners_on_one_database_run_each_due_job_once(sessions: SessionFactory) -> None:
    clock = FakeClock()
    await scheduled(sessions, clock, 45, after=10)
    ran: Counter[str] = Counter()

    async def count(job: Job) -> str:
        await asyncio.sleep(0)
        ran[job.key] += 1
        return "counted"

    first, second = runner(sessions, clock, count), runner(sessions, clock, count)
    await asyncio.gather(first.settle(), second.settle())
    assert ran == Counter()  # nothing due yet

    await clock.advance(10)
    await asyncio.gather(first.settle(), second.settle())

    assert ran == Counter({f"k{n}": 1 for n in range(45)})
    assert {(job.outcome, job.attempts) for job in await stored(sessions)} == {("counted", 1)}


async def test_a_failing_job_is_retried_then_ends_failed_and_counted(
    sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    await scheduled(sessions, clock, 1)
    tries: list[int] = []

    async def refuse(job: Job) -> str:
        tries.append(job.attempts)
        raise RetryLater("the receiver answered 503", seconds=30)

    jobs_runner = runner(sessions, clock, refuse)
    await jobs_runner.settle()
    [job] = await stored(sessions)
    assert job.done_at is None and job.outcome == "the receiver answered 503"
    assert job.due_at == clock.now() + timedelta(seconds=30)

    for _ in range(MAX_ATTEMPTS - 1):
        await clock.advance(30)
        await jobs_runner.settle()

    [job] = await stored(sessions)
    assert tries == list(range(1, MAX_ATTEMPTS + 1))
    assert job.done_at is not None and job.outcome == "failed: the receiver answered 503"
    assert f"failed after {MAX_ATTEMPTS} attempt(s), giving up: the receiver answered 503" in caplog.text


async def test_a_job_scheduled_twice_is_stored_once(sessions: SessionFactory) -> None:
    clock = FakeClock()
    plan_id = await scheduled(sessions, clock, 1)

    async with sessions.begin() as session:
        again = await jobs.schedule(
            session, team_id=TEAM, plan_id=plan_id, kind=KIND, key="k0", due_at=clock.now()
        )

    assert again is False
    assert len(await stored(sessions)) == 1
