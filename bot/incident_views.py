"""Reads an incident with its alert counts and links into one `IncidentView` for rendering, and
finds the incident a Slack thread belongs to."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.alert_bodies import rule_expr
from bot.db.models import Incident, IncidentAlert
from bot.domain import IncidentLink, IncidentStatus, IncidentView
from bot.errors import NotFound
from bot.incident_settings import ServiceConfig


async def get(session: AsyncSession, *, team_id: str, incident_id: int, for_update: bool = False) -> Incident:
    query = select(Incident).where(Incident.team_id == team_id, Incident.id == incident_id)
    incident = await session.scalar(query.with_for_update() if for_update else query)
    if incident is None:
        raise NotFound(f"There is no incident #{incident_id}.")
    return incident


async def load(
    session: AsyncSession, *, team_id: str, incident_id: int, services: Mapping[str, ServiceConfig]
) -> IncidentView:
    incident = await get(session, team_id=team_id, incident_id=incident_id)
    firing, total = (
        await session.execute(
            select(
                func.coalesce(func.sum(case((IncidentAlert.status == IncidentStatus.FIRING, 1), else_=0)), 0),
                func.count(),
            ).where(IncidentAlert.incident_id == incident.id)
        )
    ).one()
    return view_of(incident, firing=int(firing), total=int(total), service=services.get(incident.service))


async def in_thread(session: AsyncSession, *, team_id: str, channel_id: str, thread_ts: str) -> int | None:
    """The incident whose message starts the thread `thread_ts` in `channel_id`, if any."""
    return await session.scalar(
        select(Incident.id).where(
            Incident.team_id == team_id, Incident.channel_id == channel_id, Incident.ts == thread_ts
        )
    )


def view_of(incident: Incident, *, firing: int, total: int, service: ServiceConfig | None) -> IncidentView:
    return IncidentView(
        id=incident.id,
        team_id=incident.team_id,
        service=incident.service,
        alertname=incident.alertname,
        severity=incident.severity,
        title=incident.title,
        status=IncidentStatus(incident.status),
        labels=incident.labels,
        annotations=incident.annotations,
        started_at=incident.started_at,
        resolved_at=incident.resolved_at,
        resolved_by=incident.resolved_by,
        acknowledged_by=incident.acknowledged_by,
        acknowledged_at=incident.acknowledged_at,
        alerts_firing=firing,
        alerts_total=total,
        deliveries=incident.deliveries,
        links=_links(incident, service),
        channel_id=incident.channel_id,
        ts=incident.ts,
        expr=rule_expr(incident.generator_url),
    )


def _links(incident: Incident, service: ServiceConfig | None) -> list[IncidentLink]:
    candidates = [
        ("Prometheus graph", incident.generator_url),
        ("Grafana dashboard", str(service.dashboard_url) if service and service.dashboard_url else ""),
        ("Runbook", incident.annotations.get("runbook_url", "")),
    ]
    # Links come from alerts: only web links become buttons, never javascript: or slack: ones.
    return [
        IncidentLink(label=label, url=url)
        for label, url in candidates
        if url.startswith(("https://", "http://")) and len(url) <= 3000
    ]
