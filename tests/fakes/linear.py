"""A fake Linear GraphQL API at POST /graphql.

It is no GraphQL engine: it reads the operation's kind and name from the document, checks that the
document selects the root field that operation is known for and that the required variables (and the
required fields of `input`) are present, then answers with Linear's shapes: `{"data": {...}}`, payloads
`{"success": true, "issue": {...}}`, connections `{"nodes": [...]}`. Failures come the two ways Linear
sends them: HTTP 200 with `{"data": null, "errors": [...]}` (an entity not found) and HTTP 400 with
`errors` (authentication, validation, rate limit), each error carrying `extensions.code`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes.http_server import FakeHttpServer
from tests.fakes.latency import Latency

Resolver = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
_OPERATION = re.compile(r"^\s*(query|mutation)\s+(\w+)")


class EntityNotFound(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class Known:
    kind: str  # "query" or "mutation"
    root_field: str
    variables: tuple[str, ...]
    resolver: Resolver
    input_fields: tuple[str, ...] = ()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class FakeIssue:
    id: str
    identifier: str
    title: str
    team_id: str
    description: str | None = None
    priority: int = 0
    state: str = "Todo"
    archived_at: str | None = None
    assignee: str | None = None
    comments: list[str] = field(default_factory=list)


class FakeLinear(FakeHttpServer):
    def __init__(self, *, api_key: str = "lin_api_test0000000000000000000000000000") -> None:
        super().__init__()
        self.api_key = api_key
        self.teams: dict[str, dict[str, str]] = {}
        self.issues: dict[str, FakeIssue] = {}
        self.comments: dict[str, dict[str, Any]] = {}
        self.attachments: dict[str, dict[str, Any]] = {}
        self.latency = Latency()
        self._numbers: dict[str, int] = {}
        self._scripted: dict[str, list[tuple[int, Any]]] = {}
        self.operations: dict[str, Known] = {
            "ReadTeam": Known("query", "team", ("id",), self._team),
            "FindTeamByKey": Known("query", "teams", ("key",), self._teams),
            "ReadIssue": Known("query", "issue", ("id",), self._issue),
            "ReadIssueLinks": Known("query", "issue", ("id", "url"), self._issue_links),
            "ReadComment": Known("query", "comment", ("id",), self._comment),
            "ReadAttachment": Known("query", "attachment", ("id",), self._attachment),
            "CreateIssue": Known(
                "mutation", "issueCreate", ("input",), self._create_issue, ("teamId", "title")
            ),
            "ArchiveIssue": Known("mutation", "issueArchive", ("id",), self._archive),
            "UnarchiveIssue": Known("mutation", "issueUnarchive", ("id",), self._unarchive),
            "CreateComment": Known(
                "mutation", "commentCreate", ("input",), self._create_comment, ("issueId", "body")
            ),
            "DeleteComment": Known("mutation", "commentDelete", ("id",), self._delete_comment),
            "CreateAttachment": Known(
                "mutation",
                "attachmentCreate",
                ("input",),
                self._create_attachment,
                ("issueId", "url", "title"),
            ),
            "DeleteAttachment": Known("mutation", "attachmentDelete", ("id",), self._delete_attachment),
        }

    # --- test set-up -------------------------------------------------------------------------------

    def add_team(self, key: str, name: str) -> str:
        team_id = str(uuid.uuid4())
        self.teams[team_id] = {"id": team_id, "key": key, "name": name}
        return team_id

    def add_issue(self, team_key: str, title: str, **fields: Any) -> FakeIssue:
        team = next(t for t in self.teams.values() if t["key"] == team_key)
        number = self._numbers[team["id"]] = self._numbers.get(team["id"], 0) + 1
        issue = FakeIssue(str(uuid.uuid4()), f"{team_key}-{number}", title, team["id"], **fields)
        self.issues[issue.id] = issue
        return issue

    def issue_by_identifier(self, identifier: str) -> FakeIssue:
        return next(i for i in self.issues.values() if i.identifier == identifier)

    def answer_next(self, operation: str, body: Any, *, status: int = 200) -> None:
        """Answer the next request for `operation` with this body instead (the base class's
        `fail_next` cannot tell a mutation from the read before it: both are POST /graphql)."""
        self._scripted.setdefault(operation, []).append((status, body))

    def rate_limit_next(self, *, reset_ms: int) -> None:
        """Linear's answer once the hourly request budget is spent: 400, code RATELIMITED, and the
        budget in X-RateLimit-Requests-* headers."""
        error = {
            "message": "Rate limit exceeded",
            "extensions": {
                "code": "RATELIMITED",
                "type": "ratelimited",
                "userError": True,
                "userPresentableMessage": "Rate limit exceeded. Please try again later.",
            },
        }
        headers = {
            "X-RateLimit-Requests-Limit": "1500",
            "X-RateLimit-Requests-Remaining": "0",
            "X-RateLimit-Requests-Reset": str(reset_ms),
        }
        self.fail_next(400, {"errors": [error]}, headers=headers)

    # --- server -----------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/graphql", self.latency.wrap(self._graphql))]

    def check_auth(self, request: web.Request) -> web.StreamResponse | None:
        if request.headers.get("Authorization") == self.api_key:
            return None
        return _errors(
            400,
            "Authentication required, not authenticated",
            "AUTHENTICATION_ERROR",
            "You need to authenticate to access this operation.",
            kind="authentication error",
        )

    async def _graphql(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        document = str(body.get("query", ""))
        match = _OPERATION.match(document)
        known = self.operations.get(match.group(2)) if match else None
        if (
            match is None
            or known is None
            or known.kind != match.group(1)
            or f"{known.root_field}(" not in document
        ):
            return _errors(400, "Cannot query the requested operation", "GRAPHQL_VALIDATION_FAILED")
        if body.get("operationName") not in (None, match.group(2)):
            return _errors(
                400, f'Unknown operation named "{body["operationName"]}".', "GRAPHQL_VALIDATION_FAILED"
            )
        scripted = self._scripted.get(match.group(2))
        if scripted:
            status, answer = scripted.pop(0)
            if isinstance(answer, str):
                return web.Response(status=status, text=answer)
            return web.json_response(answer, status=status)
        variables = body.get("variables") or {}
        for name in known.variables:
            if variables.get(name) in (None, ""):
                message = f'Variable "${name}" of required type was not provided.'
                return _errors(400, message, "GRAPHQL_VALIDATION_FAILED")
        for name in known.input_fields:
            if not (variables.get("input") or {}).get(name):
                message = (
                    f'Variable "$input" got invalid value; Field "{name}" of required type was not provided.'
                )
                return _errors(400, message, "GRAPHQL_VALIDATION_FAILED")
        try:
            data = await known.resolver(variables)
        except EntityNotFound as missing:
            return web.json_response(
                {
                    "data": None,
                    "errors": [
                        _error(
                            f"Entity not found: {missing.kind}",
                            "INVALID_INPUT",
                            f"Could not find referenced {missing.kind}.",
                            kind="invalid input",
                            path=[known.root_field],
                        )
                    ],
                }
            )
        return web.json_response({"data": {known.root_field: data}})

    # --- resolvers --------------------------------------------------------------------------------

    async def _team(self, variables: dict[str, Any]) -> dict[str, Any]:
        team = self.teams.get(variables["id"])
        if team is None:
            raise EntityNotFound("Team")
        return dict(team)

    async def _teams(self, variables: dict[str, Any]) -> dict[str, Any]:
        return {"nodes": [dict(t) for t in self.teams.values() if t["key"] == variables["key"]]}

    async def _issue(self, variables: dict[str, Any]) -> dict[str, Any]:
        return self._issue_fields(self._find_issue(variables["id"]))

    async def _issue_links(self, variables: dict[str, Any]) -> dict[str, Any]:
        issue = self._find_issue(variables["id"])
        nodes = [
            {"id": a["id"]}
            for a in self.attachments.values()
            if a["issue_id"] == issue.id and a["url"] == variables["url"]
        ]
        return self._issue_fields(issue) | {"attachments": {"nodes": nodes}}

    async def _comment(self, variables: dict[str, Any]) -> dict[str, Any]:
        comment = self.comments.get(variables["id"])
        if comment is None:
            raise EntityNotFound("Comment")
        return self._comment_fields(comment)

    async def _attachment(self, variables: dict[str, Any]) -> dict[str, Any]:
        attachment = self.attachments.get(variables["id"])
        if attachment is None:
            raise EntityNotFound("Attachment")
        return self._attachment_fields(attachment)

    async def _create_issue(self, variables: dict[str, Any]) -> dict[str, Any]:
        fields = variables["input"]
        team = self.teams.get(fields["teamId"])
        if team is None:
            raise EntityNotFound("Team")
        issue = self.add_issue(
            team["key"],
            fields["title"],
            description=fields.get("description"),
            priority=fields.get("priority", 0),
        )
        return {"success": True, "issue": self._issue_fields(issue)}

    async def _archive(self, variables: dict[str, Any]) -> dict[str, Any]:
        self._find_issue(variables["id"]).archived_at = _now()
        return {"success": True}

    async def _unarchive(self, variables: dict[str, Any]) -> dict[str, Any]:
        self._find_issue(variables["id"]).archived_at = None
        return {"success": True}

    async def _create_comment(self, variables: dict[str, Any]) -> dict[str, Any]:
        fields = variables["input"]
        issue = self._find_issue(fields["issueId"])
        comment = {
            "id": str(uuid.uuid4()),
            "issue_id": issue.id,
            "body": fields["body"],
            "created_at": _now(),
        }
        self.comments[comment["id"]] = comment
        return {"success": True, "comment": self._comment_fields(comment)}

    async def _delete_comment(self, variables: dict[str, Any]) -> dict[str, Any]:
        if self.comments.pop(variables["id"], None) is None:
            raise EntityNotFound("Comment")
        return {"success": True}

    async def _create_attachment(self, variables: dict[str, Any]) -> dict[str, Any]:
        fields = variables["input"]
        issue = self._find_issue(fields["issueId"])
        existing = next(
            (a for a in self.attachments.values() if a["issue_id"] == issue.id and a["url"] == fields["url"]),
            None,
        )
        attachment = existing or {"id": str(uuid.uuid4()), "issue_id": issue.id, "url": fields["url"]}
        attachment |= {"title": fields["title"], "subtitle": fields.get("subtitle")}
        self.attachments[attachment["id"]] = attachment
        return {"success": True, "attachment": self._attachment_fields(attachment)}

    async def _delete_attachment(self, variables: dict[str, Any]) -> dict[str, Any]:
        if self.attachments.pop(variables["id"], None) is None:
            raise EntityNotFound("Attachment")
        return {"success": True}

    # --- shapes -----------------------------------------------------------------------------------

    def _find_issue(self, ref: str) -> FakeIssue:
        issue = self.issues.get(ref) or next((i for i in self.issues.values() if i.identifier == ref), None)
        if issue is None:
            raise EntityNotFound("Issue")
        return issue

    def _issue_fields(self, issue: FakeIssue) -> dict[str, Any]:
        slug = re.sub(r"[^a-z0-9]+", "-", issue.title.lower()).strip("-")
        return {
            "id": issue.id,
            "identifier": issue.identifier,
            "title": issue.title,
            "url": f"https://linear.app/acme/issue/{issue.identifier}/{slug}",
            "archivedAt": issue.archived_at,
            "state": {"name": issue.state},
            "team": {"key": self.teams[issue.team_id]["key"]},
            "assignee": {"name": issue.assignee} if issue.assignee else None,
        }

    def _comment_fields(self, comment: dict[str, Any]) -> dict[str, Any]:
        issue = self.issues[comment["issue_id"]]
        return {
            "id": comment["id"],
            "url": f"https://linear.app/acme/issue/{issue.identifier}#comment-{comment['id'][:8]}",
            "issue": {"identifier": issue.identifier},
        }

    def _attachment_fields(self, attachment: dict[str, Any]) -> dict[str, Any]:
        issue = self.issues[attachment["issue_id"]]
        return {
            "id": attachment["id"],
            "url": attachment["url"],
            "title": attachment["title"],
            "issue": {"identifier": issue.identifier},
        }


def _error(
    message: str, code: str, presentable: str | None = None, *, kind: str = "", path: list[str] | None = None
) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": code, "userError": True}
    if kind:
        extensions["type"] = kind
    if presentable:
        extensions["userPresentableMessage"] = presentable
    error: dict[str, Any] = {"message": message, "extensions": extensions}
    if path:
        error["path"] = path
    return error


def _errors(
    status: int, message: str, code: str, presentable: str | None = None, *, kind: str = ""
) -> web.StreamResponse:
    return web.json_response({"errors": [_error(message, code, presentable, kind=kind)]}, status=status)
