"""Linear's GraphQL API as the actions use it: named operations posted through JsonHttpClient, and
Linear's two ways of failing (HTTP 200 or 400 with an `errors` list whose `extensions.code` says
what went wrong) turned into ToolErrors that say it in words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel, Field, create_model

from tools.common.answers import parse_answer
from tools.common.base import ToolError
from tools.common.http import HttpStatusError, JsonHttpClient

API_URL = "https://api.linear.app"
ModelT = TypeVar("ModelT", bound=BaseModel)
EntityT = TypeVar("EntityT", bound=BaseModel)
PayloadT = TypeVar("PayloadT", bound="_Payload")
UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_UUID = re.compile(UUID_PATTERN)

# extensions.code → what a person should read, and the HTTP-like status the ToolError carries.
_CODES: dict[str, tuple[str, int]] = {
    "AUTHENTICATION_ERROR": ("not authenticated (check LINEAR_API_KEY)", 401),
    "FORBIDDEN": ("permission denied", 403),
    "RATELIMITED": ("rate limited", 429),
    "INVALID_INPUT": ("invalid input", 400),
    "GRAPHQL_VALIDATION_FAILED": ("invalid request", 400),
}


@dataclass(frozen=True)
class Operation:
    """One named GraphQL document; `repeatable` when sending it twice does no harm (reads, and
    mutations that set an absolute state such as archive or delete)."""

    name: str
    document: str
    repeatable: bool = False


class Team(BaseModel):
    id: str
    key: str
    name: str


class _Named(BaseModel):
    name: str


class _Keyed(BaseModel):
    key: str


class Issue(BaseModel):
    id: str
    identifier: str
    title: str
    url: str
    archived_at: str | None = Field(default=None, alias="archivedAt")
    state: _Named | None = None
    team: _Keyed | None = None
    assignee: _Named | None = None


class _IssueRef(BaseModel):
    identifier: str


class Comment(BaseModel):
    id: str
    url: str = ""
    issue: _IssueRef | None = None


class Attachment(BaseModel):
    id: str
    url: str
    title: str = ""
    issue: _IssueRef | None = None


class _Node(BaseModel):
    id: str


class _Nodes(BaseModel):
    nodes: list[_Node]


class _IssueWithLinks(Issue):
    attachments: _Nodes


class _TeamAnswer(BaseModel):
    team: Team


class _TeamNodes(BaseModel):
    nodes: list[Team]


class _TeamsAnswer(BaseModel):
    teams: _TeamNodes


class _IssueAnswer(BaseModel):
    issue: Issue


class _ReadIssueLinksAnswer(BaseModel):
    issue: _IssueWithLinks


class _CommentAnswer(BaseModel):
    comment: Comment


class _AttachmentAnswer(BaseModel):
    attachment: Attachment


class _Payload(BaseModel):
    success: bool


class _IssuePayload(_Payload):
    issue: Issue | None = None


class _CommentPayload(_Payload):
    comment: Comment | None = None


class _AttachmentPayload(_Payload):
    attachment: Attachment | None = None


_ISSUE_FIELDS = "id identifier title url archivedAt state { name } team { key } assignee { name }"

TEAM_BY_ID = Operation("ReadTeam", "query ReadTeam($id: String!) { team(id: $id) { id key name } }", True)
TEAM_BY_KEY = Operation(
    "FindTeamByKey",
    "query FindTeamByKey($key: String!) { teams(filter: { key: { eq: $key } }) { nodes { id key name } } }",
    True,
)
ISSUE = Operation(
    "ReadIssue", f"query ReadIssue($id: String!) {{ issue(id: $id) {{ {_ISSUE_FIELDS} }} }}", True
)
ISSUE_LINKS = Operation(
    "ReadIssueLinks",
    "query ReadIssueLinks($id: String!, $url: String!) { issue(id: $id) { "
    f"{_ISSUE_FIELDS} attachments(filter: {{ url: {{ eq: $url }} }}) {{ nodes {{ id }} }} }} }}",
    True,
)
COMMENT = Operation(
    "ReadComment",
    "query ReadComment($id: String!) { comment(id: $id) { id url issue { identifier } } }",
    True,
)
ATTACHMENT = Operation(
    "ReadAttachment",
    "query ReadAttachment($id: String!) { attachment(id: $id) { id url title issue { identifier } } }",
    True,
)
CREATE_ISSUE = Operation(
    "CreateIssue",
    "mutation CreateIssue($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { "
    f"{_ISSUE_FIELDS} }} }} }}",
)
ARCHIVE_ISSUE = Operation(
    "ArchiveIssue", "mutation ArchiveIssue($id: String!) { issueArchive(id: $id) { success } }", True
)
UNARCHIVE_ISSUE = Operation(
    "UnarchiveIssue", "mutation UnarchiveIssue($id: String!) { issueUnarchive(id: $id) { success } }", True
)
CREATE_COMMENT = Operation(
    "CreateComment",
    "mutation CreateComment($input: CommentCreateInput!) { commentCreate(input: $input) { success "
    "comment { id url issue { identifier } } } }",
)
DELETE_COMMENT = Operation(
    "DeleteComment", "mutation DeleteComment($id: String!) { commentDelete(id: $id) { success } }", True
)
# Linear keeps one attachment per URL on an issue and updates it on a second create, so a resend is safe.
CREATE_ATTACHMENT = Operation(
    "CreateAttachment",
    "mutation CreateAttachment($input: AttachmentCreateInput!) { attachmentCreate(input: $input) { "
    "success attachment { id url title issue { identifier } } } }",
    True,
)
DELETE_ATTACHMENT = Operation(
    "DeleteAttachment",
    "mutation DeleteAttachment($id: String!) { attachmentDelete(id: $id) { success } }",
    True,
)


class LinearApi:
    def __init__(self, http: JsonHttpClient) -> None:
        self.http = http

    async def close(self) -> None:
        await self.http.close()

    async def execute(self, operation: Operation, variables: dict[str, Any], model: type[ModelT]) -> ModelT:
        """Run `operation` and read its `data` into `model`; any GraphQL error is a ToolError."""
        call = f"POST /graphql {operation.name}"
        body = {"query": operation.document, "operationName": operation.name, "variables": variables}
        try:
            response = await self.http.request(
                "POST", "/graphql", json_body=body, repeatable=operation.repeatable
            )
        except HttpStatusError as error:
            if _graphql_errors(error.body):
                raise _tool_error(operation, error.body, call, error.status) from None
            raise
        answer = response.body
        if _graphql_errors(answer):
            raise _tool_error(operation, answer, call, response.status)
        data = answer.get("data") if isinstance(answer, dict) else None
        return parse_answer("linear", model, data, call)

    async def team(self, ref: str) -> Team:
        """A team by UUID or by key ("ENG")."""
        if _UUID.fullmatch(ref):
            return (await self.execute(TEAM_BY_ID, {"id": ref}, _TeamAnswer)).team
        teams = (await self.execute(TEAM_BY_KEY, {"key": ref}, _TeamsAnswer)).teams.nodes
        if not teams:
            raise ToolError(
                f"linear: no team with key {ref}", call=f"POST /graphql {TEAM_BY_KEY.name}", status=404
            )
        return teams[0]

    async def issue(self, ref: str) -> Issue:
        """An issue by UUID or identifier ("ENG-123")."""
        return (await self.execute(ISSUE, {"id": ref}, _IssueAnswer)).issue

    async def issue_with_link(self, ref: str, url: str) -> tuple[Issue, str | None]:
        """The issue, and the id of its attachment for `url` if it already has one."""
        issue = (await self.execute(ISSUE_LINKS, {"id": ref, "url": url}, _ReadIssueLinksAnswer)).issue
        existing = issue.attachments.nodes[0].id if issue.attachments.nodes else None
        return issue, existing

    async def comment(self, comment_id: str) -> Comment:
        return (await self.execute(COMMENT, {"id": comment_id}, _CommentAnswer)).comment

    async def attachment(self, attachment_id: str) -> Attachment:
        return (await self.execute(ATTACHMENT, {"id": attachment_id}, _AttachmentAnswer)).attachment

    async def create_issue(self, fields: dict[str, Any]) -> Issue:
        payload = await self._mutate(CREATE_ISSUE, {"input": fields}, "issueCreate", _IssuePayload)
        return _created(CREATE_ISSUE, payload.issue)

    async def set_archived(self, issue_id: str, *, archived: bool) -> None:
        operation, field = (
            (ARCHIVE_ISSUE, "issueArchive") if archived else (UNARCHIVE_ISSUE, "issueUnarchive")
        )
        await self._mutate(operation, {"id": issue_id}, field, _Payload)

    async def create_comment(self, issue_id: str, body: str) -> Comment:
        variables = {"input": {"issueId": issue_id, "body": body}}
        payload = await self._mutate(CREATE_COMMENT, variables, "commentCreate", _CommentPayload)
        return _created(CREATE_COMMENT, payload.comment)

    async def delete_comment(self, comment_id: str) -> None:
        await self._mutate(DELETE_COMMENT, {"id": comment_id}, "commentDelete", _Payload)

    async def create_attachment(
        self, issue_id: str, url: str, title: str, subtitle: str | None
    ) -> Attachment:
        fields = {"issueId": issue_id, "url": url, "title": title}
        if subtitle:
            fields["subtitle"] = subtitle
        payload = await self._mutate(
            CREATE_ATTACHMENT, {"input": fields}, "attachmentCreate", _AttachmentPayload
        )
        return _created(CREATE_ATTACHMENT, payload.attachment)

    async def delete_attachment(self, attachment_id: str) -> None:
        await self._mutate(DELETE_ATTACHMENT, {"id": attachment_id}, "attachmentDelete", _Payload)

    async def _mutate(
        self, operation: Operation, variables: dict[str, Any], field: str, model: type[PayloadT]
    ) -> PayloadT:
        """A mutation's payload under `field`; `success: false` without errors is still a failure."""
        answer = await self.execute(operation, variables, _answer_model(field, model))
        payload: PayloadT = getattr(answer, field)
        if not payload.success:
            raise ToolError(
                f"linear: {operation.name} did not succeed", call=f"POST /graphql {operation.name}"
            )
        return payload


@cache
def _answer_model(field: str, payload: type[BaseModel]) -> type[BaseModel]:
    """`{field: payload}`: the shape of a mutation's `data`."""
    return create_model(f"{field}Answer", **{field: (payload, ...)})


def _created(operation: Operation, entity: EntityT | None) -> EntityT:
    if entity is None:
        raise ToolError(
            f"linear: {operation.name} succeeded but returned nothing", call=f"POST /graphql {operation.name}"
        )
    return entity


def _graphql_errors(body: Any) -> list[dict[str, Any]]:
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _tool_error(operation: Operation, body: Any, call: str, status: int | None) -> ToolError:
    error = _graphql_errors(body)[0]
    extensions = error.get("extensions") or {}
    code = str(extensions.get("code", ""))
    # An unknown code on an HTTP 200 has no status worth reporting.
    words, code_status = _CODES.get(code, ("failed", status if status and status >= 400 else None))
    detail = extensions.get("userPresentableMessage") or error.get("message") or "no details"
    message = f"linear: {operation.name}: {words}: {detail}"
    return ToolError(message, call=call, status=code_status)


def linear_client(
    api_key: str, *, base_url: str = API_URL, timeout: float = 30.0, **kwargs: Any
) -> JsonHttpClient:
    # A personal API key goes in Authorization as it is; OAuth tokens would carry "Bearer ".
    return JsonHttpClient(
        tool="linear", base_url=base_url, headers={"Authorization": api_key}, timeout=timeout, **kwargs
    )
