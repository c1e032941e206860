"""What happens in an incident's thread: once its message is posted, diagnostics, a chart of the
alert's expression and the proposed remediation; diagnostics again on request; the timeline once it
resolves. Each piece that fails says so in the thread (or the log, when Slack itself refuses)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from blocks.findings import findings_reply
from blocks.incident import diagnostics_reply, notice, timeline_reply
from blocks.text import literal
from bot import charts, diagnostics, incident_views, investigation, operations, timeline
from bot.charts import ChartUnavailable
from bot.clock import utcnow
from bot.domain import Actor, DiagnosticSection, IncidentView
from bot.errors import CarapulseError
from bot.planning_context import ContextItem
from bot.steps import run_action
from bot.workflows.catalog import WorkflowRequest

if TYPE_CHECKING:
    from bot.incident_desk import IncidentDesk

log = logging.getLogger(__name__)

ONCALL_ACTION = "pagerduty.list_oncalls"


async def open_thread(desk: IncidentDesk, view: IncidentView) -> None:
    """Diagnostics and the chart are read at once; then the diagnostics, the chart and the proposal
    are posted in that order."""
    sections, chart = await asyncio.gather(_diagnostics(desk, view), _chart(desk, view))
    await say(desk, view, *diagnostics_reply(view, sections, read_at=utcnow()))
    if isinstance(chart, bytes):
        await _upload(desk, view, chart)
    else:
        await say(desk, view, *notice(f":chart_with_downwards_trend: No chart: {literal(chart)}"))
    await propose(desk, view)


async def investigate(desk: IncidentDesk, view: IncidentView, *, by: str) -> None:
    """Diagnostics again now; with a model configured, then its read-only investigation, given the
    alert and those diagnostics as data (never as instructions)."""
    sections = await _diagnostics(desk, view)
    await say(desk, view, *diagnostics_reply(view, sections, read_at=utcnow(), by=by))
    if desk.runtime.model is None:
        return
    question = f"Why is {view.alertname} firing for {view.service}, and what would fix it?"
    try:
        findings = await investigation.investigate(
            desk.runtime,
            requester=Actor(team_id=view.team_id, user_id=by),
            question=question,
            data=_investigation_data(view, sections),
        )
    except CarapulseError as exc:
        await say(desk, view, *notice(f":warning: The investigation stopped: {literal(exc.message)}"))
        return
    await say(desk, view, *findings_reply(findings))


async def propose(desk: IncidentDesk, view: IncidentView) -> None:
    """Plan the remediation the source proposes as a card in the thread. It needs an approval
    whatever the policy would let run alone: nobody asked for it."""
    proposal = await desk.remediations.remediation_for(
        team_id=view.team_id, service=view.service, alertname=view.alertname
    )
    if proposal is None or view.ts is None or view.channel_id is None:
        return
    runtime = desk.runtime
    try:
        start = operations.workflow_start(runtime, WorkflowRequest(proposal.workflow, dict(proposal.inputs)))
        await operations.start_workflow(
            runtime,
            requester=Actor(team_id=view.team_id, user_id=desk.identity.user_id),
            channel_id=view.channel_id,
            thread_ts=view.ts,
            start=start,
            intent=f"proposed for incident #{view.id} ({proposal.source})",
            source_key=f"incident:{view.id}:{view.started_at.isoformat()}:remediation",
            min_approvals=1,
            rate_limited=False,
        )
    except CarapulseError as exc:
        text = f":warning: The proposed remediation ({literal(proposal.workflow)}) could not be planned: "
        await say(desk, view, *notice(text + literal(exc.message)))


async def post_timeline(desk: IncidentDesk, incident_id: int) -> None:
    async with desk.runtime.sessions() as session:
        incident = await incident_views.get(session, team_id=desk.team_id, incident_id=incident_id)
        entries = await timeline.entries(session, incident=incident)
    view = await desk.view(incident_id)
    await say(desk, view, *timeline_reply(view, entries, total=len(entries)))


async def oncall(desk: IncidentDesk, view: IncidentView) -> list[str]:
    """Slack users on call for the service's escalation policy (PagerDuty), found by their email;
    nobody when PagerDuty is not configured or cannot say."""
    service = desk.settings.incident_services.get(view.service)
    policy = service.escalation_policy if service else None
    if not policy or ONCALL_ACTION not in desk.runtime.registry:
        return []
    outcome = await run_action(desk.runtime.registry, ONCALL_ACTION, {"escalation_policy_id": policy})
    if not outcome.ok:
        log.warning("on-call of %s not read: %s", policy, outcome.error)
        return []
    emails = {entry.get("email") for entry in outcome.data.get("oncalls", []) if entry.get("email")}
    return [user for email in sorted(emails) if (user := await desk.slack.user_by_email(email))]


async def _diagnostics(desk: IncidentDesk, view: IncidentView) -> list[DiagnosticSection]:
    service = desk.settings.incident_services.get(view.service)
    return await diagnostics.read(desk.runtime.registry, view, service)


async def _chart(desk: IncidentDesk, view: IncidentView) -> bytes | str:
    """The PNG, or why there is none."""
    try:
        return await charts.expression_png(desk.runtime.registry, view.expr, title=f"{view.expr} (last hour)")
    except ChartUnavailable as exc:
        return str(exc)


def _investigation_data(view: IncidentView, sections: list[DiagnosticSection]) -> list[ContextItem]:
    """The alert and the diagnostics, as the data an investigation starts from."""
    labels = "\n".join(f"{name}={value}" for name, value in sorted(view.labels.items()))
    annotations = "\n".join(f"{name}: {value}" for name, value in sorted(view.annotations.items()))
    items = [ContextItem("alert labels", labels), ContextItem("alert annotations", annotations)]
    for section in sections:
        said = "\n".join(section.lines) or section.note
        items.append(ContextItem(f"diagnostics: {section.title} ({section.state})", said))
    return items


async def say(desk: IncidentDesk, view: IncidentView, text: str, blocks: list[dict[str, Any]]) -> None:
    try:
        await desk.slack.reply(view, text, blocks)
    except SlackApiError as exc:
        log.warning("incident #%s: reply %r refused: %s", view.id, text, exc.response.get("error"))


async def _upload(desk: IncidentDesk, view: IncidentView, png: bytes) -> None:
    try:
        await desk.slack.upload(
            view, content=png, filename=f"incident-{view.id}.png", title=f"{view.alertname}: the last hour"
        )
    except SlackApiError as exc:
        log.warning("incident #%s: chart upload refused: %s", view.id, exc.response.get("error"))
