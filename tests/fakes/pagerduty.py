"""A fake PagerDuty: REST v2 (incidents, notes, on-calls) and Events v2 (`/v2/enqueue`) on one
loopback server.

REST answers use PagerDuty's wrapped entities (`{"incident": {...}}`), references
(`{"id", "type": "service_reference", "summary", ...}`), classic pagination (`limit`, `offset`, `more`,
`total`), `Authorization: Token token=...`, the `From` header for writes, and error bodies
`{"error": {"message", "code", "errors"}}` with PagerDuty's codes. Events answer 202
`{"status": "success", "message": "Event processed", "dedup_key"}` or 400 `{"status": "invalid event", ...}`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes.http_server import FakeHttpServer, Handler
from tests.fakes.latency import Latency

STATUSES = ("triggered", "acknowledged", "resolved")
# Which transitions PagerDuty accepts, and the error it gives for the others.
_REFUSED = {
    ("resolved", "acknowledged"): (1001, "Incident Already Resolved"),
    ("resolved", "resolved"): (1001, "Incident Already Resolved"),
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _reference(kind: str, id_: str, summary: str) -> dict[str, Any]:
    plural = {"service": "services", "user": "users", "schedule": "schedules"}.get(kind, f"{kind}s")
    return {
        "id": id_,
        "type": f"{kind}_reference",
        "summary": summary,
        "self": f"https://api.pagerduty.com/{plural}/{id_}",
        "html_url": f"https://acme.pagerduty.com/{plural}/{id_}",
    }


@dataclass
class FakeIncident:
    id: str
    number: int
    title: str
    service_id: str
    status: str = "triggered"
    urgency: str = "high"
    incident_key: str = ""
    created_at: str = field(default_factory=_now)
    assignee: str | None = None
    notes: list[dict[str, Any]] = field(default_factory=list)


class FakePagerDuty(FakeHttpServer):
    def __init__(self, *, token: str = "u+pd-test-token-000", users: dict[str, str] | None = None) -> None:
        super().__init__()
        self.token = token
        self.users = users or {"oncall@example.com": "Alice Example"}  # From email → user name
        self.services: dict[str, str] = {}  # id → name
        self.routing_keys: dict[str, str] = {}  # integration key → service id
        self.incidents: dict[str, FakeIncident] = {}
        self.oncalls: dict[str, list[dict[str, Any]]] = {}  # escalation policy id → entries
        self.user_emails: dict[str, str] = {}  # user id → email, shown with include[]=users
        self.events: list[dict[str, Any]] = []
        self.latency = Latency()
        self._ids = itertools.count(1)

    # --- test set-up -------------------------------------------------------------------------------

    def add_service(self, service_id: str, name: str, *, routing_key: str | None = None) -> None:
        self.services[service_id] = name
        if routing_key is not None:
            self.routing_keys[routing_key] = service_id

    def add_incident(self, service_id: str, title: str, *, status: str = "triggered") -> FakeIncident:
        number = next(self._ids)
        incident = FakeIncident(f"Q{number:013d}", number, title, service_id, status)
        incident.assignee = next(iter(self.users.values()))
        self.incidents[incident.id] = incident
        return incident

    def add_oncall(
        self,
        policy: tuple[str, str],
        level: int,
        user: str,
        schedule: str | None = None,
        *,
        email: str | None = None,
    ) -> None:
        user_id = f"PUSER{next(self._ids):02d}"
        self.user_emails[user_id] = email or f"{user.lower().replace(' ', '.')}@example.com"
        self.oncalls.setdefault(policy[0], []).append(
            {
                "escalation_policy": _reference("escalation_policy", policy[0], policy[1]),
                "escalation_level": level,
                "schedule": _reference("schedule", "PSCHED" + str(level), schedule) if schedule else None,
                "user": _reference("user", user_id, user),
                "start": "2026-11-23T09:00:00Z" if schedule else None,
                "end": "2026-11-30T09:00:00Z" if schedule else None,
            }
        )

    def open_incident(self, dedup_key: str) -> FakeIncident | None:
        return next(
            (i for i in self.incidents.values() if i.incident_key == dedup_key and i.status != "resolved"),
            None,
        )

    # --- server -----------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/incidents", self._list_incidents),
            ("GET", "/incidents/{id}", self._get_incident),
            ("PUT", "/incidents/{id}", self._update_incident),
            ("POST", "/incidents/{id}/notes", self._add_note),
            ("GET", "/oncalls", self._list_oncalls),
            ("POST", "/v2/enqueue", self._enqueue),
        ]
        return [web.route(method, path, self.latency.wrap(handler)) for method, path, handler in table]

    def check_auth(self, request: web.Request) -> web.StreamResponse | None:
        if request.path.startswith("/v2/"):
            return None  # Events v2 authenticates by the routing key in the body
        if request.headers.get("Authorization") != f"Token token={self.token}":
            return _error(401, 2006, "Authentication failed")
        return None

    async def _list_incidents(self, request: web.Request) -> web.StreamResponse:
        statuses = request.query.getall("statuses[]", [])
        if any(s not in STATUSES for s in statuses):
            return _error(
                400,
                2001,
                "Invalid Input Provided",
                "Statuses must be a list of triggered, acknowledged, or resolved.",
            )
        services = request.query.getall("service_ids[]", [])
        found = [
            i
            for i in self.incidents.values()
            if (not services or i.service_id in services) and (not statuses or i.status in statuses)
        ]
        return _page(request, "incidents", [self._incident(i) for i in found])

    async def _get_incident(self, request: web.Request) -> web.StreamResponse:
        incident = self.incidents.get(request.match_info["id"])
        if incident is None:
            return _error(404, 2100, "Not Found")
        return web.json_response({"incident": self._incident(incident)})

    async def _update_incident(self, request: web.Request) -> web.StreamResponse:
        denied = self._requester(request)
        if isinstance(denied, web.StreamResponse):
            return denied
        incident = self.incidents.get(request.match_info["id"])
        if incident is None:
            return _error(404, 2100, "Not Found")
        body = await request.json()
        update = body.get("incident") if isinstance(body, dict) else None
        if not isinstance(update, dict) or update.get("type") not in ("incident", "incident_reference"):
            return _error(400, 2001, "Invalid Input Provided", "Incident type must be incident_reference.")
        status = update.get("status")
        if status not in ("acknowledged", "resolved"):
            return _error(400, 1003, "Invalid Status Provided")
        refused = _REFUSED.get((incident.status, status))
        if refused is not None:
            return _error(400, *refused)
        incident.status = status
        return web.json_response({"incident": self._incident(incident)})

    async def _add_note(self, request: web.Request) -> web.StreamResponse:
        requester = self._requester(request)
        if isinstance(requester, web.StreamResponse):
            return requester
        incident = self.incidents.get(request.match_info["id"])
        if incident is None:
            return _error(404, 2100, "Not Found")
        body = await request.json()
        content = ((body or {}).get("note") or {}).get("content")
        if not content:
            return _error(400, 2001, "Invalid Input Provided", "Note content can't be blank.")
        note = {
            "id": f"PNOTE{next(self._ids)}",
            "user": _reference("user", "PUSER01", requester),
            "channel": {"summary": "The PagerDuty website or APIs"},
            "content": content,
            "created_at": _now(),
        }
        incident.notes.append(note)
        return web.json_response({"note": note}, status=201)

    async def _list_oncalls(self, request: web.Request) -> web.StreamResponse:
        policies = request.query.getall("escalation_policy_ids[]", [])
        found = [entry for policy in policies for entry in self.oncalls.get(policy, [])]
        if "users" in request.query.getall("include[]", []):
            found = [{**entry, "user": self._user(entry["user"])} for entry in found]
        return _page(request, "oncalls", found)

    def _user(self, reference: dict[str, Any]) -> dict[str, Any]:
        """The user object PagerDuty sends in place of a reference with include[]=users."""
        user = {
            **reference,
            "type": "user",
            "name": reference["summary"],
            "email": self.user_emails[reference["id"]],
        }
        return user

    async def _enqueue(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.events.append(body)
        problems = _event_problems(body)
        if problems:
            invalid = {"status": "invalid event", "message": "Event object is invalid", "errors": problems}
            return web.json_response(invalid, status=400)
        dedup_key = body.get("dedup_key") or f"{next(self._ids):032x}"
        service_id = self.routing_keys.get(body["routing_key"])
        open_incident = self.open_incident(dedup_key)
        if body["event_action"] == "trigger" and service_id and open_incident is None:
            incident = self.add_incident(service_id, body["payload"]["summary"])
            incident.incident_key = dedup_key
        elif body["event_action"] == "resolve" and open_incident is not None:
            open_incident.status = "resolved"
        accepted = {"status": "success", "message": "Event processed", "dedup_key": dedup_key}
        return web.json_response(accepted, status=202)

    def _requester(self, request: web.Request) -> str | web.StreamResponse:
        email = request.headers.get("From", "")
        if not email:
            return _error(
                400,
                2001,
                "Invalid Input Provided",
                'You must specify a user\'s email address in the "From" header to perform this action',
            )
        if email not in self.users:
            return _error(400, 1008, "Requester User Not Found")
        return self.users[email]

    def _incident(self, incident: FakeIncident) -> dict[str, Any]:
        assignments = []
        if incident.assignee and incident.status != "resolved":
            assignee = _reference("user", "PUSER01", incident.assignee)
            assignments = [{"at": incident.created_at, "assignee": assignee}]
        return {
            "id": incident.id,
            "type": "incident",
            "summary": f"[#{incident.number}] {incident.title}",
            "self": f"https://api.pagerduty.com/incidents/{incident.id}",
            "html_url": f"https://acme.pagerduty.com/incidents/{incident.id}",
            "incident_number": incident.number,
            "title": incident.title,
            "created_at": incident.created_at,
            "status": incident.status,
            "incident_key": incident.incident_key or None,
            "service": _reference("service", incident.service_id, self.services.get(incident.service_id, "")),
            "assignments": assignments,
            "urgency": incident.urgency,
        }


def _page(request: web.Request, key: str, items: list[dict[str, Any]]) -> web.StreamResponse:
    """Classic pagination: at most 100 per page; `total` only when asked for."""
    limit = min(int(request.query.get("limit", 25)), 100)
    offset = int(request.query.get("offset", 0))
    page = items[offset : offset + limit]
    total = len(items) if request.query.get("total") == "true" else None
    body = {key: page, "limit": limit, "offset": offset, "total": total, "more": offset + limit < len(items)}
    return web.json_response(body)


def _event_problems(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["Event object must be a JSON object"]
    problems = []
    if len(str(body.get("routing_key", ""))) != 32:
        problems.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    if body.get("event_action") not in ("trigger", "acknowledge", "resolve"):
        problems.append("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
    if body.get("event_action") == "trigger":
        payload = body.get("payload") or {}
        for name in ("summary", "source", "severity"):
            if not payload.get(name):
                problems.append(f"'payload.{name}' is missing or blank")
    elif not body.get("dedup_key"):
        problems.append("'dedup_key' is missing or blank")
    return problems


def _error(status: int, code: int, message: str, *errors: str) -> web.StreamResponse:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors:
        body["errors"] = list(errors)
    return web.json_response({"error": body}, status=status)
