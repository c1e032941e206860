"""What comes in (alert and service webhooks) and what a person can do to an incident (acknowledge,
silence, investigate, resolve, export), end to end: change it in one transaction, then show it.

Entry points for the webhook handlers, the Slack listeners and tests; they take domain values,
never HTTP or Slack payloads. Nothing here waits on Slack for a webhook's answer: Slack work is
handed to the desk's tasks.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from blocks.incident import notice
from blocks.text import literal, user
from bot import alert_gate, incident_views, incident_work, operations, timeline
from bot.alert_bodies import AlertmanagerWebhook
from bot.alert_gate import Intake
from bot.clock import utcnow
from bot.db.models import Incident, ServiceEvent
from bot.domain import (
    Actor,
    BlastRadius,
    IncidentView,
    PlanDraft,
    Risk,
    RiskLevel,
    StepSpec,
    StepStage,
    Target,
)
from bot.errors import Conflict, UserError
from bot.incident_desk import IncidentDesk
from bot.service_events import ServiceEventIn
from bot.steps import run_action
from bot.workflows.catalog import WorkflowRequest

SILENCE_FOR = "1h"
PAGERDUTY_OPEN = "pagerduty.list_incidents"
PAGERDUTY_ACK = "pagerduty.acknowledge_incident"


async def take_alerts(desk: IncidentDesk, webhook: AlertmanagerWebhook) -> Intake:
    """Store what the delivery says (committed before this returns) and hand the Slack work on."""
    intake = await desk.take(webhook.alerts)
    for incident_id in sorted(intake.changed):
        desk.changed(incident_id)
    for incident_id in sorted(intake.reopened):
        desk.spawn(_say(desk, incident_id, ":repeat: Firing again."), name=f"incident-reopened-{incident_id}")
    return intake


async def take_service_event(desk: IncidentDesk, event: ServiceEventIn) -> None:
    async with desk.runtime.sessions.begin() as session:
        session.add(
            ServiceEvent(
                team_id=desk.team_id,
                service=event.service[:128],
                kind=event.kind,
                source=event.source,
                actor=event.actor[:128],
                summary=event.summary,
                detail=event.detail,
                occurred_at=event.occurred_at,
                created_at=utcnow(),
            )
        )


async def acknowledge(desk: IncidentDesk, *, actor: Actor, incident_id: int) -> None:
    """Record who acknowledged; when the service has a PagerDuty service, plan the acknowledgement of
    its open PagerDuty incidents (policy decides whether that needs an approval)."""
    now = utcnow()
    async with desk.runtime.sessions.begin() as session:
        incident = await incident_views.get(
            session, team_id=actor.team_id, incident_id=incident_id, for_update=True
        )
        if incident.acknowledged_by:
            raise Conflict(
                f"Incident #{incident_id} was acknowledged by {user(incident.acknowledged_by)} already."
            )
        incident.acknowledged_by, incident.acknowledged_at, incident.updated_at = actor.user_id, now, now
        _record(session, incident, "acknowledged", actor.user_id, "Acknowledged", now)
    desk.changed(incident_id)
    view = await desk.view(incident_id)
    await _acknowledge_on_pagerduty(desk, actor, view)


async def silence(desk: IncidentDesk, *, actor: Actor, incident_id: int, source_key: str) -> int:
    """Plan an Alertmanager silence of the incident's alert for an hour (incident_remediation)."""
    view = await _posted(desk, actor, incident_id)
    typed = {"remediation": "silence", "service": view.service, "silence_for": SILENCE_FOR}
    typed |= {"alertname": view.alertname} if view.alertname else {}
    start = operations.workflow_start(desk.runtime, WorkflowRequest("incident_remediation", typed))
    async with desk.runtime.sessions.begin() as session:
        incident = await incident_views.get(session, team_id=actor.team_id, incident_id=incident_id)
        _record(session, incident, "silence", actor.user_id, f"Silence for {SILENCE_FOR} asked", utcnow())
    return await operations.start_workflow(
        desk.runtime,
        requester=actor,
        channel_id=view.channel_id or "",
        thread_ts=view.ts,
        start=start,
        intent=f"silence incident #{incident_id} for {SILENCE_FOR}",
        source_key=source_key,
    )


async def investigate(desk: IncidentDesk, *, actor: Actor, incident_id: int) -> None:
    view = await _posted(desk, actor, incident_id)
    async with desk.runtime.sessions.begin() as session:
        incident = await incident_views.get(session, team_id=actor.team_id, incident_id=incident_id)
        _record(session, incident, "investigated", actor.user_id, "Diagnostics read again", utcnow())
    await incident_work.investigate(desk, view, by=actor.user_id)


async def resolve(desk: IncidentDesk, *, actor: Actor, incident_id: int) -> None:
    """Resolve by hand: the gate entry closes (a group that fires again soon reopens it) and the
    timeline is posted."""
    now = utcnow()
    async with desk.runtime.sessions.begin() as session:
        incident = await incident_views.get(
            session, team_id=actor.team_id, incident_id=incident_id, for_update=True
        )
        if not await alert_gate.close(
            session, team_id=actor.team_id, incident_id=incident_id, by=actor.user_id, now=now
        ):
            raise Conflict(f"Incident #{incident_id} is resolved already.")
        _record(session, incident, "resolved", actor.user_id, "Resolved by hand", now)
    desk.changed(incident_id)


async def export(
    desk: IncidentDesk, *, actor: Actor, incident_id: int, channel_id: str, thread_ts: str | None
) -> None:
    """Upload the timeline as Markdown and JSON where it was asked for."""
    async with desk.runtime.sessions() as session:
        incident = await incident_views.get(session, team_id=actor.team_id, incident_id=incident_id)
        entries = await timeline.entries(session, incident=incident)
    name = f"incident-{incident_id}-timeline"
    for content, extension in (
        (timeline.markdown(incident, entries), "md"),
        (timeline.as_json(incident, entries), "json"),
    ):
        await desk.slack.upload_to(
            channel_id,
            thread_ts,
            content=content,
            filename=f"{name}.{extension}",
            title=f"Incident #{incident_id} timeline",
        )


async def _acknowledge_on_pagerduty(desk: IncidentDesk, actor: Actor, view: IncidentView) -> None:
    service = desk.settings.incident_services.get(view.service)
    registry = desk.runtime.registry
    pd_service = service.pagerduty_service if service else None
    if not pd_service or PAGERDUTY_OPEN not in registry or PAGERDUTY_ACK not in registry:
        return
    outcome = await run_action(
        registry, PAGERDUTY_OPEN, {"service_id": pd_service, "statuses": ["triggered"]}
    )
    if not outcome.ok:
        await _say_view(desk, view, f":warning: PagerDuty incidents not read: {literal(outcome.error)}")
        return
    open_ids = [entry["id"] for entry in outcome.data.get("incidents", [])]
    if not open_ids:
        await _say_view(desk, view, "PagerDuty has no triggered incident for this service.")
        return
    await operations.request_plan(
        desk.runtime,
        requester=actor,
        channel_id=view.channel_id or "",
        thread_ts=view.ts,
        draft=_pagerduty_ack(view, desk.runtime.environment, pd_service, open_ids),
        source_key=f"incident:{view.id}:ack:{','.join(open_ids)}",
    )


def _pagerduty_ack(
    view: IncidentView, environment: str, pd_service: str, incident_ids: list[str]
) -> PlanDraft:
    steps = [
        StepSpec(
            stage=StepStage.ACT,
            action=PAGERDUTY_ACK,
            args={"incident_id": incident_id},
            description=f"Acknowledge PagerDuty incident {incident_id}",
        )
        for incident_id in incident_ids
    ]
    return PlanDraft(
        intent=f"acknowledge incident #{view.id} on PagerDuty",
        summary=f"acknowledge the PagerDuty incidents of {view.service}",
        target=Target(environment=environment, namespace="", kind="PagerDutyService", name=pd_service),
        steps=steps,
        rollback="None possible: PagerDuty cannot un-acknowledge",
        risk=Risk(level=RiskLevel.LOW, blast_radius=BlastRadius.NAMESPACE, targets=incident_ids),
    )


async def _posted(desk: IncidentDesk, actor: Actor, incident_id: int) -> IncidentView:
    """The incident, once its message is in Slack (its buttons are on that message)."""
    if actor.team_id != desk.team_id:
        raise UserError(f"There is no incident #{incident_id} in this workspace.")
    view = await desk.view(incident_id)
    if view.ts is None:
        raise UserError(f"Incident #{incident_id} has no message in Slack yet; try again in a moment.")
    return view


def _record(
    session: AsyncSession, incident: Incident, kind: str, actor_id: str, summary: str, now: datetime
) -> None:
    session.add(
        ServiceEvent(
            team_id=incident.team_id,
            service=incident.service,
            incident_id=incident.id,
            kind=kind,
            source="slack",
            actor=actor_id,
            summary=summary,
            detail={},
            occurred_at=now,
            created_at=now,
        )
    )


async def _say(desk: IncidentDesk, incident_id: int, text: str) -> None:
    await desk.settled(incident_id)
    await _say_view(desk, await desk.view(incident_id), text)


async def _say_view(desk: IncidentDesk, view: IncidentView, text: str) -> None:
    if view.ts is not None:
        await incident_work.say(desk, view, *notice(text))
