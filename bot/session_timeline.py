"""A change session's timeline: its start, who joined with which role (and who left), what happened
to the plans made in it (bot/timeline.py tells that, from the audit log, as for incidents), the
incidents in its channel or thread while it was open, and its end; in time order."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import timeline
from bot.clock import utcnow
from bot.db.models import Incident, IncidentPlan, Plan
from bot.db.session_models import ChangeSession, ChangeSessionMember, ChangeSessionPlan
from bot.domain import TimelineEntry

MEMBERS_LISTED = 200
INCIDENTS_LISTED = 20


async def entries(session: AsyncSession, *, row: ChangeSession) -> list[TimelineEntry]:
    found = [
        TimelineEntry(
            at=row.started_at,
            kind="session.started",
            actor=row.started_by,
            text=f"Session “{row.name}” started",
        )
    ]
    found += await _members(session, row)
    found += await _plans(session, row)
    found += await _incidents(session, row)
    if row.ended_at is not None:
        found.append(
            TimelineEntry(
                at=row.ended_at, kind="session.ended", actor=row.ended_by or "", text="Session ended"
            )
        )
    # A stable sort: what happened at the very moment the session started stays after its start.
    return sorted(found, key=lambda entry: entry.at)


async def _members(session: AsyncSession, row: ChangeSession) -> list[TimelineEntry]:
    members = (
        await session.scalars(
            select(ChangeSessionMember)
            .where(ChangeSessionMember.session_id == row.id)
            .order_by(ChangeSessionMember.id)
            .limit(MEMBERS_LISTED)
        )
    ).all()
    found = []
    for member in members:
        found.append(
            TimelineEntry(
                at=member.joined_at,
                kind="session.member_joined",
                actor=member.user_id,
                text=f"Joined as {member.role}",
            )
        )
        if member.left_at is not None:
            found.append(
                TimelineEntry(
                    at=member.left_at,
                    kind="session.member_left",
                    actor=member.user_id,
                    text=f"Left the {member.role} role",
                )
            )
    return found


async def _plans(session: AsyncSession, row: ChangeSession) -> list[TimelineEntry]:
    plans = (
        await session.execute(
            select(Plan.id, Plan.summary)
            .join(ChangeSessionPlan, ChangeSessionPlan.plan_id == Plan.id)
            .where(ChangeSessionPlan.session_id == row.id, Plan.team_id == row.team_id)
            .order_by(Plan.id)
            .limit(timeline.PLANS_LISTED)
        )
    ).all()
    summaries = {plan_id: summary for plan_id, summary in plans}
    return await timeline.plan_entries(session, team_id=row.team_id, summaries=summaries)


async def _incidents(session: AsyncSession, row: ChangeSession) -> list[TimelineEntry]:
    """Incidents whose message is in the session's thread, or (a channel's session) in its channel
    while the session was open, and those a plan of the session was made for."""
    until = row.ended_at or utcnow()
    if row.thread_ts:
        here = Incident.ts == row.thread_ts
    else:
        here = Incident.started_at <= until
        here = here & or_(Incident.resolved_at.is_(None), Incident.resolved_at >= row.started_at)
    planned_for = select(IncidentPlan.incident_id).join(
        ChangeSessionPlan, ChangeSessionPlan.plan_id == IncidentPlan.plan_id
    )
    incidents = (
        await session.scalars(
            select(Incident)
            .where(
                Incident.team_id == row.team_id,
                or_(
                    (Incident.channel_id == row.channel_id) & here,
                    Incident.id.in_(planned_for.where(ChangeSessionPlan.session_id == row.id)),
                ),
            )
            .order_by(Incident.started_at, Incident.id)
            .limit(INCIDENTS_LISTED)
        )
    ).all()
    found = []
    for incident in incidents:
        found += _incident_entries(incident, row.started_at, until)
    return found


def _incident_entries(incident: Incident, since: datetime, until: datetime) -> list[TimelineEntry]:
    name = f"Incident #{incident.id} ({incident.title})"
    if incident.started_at < since:
        found = [TimelineEntry(at=since, kind="incident", text=f"{name} was firing when the session started")]
    else:
        found = [
            TimelineEntry(
                at=incident.started_at, kind="incident", actor="alertmanager", text=f"{name} opened"
            )
        ]
    if incident.acknowledged_at is not None and since <= incident.acknowledged_at <= until:
        found.append(
            TimelineEntry(
                at=incident.acknowledged_at,
                kind="incident",
                actor=incident.acknowledged_by,
                text=f"{name} acknowledged",
            )
        )
    if incident.resolved_at is not None and since <= incident.resolved_at <= until:
        found.append(
            TimelineEntry(
                at=incident.resolved_at, kind="incident", actor=incident.resolved_by, text=f"{name} resolved"
            )
        )
    return found
