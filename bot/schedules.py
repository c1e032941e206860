"""Schedules: a cron expression in a time zone and a request (a sentence, `workflow start …` or
`playbook start …`) that is planned when due, as its creator, in the channel it was made in. These
services create, pause, resume, delete and list them; bot/scheduler.py fires them."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, paging
from bot.audit import AuditKind
from bot.clock import utcnow
from bot.db.home_models import Schedule, ScheduleRun
from bot.domain import Actor, ScheduleRunView, ScheduleView
from bot.errors import NotFound, PolicyDenied, UserError
from bot.paging import Page
from bot.policy import Policy

PAGE_SIZE = 10
HISTORY_SIZE = 10
MAX_REQUEST_LENGTH = 1000
# A schedule plans at most this often, so a typo cannot post a card every minute.
MIN_INTERVAL = timedelta(minutes=5)
# How many coming occurrences the interval is checked over (catches "0,1 * * * *" too).
_INTERVAL_SAMPLES = 12
_QUOTES = {'"': '"', "“": "”", "'": "'"}
USAGE = (
    '`/carapulse schedule add "<cron>" [tz=<Area/City>] <request>`, e.g. '
    '`schedule add "0 9 * * 1-5" tz=Europe/Berlin scale checkout to 5 in shop`'
)


def parse_add(argument: str) -> tuple[str, str, str]:
    """`"0 9 * * 1-5" tz=Europe/Berlin scale checkout to 5` → (cron, time zone, request)."""
    text = argument.strip()
    closing = _QUOTES.get(text[:1])
    end = text.find(closing, 1) if closing else -1
    if end < 0:
        raise UserError(f"Put the cron expression in quotes: {USAGE}")
    cron, rest = text[1:end].strip(), text[end + 1 :].strip()
    timezone = "UTC"
    if rest.lower().startswith("tz="):
        zone, _, rest = rest.partition(" ")
        timezone, rest = zone[3:], rest.strip()
    check_cron(cron, timezone)
    return cron, timezone, check_request(rest)


def check_request(raw: str) -> str:
    request = " ".join(raw.split())
    if not request:
        raise UserError(f"Say what to plan after the cron expression: {USAGE}")
    if len(request) > MAX_REQUEST_LENGTH:
        raise UserError(f"Keep the request under {MAX_REQUEST_LENGTH} characters.")
    return request


def check_timezone(raw: str) -> str:
    name = raw.strip() or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"`{name[:64]}` is not a time zone; use a name like Europe/Berlin or UTC.") from None
    return name


def check_cron(cron: str, timezone: str) -> None:
    """Five fields (minute hour day month weekday) or an @alias, firing at most every five minutes."""
    zone = check_timezone(timezone)
    if not (cron.startswith("@") or len(cron.split()) == 5) or not croniter.is_valid(cron):
        raise UserError(
            f"`{cron[:100]}` is not a cron expression of five fields (minute hour day month weekday)."
        )
    moments = [next_after(cron, zone, utcnow())]
    for _ in range(_INTERVAL_SAMPLES):
        moments.append(next_after(cron, zone, moments[-1]))
    if any(later - earlier < MIN_INTERVAL for earlier, later in pairwise(moments)):
        raise UserError(
            f"`{cron}` fires more often than every {int(MIN_INTERVAL.total_seconds() // 60)} minutes."
        )


def next_after(cron: str, timezone: str, moment: datetime) -> datetime:
    """The first time after `moment` the expression matches, read in `timezone`, in UTC."""
    local = moment.astimezone(ZoneInfo(timezone))
    return croniter(cron, local).get_next(datetime).astimezone(ZoneInfo("UTC"))


async def create(
    session: AsyncSession, *, actor: Actor, cron: str, timezone: str, request: str, channel_id: str
) -> ScheduleView:
    check_cron(cron, timezone)
    now = utcnow()
    row = Schedule(
        team_id=actor.team_id,
        cron=cron,
        timezone=timezone,
        request=check_request(request),
        channel_id=channel_id,
        created_by=actor.user_id,
        enabled=True,
        next_run_at=next_after(cron, timezone, now),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    await _audit(
        session, actor, AuditKind.SCHEDULE_CREATED, row, cron=cron, timezone=timezone, request=request
    )
    return view(row)


async def set_enabled(
    session: AsyncSession, *, actor: Actor, policy: Policy, schedule_id: int, enabled: bool
) -> ScheduleView:
    """Pause, or resume from now on: due times that passed while paused are not made up."""
    row = await _changeable(session, actor=actor, policy=policy, schedule_id=schedule_id)
    row.enabled = enabled
    row.next_run_at = next_after(row.cron, row.timezone, utcnow()) if enabled else None
    row.updated_at = utcnow()
    await _audit(session, actor, AuditKind.SCHEDULE_CHANGED, row, enabled=enabled)
    return view(row)


async def delete(session: AsyncSession, *, actor: Actor, policy: Policy, schedule_id: int) -> ScheduleView:
    row = await _changeable(session, actor=actor, policy=policy, schedule_id=schedule_id)
    shown = view(row)
    await session.delete(row)
    await _audit(session, actor, AuditKind.SCHEDULE_DELETED, row, request=row.request)
    return shown


async def get(session: AsyncSession, *, team_id: str, schedule_id: int) -> ScheduleView:
    return view(await find(session, team_id=team_id, schedule_id=schedule_id))


async def listing(
    session: AsyncSession, *, team_id: str, page: int = 0, size: int = PAGE_SIZE
) -> Page[ScheduleView]:
    query: Select[tuple[Schedule]] = select(Schedule).where(Schedule.team_id == team_id).order_by(Schedule.id)
    return (await paging.fetch(session, query, page=page, size=size)).map(view)


async def upcoming(session: AsyncSession, *, team_id: str, limit: int) -> list[ScheduleView]:
    """The next schedules to fire, soonest first (paused ones have no next run)."""
    rows = await session.scalars(
        select(Schedule)
        .where(Schedule.team_id == team_id, Schedule.next_run_at.is_not(None))
        .order_by(Schedule.next_run_at)
        .limit(limit)
    )
    return [view(row) for row in rows.all()]


async def history(
    session: AsyncSession, *, team_id: str, schedule_id: int, page: int = 0, size: int = HISTORY_SIZE
) -> Page[ScheduleRunView]:
    """A schedule's runs, newest first."""
    query: Select[tuple[ScheduleRun]] = (
        select(ScheduleRun)
        .where(ScheduleRun.team_id == team_id, ScheduleRun.schedule_id == schedule_id)
        .order_by(ScheduleRun.id.desc())
    )
    return (await paging.fetch(session, query, page=page, size=size)).map(run_view)


def view(row: Schedule) -> ScheduleView:
    return ScheduleView(
        id=row.id,
        cron=row.cron,
        timezone=row.timezone,
        request=row.request,
        channel_id=row.channel_id,
        created_by=row.created_by,
        enabled=row.enabled,
        next_run_at=row.next_run_at,
    )


def run_view(row: ScheduleRun) -> ScheduleRunView:
    return ScheduleRunView(
        id=row.id,
        due_at=row.due_at,
        kind=row.kind,
        state=row.state,
        missed=row.missed,
        plan_id=row.plan_id,
        detail=row.detail,
        actor_id=row.actor_id,
    )


async def find(
    session: AsyncSession, *, team_id: str, schedule_id: int, for_update: bool = False
) -> Schedule:
    query = select(Schedule).where(Schedule.team_id == team_id, Schedule.id == schedule_id)
    row = await session.scalar(query.with_for_update() if for_update else query)
    if row is None:
        raise NotFound(f"There is no schedule #{schedule_id} in this workspace.")
    return row


async def _changeable(session: AsyncSession, *, actor: Actor, policy: Policy, schedule_id: int) -> Schedule:
    row = await find(session, team_id=actor.team_id, schedule_id=schedule_id, for_update=True)
    if row.created_by != actor.user_id and not policy.is_admin(actor.user_id):
        raise PolicyDenied(
            f"Only <@{row.created_by}>, who made schedule #{row.id}, or an admin can change it."
        )
    return row


async def _audit(
    session: AsyncSession, actor: Actor, kind: AuditKind, row: Schedule, **detail: object
) -> None:
    await audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        kind=kind,
        detail={"schedule_id": row.id, **detail},
    )
