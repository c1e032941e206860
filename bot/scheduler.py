"""Fires schedules when due, from any number of replicas, each due run exactly once.

Claiming. A replica claims a due schedule in one transaction: it locks the row (PostgreSQL skips
rows another replica holds; SQLite's BEGIN IMMEDIATE serialises writers), inserts the run, unique on
(schedule, due time), and moves the schedule's next run on. Another replica that reads the schedule
after that sees the next run in the future; one that races the insert hits the unique constraint.

Missed runs. After downtime a schedule fires once, for the latest due time that has passed; the
earlier ones are counted in that run's `missed` (shown in its history) and never run. A due time
that has not been followed by another one yet is not missed, however late the loop is.

Planning. The claimed run then plans the schedule's request as a person's command would (policy
and approval apply), as the schedule's creator (or, for "run now", as whoever asked), with a source
key naming the schedule and the due time. A replica that dies between claiming and planning leaves
the run's lease to expire; the next replica to look plans it, and the source key keeps that to one
plan even if the first got as far as storing it.

Waiting. The loop sleeps until the earliest next run or lease expiry of any schedule, or until
`wake()` (a schedule made or changed in this process), or at most `rescan_seconds`, which is how soon
it learns of a schedule another replica made. It never polls faster than that.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, requests, schedules
from bot.audit import AuditKind
from bot.clock import Clock, SystemClock
from bot.db.engine import SessionFactory
from bot.db.home_models import Schedule, ScheduleRun
from bot.domain import Actor, ScheduleRunView
from bot.errors import CarapulseError
from bot.operations import Runtime

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)
CLAIMS_PER_PASS = 20
# Counting missed due times stops here; a schedule down for longer says "at least" this many.
MAX_MISSED = 10_000
CRON, MANUAL = "cron", "manual"
CLAIMED, PLANNED, FAILED = "claimed", "planned", "failed"


@dataclass(frozen=True)
class Claim:
    run_id: int
    schedule_id: int
    team_id: str
    requester_id: str
    channel_id: str
    request: str
    due_at: datetime


class Scheduler:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        rescan_seconds: float,
        clock: Clock | None = None,
        owner: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._rescan = rescan_seconds
        self.clock = clock or SystemClock()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = asyncio.Event()
        # Held while a pass claims and plans, so `settled` can wait for one in flight.
        self._pass = asyncio.Lock()

    def wake(self) -> None:
        """A schedule was made or changed here: look again now rather than at the old next run."""
        self._wake.set()

    async def run_forever(self, runtime: Runtime) -> None:
        while True:
            self._wake.clear()
            try:
                await self.fire_due(runtime)
                wait = await self._seconds_to_next()
            except Exception:
                log.exception("the scheduler failed a pass; trying again in %ss", self._rescan)
                wait = self._rescan
            until = self.clock.now() + timedelta(seconds=min(wait, self._rescan))
            await self.clock.wait(until, self._wake)

    async def fire_due(self, runtime: Runtime) -> list[ScheduleRunView]:
        """Claim what is due now (and runs whose claimer died), plan each; the runs this replica made."""
        async with self._pass:
            now = self.clock.now()
            async with self._sessions.begin() as session:
                claims = [*await self._claim_abandoned(session, now), *await self._claim_due(session, now)]
            return [await self._plan(runtime, claim) for claim in claims]

    async def settled(self) -> None:
        """Wait until a pass in flight (claiming and planning) has finished."""
        async with self._pass:
            return

    async def run_now(self, runtime: Runtime, *, actor: Actor, schedule_id: int) -> ScheduleRunView:
        """Plan a schedule's request at once, as `actor`; its next due time is left as it was."""
        now = self.clock.now()
        async with self._sessions.begin() as session:
            schedule = await schedules.find(session, team_id=actor.team_id, schedule_id=schedule_id)
            run = self._new_run(schedule, due_at=now, kind=MANUAL, actor_id=actor.user_id, missed=0, now=now)
            session.add(run)
            await session.flush()
            claim = _claim(run, schedule, requester_id=actor.user_id)
        return await self._plan(runtime, claim)

    async def _claim_due(self, session: AsyncSession, now: datetime) -> list[Claim]:
        due = await session.scalars(
            select(Schedule)
            .where(Schedule.next_run_at.is_not(None), Schedule.next_run_at <= now)
            .order_by(Schedule.next_run_at)
            .limit(CLAIMS_PER_PASS)
            .with_for_update(skip_locked=True)
        )
        claims = []
        for schedule in due.all():
            if schedule.next_run_at is None:  # excluded by the query; this narrows the type
                continue
            latest, missed = _latest_due(schedule, schedule.next_run_at, now)
            schedule.next_run_at = schedules.next_after(schedule.cron, schedule.timezone, latest)
            run = self._new_run(
                schedule, due_at=latest, kind=CRON, actor_id=schedule.created_by, missed=missed, now=now
            )
            try:
                async with session.begin_nested():
                    session.add(run)
            except IntegrityError:
                continue  # another replica fired this due time
            claims.append(_claim(run, schedule, requester_id=schedule.created_by))
        return claims

    async def _claim_abandoned(self, session: AsyncSession, now: datetime) -> list[Claim]:
        """Runs claimed by a replica whose lease ran out before it recorded the plan."""
        rows = await session.execute(
            select(ScheduleRun, Schedule)
            .join(Schedule, Schedule.id == ScheduleRun.schedule_id)
            .where(ScheduleRun.state == CLAIMED, ScheduleRun.lease_expires_at < now)
            .limit(CLAIMS_PER_PASS)
            .with_for_update(skip_locked=True, of=ScheduleRun)
        )
        claims = []
        for run, schedule in rows.all():
            log.warning(
                "schedule %s: run %s was claimed by %s, which is gone; planning it",
                schedule.id,
                run.id,
                run.claimed_by,
            )
            run.claimed_by, run.lease_expires_at = self.owner, now + CLAIM_LEASE
            claims.append(_claim(run, schedule, requester_id=run.actor_id))
        return claims

    async def _plan(self, runtime: Runtime, claim: Claim) -> ScheduleRunView:
        plan_id, state, detail = None, PLANNED, ""
        try:
            understood = requests.understand(runtime, claim.request)
            plan_id = await requests.plan(
                runtime,
                requester=Actor(team_id=claim.team_id, user_id=claim.requester_id),
                channel_id=claim.channel_id,
                thread_ts=None,
                understood=understood,
                intent=claim.request,
                source_key=f"schedule:{claim.schedule_id}:{claim.due_at.isoformat()}",
                rate_limited=False,
            )
        except CarapulseError as exc:
            state, detail = FAILED, exc.message
        except Exception:
            log.exception("schedule %s: planning run %s failed", claim.schedule_id, claim.run_id)
            state, detail = FAILED, "unexpected error; see the logs"
        async with self._sessions.begin() as session:
            run = await session.get_one(ScheduleRun, claim.run_id, with_for_update=True)
            run.state, run.plan_id, run.detail = state, plan_id, detail
            run.finished_at, run.lease_expires_at = self.clock.now(), None
            await audit.record(
                session,
                team_id=claim.team_id,
                actor_id=run.actor_id,
                kind=AuditKind.SCHEDULE_FIRED,
                plan_id=None,
                detail={
                    "schedule_id": claim.schedule_id,
                    "run_id": run.id,
                    "due_at": claim.due_at.isoformat(),
                    "missed": run.missed,
                    "state": state,
                    "plan_id": plan_id,
                    "detail": detail,
                },
            )
            fired = schedules.run_view(run)
        if runtime.home is not None:
            runtime.home.team_changed(claim.team_id)
        return fired

    async def _seconds_to_next(self) -> float:
        async with self._sessions() as session:
            next_run = await session.scalar(select(func.min(Schedule.next_run_at)))
            next_lease = await session.scalar(
                select(func.min(ScheduleRun.lease_expires_at)).where(ScheduleRun.state == CLAIMED)
            )
        moments = [moment for moment in (next_run, next_lease) if moment is not None]
        if not moments:
            return self._rescan
        return max(0.0, (min(moments) - self.clock.now()).total_seconds())

    def _new_run(
        self, schedule: Schedule, *, due_at: datetime, kind: str, actor_id: str, missed: int, now: datetime
    ) -> ScheduleRun:
        return ScheduleRun(
            team_id=schedule.team_id,
            schedule_id=schedule.id,
            due_at=due_at,
            kind=kind,
            state=CLAIMED,
            missed=missed,
            plan_id=None,
            detail="",
            actor_id=actor_id,
            claimed_by=self.owner,
            lease_expires_at=now + CLAIM_LEASE,
            created_at=now,
            finished_at=None,
        )


def _latest_due(schedule: Schedule, due: datetime, now: datetime) -> tuple[datetime, int]:
    """The latest due time at or before `now` from `due` on, and how many earlier ones it passes over."""
    latest, missed = due, 0
    while missed < MAX_MISSED:
        following = schedules.next_after(schedule.cron, schedule.timezone, latest)
        if following > now:
            break
        latest, missed = following, missed + 1
    return latest, missed


def _claim(run: ScheduleRun, schedule: Schedule, *, requester_id: str) -> Claim:
    return Claim(
        run_id=run.id,
        schedule_id=schedule.id,
        team_id=schedule.team_id,
        requester_id=requester_id,
        channel_id=schedule.channel_id,
        request=schedule.request,
        due_at=run.due_at,
    )
