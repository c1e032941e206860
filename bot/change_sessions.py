"""Change sessions: a channel or a thread declared the place of one change or incident, with its
members and their roles, from its start to its end. Plans made there link to it (bot/plan_links.py),
and every session event is audited (in the team's stream; a plan's link in the plan's).

One session is open per channel or thread (a unique key, like incidents'). Only a lead of the
session or an admin may change its members or end it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from blocks.text import literal
from bot import audit
from bot.audit import AuditKind
from bot.clock import utcnow
from bot.db.models import Approval, Execution, Plan
from bot.db.session_models import ChangeSession, ChangeSessionMember, ChangeSessionPlan
from bot.domain import Actor, PlanStatus, SessionMember, SessionPlan, SessionRole, SessionView
from bot.errors import Conflict, NotFound, PolicyDenied, UserError
from bot.policy import Policy

MAX_NAME_LENGTH = 80
PLANS_SHOWN = 20
COMMAND = "/carapulse"


class RosterError(UserError):
    """A roster that cannot be: `role` names the field the message is about."""

    def __init__(self, role: SessionRole, message: str) -> None:
        super().__init__(message)
        self.role = role


@dataclass(frozen=True)
class RosterChange:
    """What setting the members did: who joined (with their role) and who left."""

    joined: list[tuple[str, SessionRole]]
    left: list[str]


def check_name(raw: str) -> str:
    """A session's name as people will see it: one line, 1 to MAX_NAME_LENGTH characters."""
    name = " ".join(raw.split())
    if not name:
        raise UserError(f"Name the session, e.g. `{COMMAND} session start checkout db migration`.")
    if len(name) > MAX_NAME_LENGTH:
        raise UserError(
            f"A session's name has at most {MAX_NAME_LENGTH} characters; this one has {len(name)}."
        )
    return name


def roster(picked: Mapping[SessionRole, Sequence[str]]) -> dict[str, SessionRole]:
    """The members picked per role, each person once; a session always has a lead."""
    members: dict[str, SessionRole] = {}
    for role in SessionRole:
        for user_id in picked.get(role, ()):
            if user_id in members:
                raise RosterError(
                    role, f"<@{user_id}> is already {_article(members[user_id])}; pick one role."
                )
            members[user_id] = role
    if SessionRole.LEAD not in members.values():
        raise RosterError(SessionRole.LEAD, "A session needs a lead.")
    return members


async def start(
    session: AsyncSession,
    *,
    actor: Actor,
    name: str,
    channel_id: str,
    thread_ts: str | None,
    members: Mapping[str, SessionRole] | None = None,
) -> ChangeSession:
    """Open a session in the channel (or thread); `members` default to the starter as lead.
    Raises Conflict, naming the open one, when the place already has a session."""
    members = dict(members) if members is not None else {actor.user_id: SessionRole.LEAD}
    if SessionRole.LEAD not in members.values():
        raise UserError("A session needs a lead.")
    key = _open_key(channel_id, thread_ts)
    existing = await _open_at(session, actor.team_id, key)
    if existing is not None:
        raise _already_open(existing)
    row = ChangeSession(
        team_id=actor.team_id,
        name=check_name(name),
        channel_id=channel_id,
        thread_ts=thread_ts,
        open_key=key,
        started_by=actor.user_id,
        started_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        existing = await _open_at(session, actor.team_id, key)
        raise _already_open(existing) from None
    await _record(session, actor, AuditKind.SESSION_STARTED, row, channel_id=channel_id, thread_ts=thread_ts)
    await _join(session, actor, row, members)
    return row


async def get(session: AsyncSession, *, team_id: str, session_id: int) -> ChangeSession:
    row = await session.scalar(
        select(ChangeSession).where(ChangeSession.team_id == team_id, ChangeSession.id == session_id)
    )
    if row is None:
        raise NotFound(f"There is no change session #{session_id} in this workspace.")
    return row


async def open_here(
    session: AsyncSession, *, team_id: str, channel_id: str, thread_ts: str | None
) -> ChangeSession | None:
    """The session open in exactly this channel (thread_ts None) or thread."""
    return await _open_at(session, team_id, _open_key(channel_id, thread_ts))


async def containing(
    session: AsyncSession, *, team_id: str, channel_id: str, thread_ts: str | None
) -> ChangeSession | None:
    """The open session something said in this channel or thread belongs to: the thread's own, else
    the channel's."""
    if thread_ts:
        found = await open_here(session, team_id=team_id, channel_id=channel_id, thread_ts=thread_ts)
        if found is not None:
            return found
    return await open_here(session, team_id=team_id, channel_id=channel_id, thread_ts=None)


async def open_threads(session: AsyncSession, *, team_id: str, channel_id: str) -> int:
    """How many threads of the channel have an open session of their own."""
    count = await session.scalar(
        select(func.count())
        .select_from(ChangeSession)
        .where(
            ChangeSession.team_id == team_id,
            ChangeSession.channel_id == channel_id,
            ChangeSession.thread_ts.is_not(None),
            ChangeSession.open_key.is_not(None),
        )
    )
    return int(count or 0)


async def set_members(
    session: AsyncSession,
    *,
    actor: Actor,
    policy: Policy,
    session_id: int,
    members: Mapping[str, SessionRole],
) -> RosterChange:
    """Make the session's members exactly `members`: a changed role is a leave and a join."""
    row = await for_change(session, actor, policy, session_id, doing="change its members")
    now = utcnow()
    current = await _current_members(session, row.id)
    left = [member for member in current if members.get(member.user_id) != member.role]
    for member in left:
        member.left_at, member.removed_by = now, actor.user_id
        await _record(
            session, actor, AuditKind.SESSION_MEMBER_LEFT, row, user_id=member.user_id, role=member.role
        )
    staying = {member.user_id for member in current if member not in left}
    joining = {user_id: role for user_id, role in members.items() if user_id not in staying}
    await _join(session, actor, row, joining)
    return RosterChange(joined=list(joining.items()), left=[member.user_id for member in left])


async def end(session: AsyncSession, *, actor: Actor, policy: Policy, session_id: int) -> ChangeSession:
    row = await for_change(session, actor, policy, session_id, doing="end it")
    row.ended_at, row.ended_by, row.open_key = utcnow(), actor.user_id, None
    await session.flush()
    await _record(session, actor, AuditKind.SESSION_ENDED, row)
    return row


async def link_plan(
    session: AsyncSession, *, team_id: str, channel_id: str, thread_ts: str | None, plan_id: int
) -> ChangeSession | None:
    """Link a new plan to the open session of the channel or thread it was made in; that session."""
    row = await containing(session, team_id=team_id, channel_id=channel_id, thread_ts=thread_ts)
    if row is None:
        return None
    session.add(ChangeSessionPlan(team_id=team_id, session_id=row.id, plan_id=plan_id, linked_at=utcnow()))
    await session.flush()
    await audit.record(
        session,
        team_id=team_id,
        actor_id="carapulse",
        kind=AuditKind.SESSION_PLAN_LINKED,
        plan_id=plan_id,
        detail={"session_id": row.id, "name": row.name},
    )
    return row


async def name_for_plan(session: AsyncSession, *, team_id: str, plan_id: int) -> str:
    """The name of the session the plan was made in; "" when none."""
    name = await session.scalar(
        select(ChangeSession.name)
        .join(ChangeSessionPlan, ChangeSessionPlan.session_id == ChangeSession.id)
        .where(ChangeSessionPlan.team_id == team_id, ChangeSessionPlan.plan_id == plan_id)
    )
    return name or ""


async def view(session: AsyncSession, *, row: ChangeSession) -> SessionView:
    """The session with its current members and its first PLANS_SHOWN plans as they stand."""
    members = [
        SessionMember(user_id=m.user_id, role=SessionRole(m.role), joined_at=m.joined_at, added_by=m.added_by)
        for m in await _current_members(session, row.id)
    ]
    linked = ChangeSessionPlan.session_id == row.id
    total = await session.scalar(select(func.count()).select_from(ChangeSessionPlan).where(linked))
    plans = (
        await session.execute(
            select(Plan.id, Plan.summary, Plan.status, Execution.status)
            .join(ChangeSessionPlan, ChangeSessionPlan.plan_id == Plan.id)
            .outerjoin(Execution, Execution.plan_id == Plan.id)
            .where(linked, Plan.team_id == row.team_id)
            .order_by(Plan.id)
            .limit(PLANS_SHOWN)
        )
    ).all()
    approvers = await _approvers(session, [plan_id for plan_id, *_ in plans])
    return SessionView(
        id=row.id,
        team_id=row.team_id,
        name=row.name,
        channel_id=row.channel_id,
        thread_ts=row.thread_ts,
        started_by=row.started_by,
        started_at=row.started_at,
        ended_by=row.ended_by,
        ended_at=row.ended_at,
        members=members,
        plans=[
            SessionPlan(
                id=plan_id,
                summary=summary,
                status=PlanStatus(status),
                approvers=approvers.get(plan_id, []),
                execution_status=execution_status,
            )
            for plan_id, summary, status, execution_status in plans
        ],
        plans_total=int(total or 0),
    )


async def for_change(
    session: AsyncSession, actor: Actor, policy: Policy, session_id: int, *, doing: str
) -> ChangeSession:
    """The open session, locked, once `actor` is known to be one of its leads or an admin;
    `doing` ("end it") completes the refusal."""
    row = await session.scalar(
        select(ChangeSession)
        .where(ChangeSession.team_id == actor.team_id, ChangeSession.id == session_id)
        .with_for_update()
    )
    if row is None:
        raise NotFound(f"There is no change session #{session_id} in this workspace.")
    if row.ended_at is not None:
        raise Conflict(f"The session *{literal(row.name)}* has already ended (by <@{row.ended_by}>).")
    leads = [m.user_id for m in await _current_members(session, row.id) if m.role == SessionRole.LEAD]
    if actor.user_id not in leads and not policy.is_admin(actor.user_id):
        named = ", ".join(f"<@{lead}>" for lead in leads) or "nobody"
        raise PolicyDenied(f"Only a lead of *{literal(row.name)}* ({named}) or an admin may {doing}.")
    return row


async def _approvers(session: AsyncSession, plan_ids: list[int]) -> dict[int, list[str]]:
    if not plan_ids:
        return {}
    rows = await session.execute(
        select(Approval.plan_id, Approval.user_id)
        .join(Plan, Plan.id == Approval.plan_id)
        .where(Approval.plan_id.in_(plan_ids), Approval.plan_hash == Plan.plan_hash)
        .order_by(Approval.id)
    )
    found: dict[int, list[str]] = {}
    for plan_id, user_id in rows:
        found.setdefault(plan_id, []).append(user_id)
    return found


async def _current_members(session: AsyncSession, session_id: int) -> list[ChangeSessionMember]:
    return list(
        (
            await session.scalars(
                select(ChangeSessionMember)
                .where(ChangeSessionMember.session_id == session_id, ChangeSessionMember.left_at.is_(None))
                .order_by(ChangeSessionMember.id)
            )
        ).all()
    )


async def _join(
    session: AsyncSession, actor: Actor, row: ChangeSession, members: Mapping[str, SessionRole]
) -> None:
    now = utcnow()
    for user_id, role in members.items():
        session.add(
            ChangeSessionMember(
                team_id=row.team_id,
                session_id=row.id,
                user_id=user_id,
                role=role,
                added_by=actor.user_id,
                joined_at=now,
            )
        )
        await _record(session, actor, AuditKind.SESSION_MEMBER_JOINED, row, user_id=user_id, role=role)
    await session.flush()


async def _record(
    session: AsyncSession, actor: Actor, kind: AuditKind, row: ChangeSession, **detail: object
) -> None:
    await audit.record(
        session,
        team_id=row.team_id,
        actor_id=actor.user_id,
        kind=kind,
        detail={"session_id": row.id, "name": row.name, **detail},
    )


async def _open_at(session: AsyncSession, team_id: str, key: str) -> ChangeSession | None:
    return await session.scalar(
        select(ChangeSession).where(ChangeSession.team_id == team_id, ChangeSession.open_key == key)
    )


def _open_key(channel_id: str, thread_ts: str | None) -> str:
    return f"{channel_id}:{thread_ts or ''}"


def _already_open(existing: ChangeSession | None) -> Conflict:
    if existing is None:
        return Conflict("Another session was just started here; see it with `/carapulse session`.")
    place = "thread" if existing.thread_ts else "channel"
    return Conflict(
        f"This {place} already has an open session, *{literal(existing.name)}*, "
        f"started by <@{existing.started_by}>. "
        f"One session at a time: end it first (`{COMMAND} session end`, or End session on its message)."
    )


def _article(role: SessionRole) -> str:
    return f"{'an' if role.value[0] in 'aeiou' else 'a'} {role.value}"
