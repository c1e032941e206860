"""GitHub's REST API v3 as the github tool uses it: the documents it reads, Link-header pagination, and
rate limiting reported with the time the limit resets.

All transport concerns (session, retries of safe requests, error bodies, non-JSON answers) belong to
`JsonHttpClient`; this module only knows GitHub's dialect.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel

from tools.common.answers import parse_answer
from tools.common.base import ToolError
from tools.common.http import HttpResponse, HttpStatusError, JsonHttpClient
from tools.common.retries import RetryPolicy
from tools.common.wording import utc_clock

API_VERSION = "2022-11-28"
PER_PAGE = 100
MAX_PAGES = 20
_TOOL = "github"
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="next"')

DocumentT = TypeVar("DocumentT", bound=BaseModel)


class GitRef(BaseModel):
    ref: str
    sha: str


class PullRequest(BaseModel):
    number: int
    state: str
    title: str
    html_url: str
    head: GitRef
    base: GitRef
    draft: bool = False
    merged: bool = False
    mergeable: bool | None = None
    mergeable_state: str = "unknown"


class CheckRun(BaseModel):
    name: str
    status: str
    conclusion: str | None = None


class CommitStatus(BaseModel):
    context: str
    state: str


class Comparison(BaseModel):
    status: str
    ahead_by: int


class MergeResult(BaseModel):
    sha: str
    merged: bool


class Deployment(BaseModel):
    id: int
    sha: str
    ref: str
    environment: str


class DeploymentStatus(BaseModel):
    id: int
    state: str


class Workflow(BaseModel):
    id: int
    name: str
    path: str
    state: str


class Issue(BaseModel):
    number: int
    state: str
    locked: bool = False


class Comment(BaseModel):
    id: int
    html_url: str


class RateLimit(BaseModel):
    limit: int
    remaining: int
    reset: int


class RateLimitResources(BaseModel):
    core: RateLimit


class RateLimits(BaseModel):
    resources: RateLimitResources


class GitHubClient:
    def __init__(self, http: JsonHttpClient) -> None:
        self.http = http

    @classmethod
    def create(
        cls, *, token: str, api_url: str, timeout: float = 30.0, retry: RetryPolicy | None = None
    ) -> GitHubClient:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "carapulse",
        }
        http = JsonHttpClient(
            tool=_TOOL,
            base_url=api_url,
            headers=headers,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            error_message=error_message,
        )
        return cls(http)

    async def close(self) -> None:
        await self.http.close()

    async def read(
        self, path: str, model: type[DocumentT], params: Mapping[str, Any] | None = None
    ) -> DocumentT:
        response = await self.request("GET", path, params=params)
        return parse_answer(_TOOL, model, response.body, f"GET {path}")

    async def write(
        self,
        method: str,
        path: str,
        model: type[DocumentT],
        body: Mapping[str, Any],
        *,
        repeatable: bool = False,
    ) -> DocumentT:
        response = await self.request(method, path, json_body=body, repeatable=repeatable)
        return parse_answer(_TOOL, model, response.body, f"{method} {path}")

    async def read_all(
        self,
        path: str,
        model: type[DocumentT],
        *,
        items: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> list[DocumentT]:
        """Every page of a list, following the Link header; `items` names the array inside an object
        answer (check runs come as `{"total_count": n, "check_runs": [...]}`)."""
        found: list[DocumentT] = []
        query: Mapping[str, Any] = {"per_page": PER_PAGE, **(params or {})}
        for _ in range(MAX_PAGES):
            response = await self.request("GET", path, params=query)
            found += _items(response.body, items, model, f"GET {path}")
            following = self._next_page(response)
            if following is None:
                return found
            path, query = following
        raise ToolError(f"github: GET {path} has more than {MAX_PAGES} pages; narrow the request", call=path)

    async def request(self, method: str, path: str, **kwargs: Any) -> HttpResponse:
        """One call; a rate-limit answer becomes an error saying when to try again."""
        try:
            return await self.http.request(method, path, **kwargs)
        except HttpStatusError as error:
            if not _rate_limited(error):
                raise
            raise await self._rate_limit_error(error) from None

    def _next_page(self, response: HttpResponse) -> tuple[str, dict[str, str]] | None:
        link = next((value for key, value in response.headers.items() if key.lower() == "link"), "")
        match = _NEXT_LINK.search(link)
        if match is None:
            return None
        target = urlsplit(match.group(1))
        base = urlsplit(self.http.base_url)
        base_path = base.path.rstrip("/")
        if (target.scheme, target.netloc) != (base.scheme, base.netloc) or not target.path.startswith(
            base_path
        ):
            raise ToolError(
                f"github: the next page is outside {self.http.base_url}: {match.group(1)}", call="Link"
            )
        return target.path[len(base_path) :], dict(parse_qsl(target.query))

    async def _rate_limit_error(self, error: HttpStatusError) -> ToolError:
        """GitHub asks secondary-limit clients to wait Retry-After seconds; for the primary limit,
        GET /rate_limit (which costs nothing) says when the budget resets."""
        detail = error_message(error.body) or "rate limit exceeded"
        if error.retry_after is not None:
            when = f"retry after {error.retry_after:g}s"
        else:
            when = await self._reset_time()
        message = f"github: rate limited on {error.call}: {detail}; {when}"
        return ToolError(message, call=error.call, status=error.status)

    async def _reset_time(self) -> str:
        try:
            response = await self.http.request("GET", "/rate_limit")
            core = parse_answer(_TOOL, RateLimits, response.body, "GET /rate_limit").resources.core
        except ToolError:
            return "the reset time is unknown"
        return f"the limit of {core.limit} requests resets at {utc_clock(core.reset)}"


def _items(body: Any, key: str | None, model: type[DocumentT], call: str) -> list[DocumentT]:
    page = body.get(key) if key and isinstance(body, dict) else body
    if not isinstance(page, list):
        where = f"a {key} list" if key else "a list"
        raise ToolError(f"{_TOOL}: {call} answered without {where}", call=call)
    return [parse_answer(_TOOL, model, item, call) for item in page]


def error_message(body: Any) -> str | None:
    """GitHub's sentence plus the details of a 422: `Validation Failed: A pull request already exists…`."""
    if not isinstance(body, dict) or not body.get("message"):
        return None
    details = [_error_detail(error) for error in body.get("errors") or []]
    details = [detail for detail in details if detail]
    return f"{body['message']}: {'; '.join(details)}" if details else str(body["message"])


def _error_detail(error: Any) -> str:
    if isinstance(error, str):
        return error
    if not isinstance(error, dict):
        return ""
    if error.get("message"):
        return str(error["message"])
    if error.get("contexts"):
        return ", ".join(f"{c.get('context')} is {c.get('state')}" for c in error["contexts"])
    return " ".join(str(error[key]) for key in ("resource", "field", "code") if error.get(key))


def _rate_limited(error: HttpStatusError) -> bool:
    if error.status == 429:
        return True
    return error.status == 403 and "rate limit" in (error_message(error.body) or "").lower()
