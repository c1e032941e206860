"""PagerDuty's two APIs as the actions use them: REST v2 (incidents, notes, on-calls) and Events v2
(alerts keyed by a dedup key). Both go through JsonHttpClient; this module knows the paths, the
headers each call needs, classic offset pagination, and the answers' shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from tools.common.answers import parse_answer
from tools.common.base import ToolError
from tools.common.http import JsonHttpClient

IncidentStatus = Literal["triggered", "acknowledged", "resolved"]
Severity = Literal["critical", "error", "warning", "info"]
ModelT = TypeVar("ModelT", bound=BaseModel)

REST_URL = "https://api.pagerduty.com"
EVENTS_URL = "https://events.pagerduty.com"
PAGE_SIZE = 100  # the largest page the REST API serves
REST_ACCEPT = "application/vnd.pagerduty+json;version=2"


class Reference(BaseModel):
    id: str
    summary: str = ""


class _Assignment(BaseModel):
    assignee: Reference


class Incident(BaseModel):
    id: str
    incident_number: int
    title: str
    status: IncidentStatus
    urgency: str = "high"
    created_at: str
    html_url: str = ""
    service: Reference
    assignments: list[_Assignment] = []

    def brief(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.incident_number,
            "title": self.title,
            "status": self.status,
            "urgency": self.urgency,
            "created_at": self.created_at,
            "html_url": self.html_url,
            "service": self.service.summary,
            "assigned_to": [a.assignee.summary for a in self.assignments],
        }


class OnCallUser(Reference):
    """With `include[]=users` PagerDuty sends the whole user, email included."""

    email: str | None = None


class OnCall(BaseModel):
    escalation_policy: Reference
    escalation_level: int
    user: OnCallUser
    schedule: Reference | None = None
    start: str | None = None
    end: str | None = None


class Note(BaseModel):
    id: str
    created_at: str


class _Page(BaseModel):
    limit: int
    offset: int
    more: bool


class _IncidentPage(_Page):
    incidents: list[Incident]


class _OnCallPage(_Page):
    oncalls: list[OnCall]


class _IncidentAnswer(BaseModel):
    incident: Incident


class _NoteAnswer(BaseModel):
    note: Note


class _EventAnswer(BaseModel):
    status: str
    dedup_key: str


class PagerDutyApi:
    """`from_email` names the PagerDuty user REST writes are made as (the `From` header);
    `routing_key` is the Events v2 integration key alerts are sent with."""

    def __init__(
        self,
        rest: JsonHttpClient,
        events: JsonHttpClient,
        *,
        from_email: str | None = None,
        routing_key: str | None = None,
    ) -> None:
        self.rest = rest
        self.events = events
        self.from_email = from_email
        self.routing_key = routing_key

    async def close(self) -> None:
        await self.rest.close()
        await self.events.close()

    async def incidents(
        self, service_id: str, statuses: Sequence[IncidentStatus], *, limit: int
    ) -> tuple[list[Incident], bool]:
        """Up to `limit` incidents, newest pages first as PagerDuty serves them, and whether more exist."""
        found: list[Incident] = []
        offset, more = 0, True
        while more and len(found) < limit:
            params = {
                "service_ids[]": [service_id],
                "statuses[]": list(statuses),
                "limit": min(PAGE_SIZE, limit - len(found)),
                "offset": offset,
            }
            page = await self._get(_IncidentPage, "/incidents", params)
            found.extend(page.incidents)
            offset, more = page.offset + len(page.incidents), page.more and bool(page.incidents)
        return found[:limit], more

    async def incident(self, incident_id: str) -> Incident:
        return (await self._get(_IncidentAnswer, f"/incidents/{incident_id}")).incident

    async def set_status(self, incident_id: str, status: IncidentStatus) -> Incident:
        path = f"/incidents/{incident_id}"
        body = {"incident": {"type": "incident_reference", "status": status}}
        # Setting a status is absolute, so a retry after a lost answer does no harm.
        answer = await self.rest.request("PUT", path, json_body=body, headers=self._writer(), repeatable=True)
        return parse_answer("pagerduty", _IncidentAnswer, answer.body, f"PUT {path}").incident

    async def add_note(self, incident_id: str, content: str) -> Note:
        path = f"/incidents/{incident_id}/notes"
        body = {"note": {"content": content}}
        answer = await self.rest.request("POST", path, json_body=body, headers=self._writer())
        return parse_answer("pagerduty", _NoteAnswer, answer.body, f"POST {path}").note

    async def oncalls(self, escalation_policy_id: str) -> list[OnCall]:
        found: list[OnCall] = []
        offset, more = 0, True
        while more:
            params = {
                "escalation_policy_ids[]": [escalation_policy_id],
                "include[]": ["users"],
                "limit": PAGE_SIZE,
                "offset": offset,
            }
            page = await self._get(_OnCallPage, "/oncalls", params)
            found.extend(page.oncalls)
            offset, more = page.offset + len(page.oncalls), page.more and bool(page.oncalls)
        return found

    async def send_event(
        self, action: Literal["trigger", "resolve"], dedup_key: str, payload: dict[str, Any] | None = None
    ) -> str:
        """Send one Events v2 event; the dedup key makes a resend land on the same alert, so it is
        retried like a read. Returns the dedup key PagerDuty filed it under."""
        if self.routing_key is None:
            raise ToolError("pagerduty: set PAGERDUTY_ROUTING_KEY to send events", call="POST /v2/enqueue")
        body: dict[str, Any] = {
            "routing_key": self.routing_key,
            "event_action": action,
            "dedup_key": dedup_key,
        }
        if payload is not None:
            body["payload"] = payload
        answer = await self.events.request("POST", "/v2/enqueue", json_body=body, repeatable=True)
        event = parse_answer("pagerduty", _EventAnswer, answer.body, "POST /v2/enqueue")
        if event.status != "success":
            raise ToolError(
                f"pagerduty: the event was not accepted ({event.status})", call="POST /v2/enqueue"
            )
        return event.dedup_key

    async def _get(self, model: type[ModelT], path: str, params: dict[str, Any] | None = None) -> ModelT:
        return parse_answer("pagerduty", model, await self.rest.get(path, params=params), f"GET {path}")

    def _writer(self) -> dict[str, str]:
        if self.from_email is None:
            raise ToolError("pagerduty: set PAGERDUTY_FROM_EMAIL to change incidents", call="configuration")
        return {"From": self.from_email}


def rest_error_message(body: Any) -> str | None:
    """REST v2 errors: {"error": {"message", "code", "errors": [details]}}."""
    error = body["error"]
    details = "; ".join(str(e) for e in error.get("errors") or [])
    return f"{error['message']}: {details}" if details else str(error["message"])


def events_error_message(body: Any) -> str | None:
    """Events v2 errors: {"status", "message", "errors": [details]}."""
    details = "; ".join(str(e) for e in body.get("errors") or [])
    return f"{body['message']}: {details}" if details else str(body["message"])


def rest_client(
    token: str, *, base_url: str = REST_URL, timeout: float = 30.0, **kwargs: Any
) -> JsonHttpClient:
    return JsonHttpClient(
        tool="pagerduty",
        base_url=base_url,
        headers={"Authorization": f"Token token={token}", "Accept": REST_ACCEPT},
        timeout=timeout,
        error_message=rest_error_message,
        **kwargs,
    )


def events_client(*, base_url: str = EVENTS_URL, timeout: float = 30.0, **kwargs: Any) -> JsonHttpClient:
    return JsonHttpClient(
        tool="pagerduty", base_url=base_url, timeout=timeout, error_message=events_error_message, **kwargs
    )
