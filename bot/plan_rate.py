"""PLAN_RATE_LIMIT: how many plans one person may ask for in a window ("10/minute"), counted from the
plans stored in the database, so every replica sees the same count.

The count is exact across replicas: the check runs in the transaction that stores the plan, after a
per-person lock (a PostgreSQL transaction-level advisory lock; SQLite's BEGIN IMMEDIATE already lets
one writer in at a time), so two requests at once cannot both take the last place. Plans made on a
person's behalf by the scheduler or an incident count towards their window but are never refused.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text

from bot.db.engine import AsyncSession, is_postgres
from bot.db.models import Plan
from bot.domain import Actor
from bot.errors import UserError

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_SHAPE = re.compile(r"^\s*(\d{1,6})\s*/\s*(\d{0,6})\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE)
OFF = "off"


@dataclass(frozen=True)
class PlanRate:
    count: int
    window: timedelta

    @classmethod
    def parse(cls, value: str) -> PlanRate | None:
        """`10/minute`, `30/hour`, `100/2hours`; `off` (or empty) for no limit. ValueError says what
        a good value looks like."""
        if value.strip().lower() in ("", OFF):
            return None
        match = _SHAPE.match(value)
        if match is None:
            raise ValueError("write it as <count>/<unit> such as 10/minute or 100/2hours (or off)")
        count, multiple, unit = int(match[1]), int(match[2] or 1), match[3].lower()
        if count < 1 or multiple < 1:
            raise ValueError("the count and the window must be at least 1 (or set it to off)")
        return cls(count=count, window=timedelta(seconds=multiple * _UNITS[unit]))

    def describe(self) -> str:
        seconds = int(self.window.total_seconds())
        for unit, size in reversed(_UNITS.items()):
            if seconds % size == 0:
                amount = seconds // size
                return f"{self.count} per {unit}" if amount == 1 else f"{self.count} per {amount} {unit}s"
        raise AssertionError("every window is a whole number of seconds")


class RateLimited(UserError):
    """The person asked for more plans than PLAN_RATE_LIMIT lets them; `retry_at` is when one more
    fits in the window."""

    def __init__(self, rate: PlanRate, retry_at: datetime, now: datetime) -> None:
        # Shown to the whole second, rounded up, so asking at the time shown is never too early.
        retry_at = (retry_at + timedelta(microseconds=999_999)).replace(microsecond=0)
        wait = max(1, math.ceil((retry_at - now).total_seconds()))
        super().__init__(
            f"You have asked for {rate.count} plans recently, the most allowed here "
            f"({rate.describe()}, PLAN_RATE_LIMIT). Ask again at {retry_at:%H:%M:%S} UTC, in {_wait(wait)}."
        )
        self.retry_at = retry_at


async def ensure_allowed(session: AsyncSession, *, rate: PlanRate, requester: Actor, now: datetime) -> None:
    """Raise RateLimited when `requester` has no place left in the window; a cheap look before a
    planner spends a model call on a request that would be refused."""
    recent = await _recent(session, rate=rate, requester=requester, now=now)
    if len(recent) >= rate.count:
        raise RateLimited(rate, recent[-rate.count] + rate.window, now)


async def lock(session: AsyncSession, *, requester: Actor) -> None:
    """Hold the requester's place in line until the caller's transaction ends, so replicas storing
    their plans at once count one after another."""
    if is_postgres(session.bind):
        key = f"plan-rate:{requester.team_id}:{requester.user_id}"
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


async def check_stored(session: AsyncSession, *, rate: PlanRate, requester: Actor, now: datetime) -> None:
    """After a new plan was stored in the caller's transaction (under `lock`): raise RateLimited,
    which rolls it back, when it is one more than the window allows."""
    recent = await _recent(session, rate=rate, requester=requester, now=now)
    if len(recent) > rate.count:
        raise RateLimited(rate, recent[-rate.count - 1] + rate.window, now)


async def _recent(
    session: AsyncSession, *, rate: PlanRate, requester: Actor, now: datetime
) -> list[datetime]:
    """When the requester's plans in the window were made, oldest first; at most count + 1 of them,
    the newest."""
    newest = (
        select(Plan.created_at)
        .where(
            Plan.team_id == requester.team_id,
            Plan.requester_id == requester.user_id,
            Plan.created_at > now - rate.window,
        )
        .order_by(Plan.created_at.desc(), Plan.id.desc())
        .limit(rate.count + 1)
    )
    return sorted(await session.scalars(newest))


def _wait(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{(seconds + 59) // 60} min"
    return f"{(seconds + 3599) // 3600} h"
