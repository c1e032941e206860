"""PagerDuty: list and change incidents, add notes, see who is on call (REST v2), and raise or resolve
alerts (Events v2).

Only a trigger has an inverse: resolving the alert with the same dedup key. PagerDuty offers no way
back from an acknowledge or a resolve, and notes cannot be deleted, so those actions read the incident
first, skip a change that is already made, and report the status they found.

Writes are only offered when they can run: incident changes need PAGERDUTY_FROM_EMAIL (the user they
are made as), alerts need PAGERDUTY_ROUTING_KEY.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, ClassVar

from pydantic import Field, StringConstraints

from tools.common.base import (
    Action,
    ActionArgs,
    ActionResult,
    ArgsT,
    Effect,
    Rehearsed,
    RollbackStep,
    ToolError,
    Unchanged,
)
from tools.pagerduty.client import Incident, IncidentStatus, PagerDutyApi, Severity

PagerDutyId = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,40}$")]
DedupKey = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class ListIncidentsArgs(ActionArgs):
    service_id: PagerDutyId
    statuses: Annotated[tuple[IncidentStatus, ...], Field(min_length=1, max_length=3)] = (
        "triggered",
        "acknowledged",
    )
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


class IncidentArgs(ActionArgs):
    incident_id: PagerDutyId


class NoteArgs(IncidentArgs):
    content: Annotated[str, StringConstraints(min_length=1, max_length=25_000)]


class TriggerArgs(ActionArgs):
    summary: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    source: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    severity: Severity = "error"
    # None: a fresh key is made, so a resend lands on the same alert and the rollback can find it.
    dedup_key: DedupKey | None = None
    component: Annotated[str, StringConstraints(max_length=255)] | None = None
    custom_details: Annotated[dict[str, str], Field(max_length=50)] | None = None


class AlertArgs(ActionArgs):
    dedup_key: DedupKey


class OnCallArgs(ActionArgs):
    escalation_policy_id: PagerDutyId


class _PagerDutyAction(Action[ArgsT]):
    timeout_seconds = 60.0

    def __init__(self, api: PagerDutyApi) -> None:
        self.api = api


class ListIncidents(_PagerDutyAction[ListIncidentsArgs]):
    name = "pagerduty.list_incidents"
    description = "List a service's incidents by status (open ones by default)."
    args_model = ListIncidentsArgs
    effect = Effect.READ
    idempotent = True

    async def run(self, args: ListIncidentsArgs) -> ActionResult:
        incidents, more = await self.api.incidents(args.service_id, args.statuses, limit=args.limit)
        service = incidents[0].service.summary if incidents else args.service_id
        counts = ", ".join(
            f"{n} {status}"
            for status in ("triggered", "acknowledged", "resolved")
            if (n := sum(i.status == status for i in incidents))
        )
        summary = f"{len(incidents)} incident{'s' if len(incidents) != 1 else ''} on {service}"
        summary += f" ({counts})" if counts else ""
        summary += f"; more than {args.limit} match, raise the limit to see them" if more else ""
        return ActionResult(
            summary=summary,
            data={
                "service_id": args.service_id,
                "statuses": list(args.statuses),
                "incidents": [incident.brief() for incident in incidents],
                "more": more,
            },
        )


class GetIncident(_PagerDutyAction[IncidentArgs]):
    name = "pagerduty.get_incident"
    description = "Show one incident's status, urgency, service and assignees."
    args_model = IncidentArgs
    effect = Effect.READ
    idempotent = True

    async def run(self, args: IncidentArgs) -> ActionResult:
        incident = await self.api.incident(args.incident_id)
        return ActionResult(summary=f"{_label(incident)}: {incident.status}", data=incident.brief())


class _SetIncidentStatus(Rehearsed, _PagerDutyAction[IncidentArgs]):
    """Acknowledge or resolve. No rollback: PagerDuty has no way to un-acknowledge or reopen."""

    args_model = IncidentArgs
    effect = Effect.WRITE
    idempotent = True
    target: ClassVar[IncidentStatus]
    verb: ClassVar[str]

    async def apply(self, args: IncidentArgs, *, dry_run: bool) -> ActionResult:
        incident = await self.api.incident(args.incident_id)
        previous = incident.status
        if previous == "resolved" and self.target != "resolved":
            raise ToolError(
                f"{_label(incident)} is already resolved; it cannot be {self.verb}d",
                call=f"GET /incidents/{args.incident_id}",
            )
        changed = previous != self.target
        if changed and not dry_run:
            incident = await self.api.set_status(args.incident_id, self.target)
        data = {
            "incident_id": args.incident_id,
            "number": incident.incident_number,
            "previous_status": previous,
            "status": self.target if changed and not dry_run else previous,
            "changed": changed and not dry_run,
        }
        if not changed:
            return Unchanged(summary=f"{_label(incident)} was already {previous}", data=data)
        if dry_run:
            return ActionResult(summary=f"would {self.verb} {_label(incident)} ({previous})", data=data)
        return ActionResult(summary=f"{self.verb}d {_label(incident)} (was {previous})", data=data)


class AcknowledgeIncident(_SetIncidentStatus):
    name = "pagerduty.acknowledge_incident"
    description = "Acknowledge an incident so it stops escalating."
    target = "acknowledged"
    verb = "acknowledge"


class ResolveIncident(_SetIncidentStatus):
    name = "pagerduty.resolve_incident"
    description = "Resolve an incident."
    target = "resolved"
    verb = "resolve"


class AnnotateIncident(Rehearsed, _PagerDutyAction[NoteArgs]):
    """Adds a note to the incident's timeline; the policy reads "annotate" as a low-risk metadata
    change. No rollback: the REST API cannot delete notes."""

    name = "pagerduty.annotate_incident"
    description = "Add a note to an incident's timeline."
    args_model = NoteArgs
    effect = Effect.WRITE

    async def run(self, args: NoteArgs) -> ActionResult:
        incident = await self.api.incident(args.incident_id)
        note = await self.api.add_note(args.incident_id, args.content)
        return ActionResult(
            summary=f"added a note to {_label(incident)}",
            data={"incident_id": args.incident_id, "number": incident.incident_number, "note_id": note.id},
        )

    async def rehearse(self, args: NoteArgs) -> ActionResult:
        incident = await self.api.incident(args.incident_id)
        return ActionResult(
            summary=f"would add a note to {_label(incident)} ({incident.status})",
            data={"incident_id": args.incident_id, "number": incident.incident_number},
        )


class TriggerAlert(_PagerDutyAction[TriggerArgs]):
    """An Events v2 trigger: PagerDuty opens an alert (and an incident) on the routing key's service.
    The Events API cannot rehearse, so there is no dry run."""

    name = "pagerduty.trigger_alert"
    description = "Raise a PagerDuty alert, which pages the service's on-call."
    args_model = TriggerArgs
    effect = Effect.WRITE
    idempotent = True  # the dedup key folds a resend into the same alert

    async def run(self, args: TriggerArgs) -> ActionResult:
        dedup_key = args.dedup_key or f"carapulse-{uuid.uuid4().hex}"
        payload: dict[str, Any] = {"summary": args.summary, "source": args.source, "severity": args.severity}
        if args.component:
            payload["component"] = args.component
        if args.custom_details:
            payload["custom_details"] = args.custom_details
        filed_under = await self.api.send_event("trigger", dedup_key, payload)
        return ActionResult(
            summary=f"triggered a {args.severity} alert from {args.source}: {args.summary}",
            data={"dedup_key": filed_under, "severity": args.severity, "source": args.source},
        )

    def rollback(self, args: TriggerArgs, result: ActionResult) -> RollbackStep:
        dedup_key = result.data["dedup_key"]
        return RollbackStep(
            action=ResolveAlert.name,
            args={"dedup_key": dedup_key},
            description=f"resolve the alert with dedup key {dedup_key}",
        )


class ResolveAlert(_PagerDutyAction[AlertArgs]):
    """An Events v2 resolve of the alert with this dedup key. No rollback: a new trigger with the same
    key opens a new alert rather than reopening this one."""

    name = "pagerduty.resolve_alert"
    description = "Resolve the PagerDuty alert with this dedup key."
    args_model = AlertArgs
    effect = Effect.WRITE
    idempotent = True

    async def run(self, args: AlertArgs) -> ActionResult:
        await self.api.send_event("resolve", args.dedup_key)
        return ActionResult(
            summary=f"resolved the alert with dedup key {args.dedup_key}", data={"dedup_key": args.dedup_key}
        )


class ListOnCalls(_PagerDutyAction[OnCallArgs]):
    name = "pagerduty.list_oncalls"
    description = "Show who is on call now at each level of an escalation policy."
    args_model = OnCallArgs
    effect = Effect.READ
    idempotent = True

    async def run(self, args: OnCallArgs) -> ActionResult:
        oncalls = sorted(await self.api.oncalls(args.escalation_policy_id), key=lambda o: o.escalation_level)
        if not oncalls:
            return ActionResult(
                summary=f"nobody is on call for escalation policy {args.escalation_policy_id}",
                data={"escalation_policy_id": args.escalation_policy_id, "oncalls": []},
            )
        people = [
            f"level {o.escalation_level} {o.user.summary}"
            + (f" ({o.schedule.summary})" if o.schedule else "")
            for o in oncalls
        ]
        return ActionResult(
            summary=f"on call for {oncalls[0].escalation_policy.summary}: {', '.join(people)}",
            data={
                "escalation_policy_id": args.escalation_policy_id,
                "oncalls": [
                    {
                        "level": o.escalation_level,
                        "user": o.user.summary,
                        "user_id": o.user.id,
                        "email": o.user.email,
                        "schedule": o.schedule.summary if o.schedule else None,
                        "start": o.start,
                        "end": o.end,
                    }
                    for o in oncalls
                ],
            },
        )


def _label(incident: Incident) -> str:
    return f"incident #{incident.incident_number} {incident.title!r}"
