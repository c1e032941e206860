"""A plan belongs to where it was made: to the incident whose thread it was made in, and to the
change session open in its channel or thread. Both links are made once, when the plan is created,
in its transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot import change_sessions, incident_links


async def link_plan(
    session: AsyncSession, *, team_id: str, channel_id: str, thread_ts: str | None, plan_id: int
) -> None:
    if thread_ts:
        await incident_links.link_plan(
            session, team_id=team_id, channel_id=channel_id, thread_ts=thread_ts, plan_id=plan_id
        )
    await change_sessions.link_plan(
        session, team_id=team_id, channel_id=channel_id, thread_ts=thread_ts, plan_id=plan_id
    )
