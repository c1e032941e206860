"""Plans made in an incident's thread belong to the incident: its timeline lists them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot import incident_views
from bot.db.models import IncidentPlan


async def link_plan(
    session: AsyncSession, *, team_id: str, channel_id: str, thread_ts: str, plan_id: int
) -> int | None:
    """Link the plan to the incident whose thread it was made in; that incident's id, or None."""
    incident_id = await incident_views.in_thread(
        session, team_id=team_id, channel_id=channel_id, thread_ts=thread_ts
    )
    if incident_id is not None:
        session.add(IncidentPlan(team_id=team_id, incident_id=incident_id, plan_id=plan_id))
        await session.flush()
    return incident_id
