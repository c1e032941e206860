"""The gauges of shared state (plans by status, queues, leases), read from the database when
/metrics is scraped.

The database is the one truth every replica shares, so each replica reports the same numbers and a
dashboard takes any one of them (or `max`). Four aggregate queries on indexed columns keep a scrape
cheap; a read that fails or outlasts `timeout` leaves the last values standing and says so in
`carapulse_database_metrics_up`, so a slow database never makes the scrape itself time out.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot import metrics
from bot.clock import utcnow
from bot.db.models import Execution, Plan, ScheduledJob
from bot.domain import ExecutionStatus, PlanStatus

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 2.0
EXECUTIONS_QUEUE = "executions"
JOBS_QUEUE = "jobs"


async def refresh(engine: AsyncEngine, *, within: float = DEFAULT_TIMEOUT_SECONDS) -> bool:
    """Set the database gauges from one read; False (and the gauges left as they were) when the
    database did not answer `within` seconds."""
    try:
        async with asyncio.timeout(within):
            async with engine.connect() as conn:
                await _read(conn)
    except Exception as exc:
        log.warning("could not read the database gauges for /metrics: %s", exc)
        metrics.DATABASE_METRICS_UP.set(0)
        return False
    metrics.DATABASE_METRICS_UP.set(1)
    return True


async def _read(conn: AsyncConnection) -> None:
    now = utcnow()
    by_status = dict((await conn.execute(select(Plan.status, func.count()).group_by(Plan.status))).all())
    queued = (
        await conn.execute(
            select(func.count(), func.min(Execution.created_at)).where(
                Execution.status == ExecutionStatus.QUEUED
            )
        )
    ).one()
    due = (
        await conn.execute(
            select(func.count(), func.min(ScheduledJob.due_at)).where(
                ScheduledJob.done_at.is_(None), ScheduledJob.due_at <= now
            )
        )
    ).one()
    leased = await conn.scalar(
        select(func.count()).where(
            Execution.status == ExecutionStatus.RUNNING, Execution.lease_expires_at > now
        )
    )
    # Every known status is set, so a status whose last plan moved on drops to 0 instead of
    # repeating its old count; statuses only the database knows (older versions) are shown too.
    for status in {*PlanStatus, *by_status}:
        metrics.PLANS.labels(status=str(status)).set(by_status.get(status, 0))
    _set_queue(EXECUTIONS_QUEUE, queued[0], queued[1], now)
    _set_queue(JOBS_QUEUE, due[0], due[1], now)
    metrics.LEASES_ACTIVE.set(leased or 0)


def _set_queue(queue: str, depth: int, oldest: datetime | str | None, now: datetime) -> None:
    metrics.QUEUE_DEPTH.labels(queue=queue).set(depth)
    age = 0.0 if oldest is None else max(0.0, (now - _aware(oldest)).total_seconds())
    metrics.QUEUE_OLDEST_AGE.labels(queue=queue).set(age)


def _aware(value: datetime | str) -> datetime:
    """min() over a column loses its type on SQLite (a string, no offset); the column holds UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
