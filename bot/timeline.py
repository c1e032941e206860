"""An incident's timeline: its alerts, the service's deploys and events from webhooks, what people
did to the incident, and the plans made in its thread (created, approved, each step, the outcome),
in time order. Every source is read a page at a time, so a storm of alerts stays one line per kind.
What happened to plans (`plan_entries`) is told the same way in change sessions' timelines."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import AuditKind
from bot.db.models import AuditEvent, Incident, IncidentAlert, IncidentPlan, Plan, ServiceEvent
from bot.domain import TimelineEntry

ALERTS_LISTED = 20
EVENTS_LISTED = 200
PLANS_LISTED = 50
PLAN_EVENTS_LISTED = 500
# Deploys shortly before an incident are often its cause.
LOOKBACK = timedelta(hours=1)


async def entries(session: AsyncSession, *, incident: Incident) -> list[TimelineEntry]:
    found = [TimelineEntry(at=incident.started_at, kind="opened", text=f"Incident opened: {incident.title}")]
    found += await _alerts(session, incident)
    found += await _service_events(session, incident)
    found += await _plans(session, incident)
    if incident.resolved_at is not None:
        by = incident.resolved_by
        found.append(
            TimelineEntry(
                at=incident.resolved_at, kind="resolved", actor=by, text=f"Incident resolved ({by})"
            )
        )
    return sorted(found, key=lambda entry: entry.at)


def markdown(incident: Incident, found: Sequence[TimelineEntry]) -> str:
    lines = [
        f"# Incident #{incident.id}: {incident.title}",
        "",
        f"- service: {incident.service or '(none)'}",
        f"- alert: {incident.alertname}, severity {incident.severity or 'none'}",
        f"- started: {incident.started_at.isoformat()}",
        f"- resolved: {incident.resolved_at.isoformat() if incident.resolved_at else 'not yet'}",
        "",
        "| time (UTC) | what | who |",
        "|---|---|---|",
    ]
    lines += [f"| {e.at.isoformat()} | {_cell(e.text)} | {_cell(e.actor)} |" for e in found]
    return "\n".join(lines) + "\n"


def as_json(incident: Incident, found: Sequence[TimelineEntry]) -> str:
    document: dict[str, Any] = {
        "incident": {
            "id": incident.id,
            "title": incident.title,
            "service": incident.service,
            "alertname": incident.alertname,
            "severity": incident.severity,
            "labels": incident.labels,
            "started_at": incident.started_at.isoformat(),
            "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
            "resolved_by": incident.resolved_by,
        },
        "timeline": [entry.model_dump(mode="json") for entry in found],
    }
    return json.dumps(document, indent=2, sort_keys=True)


async def _alerts(session: AsyncSession, incident: Incident) -> list[TimelineEntry]:
    total = await session.scalar(
        select(func.count()).select_from(IncidentAlert).where(IncidentAlert.incident_id == incident.id)
    )
    rows = (
        await session.scalars(
            select(IncidentAlert)
            .where(IncidentAlert.incident_id == incident.id)
            .order_by(IncidentAlert.starts_at, IncidentAlert.id)
            .limit(ALERTS_LISTED)
        )
    ).all()
    found = []
    for row in rows:
        found.append(
            TimelineEntry(
                at=row.first_seen, kind="alert", actor="alertmanager", text=f"Alert fired: {_alert(row)}"
            )
        )
        if row.ends_at is not None:
            found.append(
                TimelineEntry(
                    at=row.ends_at, kind="alert", actor="alertmanager", text=f"Alert resolved: {_alert(row)}"
                )
            )
    if (total or 0) > len(rows):
        last = rows[-1].starts_at if rows else incident.started_at
        found.append(
            TimelineEntry(at=last, kind="alert", text=f"… and {(total or 0) - len(rows)} more alerts")
        )
    return found


async def _service_events(session: AsyncSession, incident: Incident) -> list[TimelineEntry]:
    """The incident's own events, and the service's webhook events from shortly before it opened
    until it resolved."""
    until = incident.resolved_at or incident.updated_at
    rows = (
        await session.scalars(
            select(ServiceEvent)
            .where(
                ServiceEvent.team_id == incident.team_id,
                or_(
                    ServiceEvent.incident_id == incident.id,
                    and_(
                        ServiceEvent.incident_id.is_(None),
                        ServiceEvent.service == incident.service,
                        ServiceEvent.occurred_at >= incident.started_at - LOOKBACK,
                        ServiceEvent.occurred_at <= until,
                    ),
                ),
            )
            .order_by(ServiceEvent.occurred_at, ServiceEvent.id)
            .limit(EVENTS_LISTED)
        )
    ).all()
    return [
        TimelineEntry(at=row.occurred_at, kind=row.kind, actor=row.actor, text=f"{row.source}: {row.summary}")
        for row in rows
    ]


async def _plans(session: AsyncSession, incident: Incident) -> list[TimelineEntry]:
    plans = (
        await session.execute(
            select(Plan.id, Plan.summary)
            .join(IncidentPlan, IncidentPlan.plan_id == Plan.id)
            .where(IncidentPlan.incident_id == incident.id, Plan.team_id == incident.team_id)
            .order_by(Plan.id)
            .limit(PLANS_LISTED)
        )
    ).all()
    return await plan_entries(
        session, team_id=incident.team_id, summaries={plan_id: summary for plan_id, summary in plans}
    )


async def plan_entries(
    session: AsyncSession, *, team_id: str, summaries: Mapping[int, str]
) -> list[TimelineEntry]:
    """What happened to these plans (id → summary), from their audit events: created, approved,
    rejected, each step, how their executions ended; in time order, at most PLAN_EVENTS_LISTED."""
    if not summaries:
        return []
    events = (
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.team_id == team_id, AuditEvent.plan_id.in_(summaries))
            .order_by(AuditEvent.created_at, AuditEvent.id)
            .limit(PLAN_EVENTS_LISTED)
        )
    ).all()
    return [
        TimelineEntry(
            at=event.created_at,
            kind=event.kind,
            actor=event.actor_id,
            text=f"Plan #{event.plan_id} ({summaries[event.plan_id or 0]}): {_plan_event(event)}",
            plan_id=event.plan_id,
        )
        for event in events
    ]


def _plan_event(event: AuditEvent) -> str:
    detail = event.detail
    if event.kind in (AuditKind.STEP_STARTED, AuditKind.STEP_FINISHED):
        state = f" {detail.get('state')}" if event.kind == AuditKind.STEP_FINISHED else " started"
        said = detail.get("summary") or detail.get("error") or ""
        return f"{detail.get('stage')} step {detail.get('action')}{state}" + (f": {said}" if said else "")
    if event.kind == AuditKind.EXECUTION_FINISHED:
        return f"execution {detail.get('status', 'finished')}" + (
            f": {detail['error']}" if detail.get("error") else ""
        )
    if event.kind == AuditKind.PLAN_REJECTED:
        return f"rejected: {detail.get('reason', '')}"
    if event.kind == AuditKind.SESSION_PLAN_LINKED:
        return f"made in change session {detail.get('name', '')}"
    return event.kind.replace(".", " ").replace("_", " ")


def _alert(row: IncidentAlert) -> str:
    labels = row.labels
    shown = {k: v for k, v in labels.items() if k not in ("alertname", "severity")}
    return f"{labels.get('alertname', '?')} {json.dumps(shown, sort_keys=True)[:300]}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
