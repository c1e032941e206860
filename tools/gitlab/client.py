"""GitLab's REST API v4 as the gitlab tool uses it: the documents it reads, projects addressed by their
URL-encoded path (`group%2Fproject`), X-Next-Page pagination, and GitLab's error bodies
(`{"message": ...}` as a string, list or field map, or `{"error": ...}`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from tools.common.answers import parse_answer
from tools.common.base import ToolError
from tools.common.http import HttpResponse, HttpStatusError, JsonHttpClient
from tools.common.retries import RetryPolicy

PER_PAGE = 100
MAX_PAGES = 20
_TOOL = "gitlab"

DocumentT = TypeVar("DocumentT", bound=BaseModel)


class Pipeline(BaseModel):
    id: int
    status: str
    sha: str | None = None
    web_url: str | None = None


class MergeRequest(BaseModel):
    iid: int
    state: str
    title: str
    web_url: str
    source_branch: str
    target_branch: str
    sha: str | None = None
    draft: bool = False
    has_conflicts: bool = False
    discussion_locked: bool | None = None
    merge_status: str | None = None
    # GitLab 15.6+; older servers only have merge_status.
    detailed_merge_status: str | None = None
    merge_commit_sha: str | None = None
    squash_commit_sha: str | None = None
    head_pipeline: Pipeline | None = None


class Issue(BaseModel):
    iid: int
    state: str
    web_url: str
    discussion_locked: bool | None = None


class Branch(BaseModel):
    name: str


class Note(BaseModel):
    id: int
    body: str


class GitLabClient:
    def __init__(self, http: JsonHttpClient) -> None:
        self.http = http

    @classmethod
    def create(
        cls, *, token: str, url: str, timeout: float = 30.0, retry: RetryPolicy | None = None
    ) -> GitLabClient:
        http = JsonHttpClient(
            tool=_TOOL,
            base_url=url.rstrip("/") + "/api/v4",
            headers={"PRIVATE-TOKEN": token, "User-Agent": "carapulse"},
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
        self, path: str, model: type[DocumentT], params: Mapping[str, Any] | None = None
    ) -> list[DocumentT]:
        """Every page of a list: GitLab names the next page in X-Next-Page (empty on the last)."""
        found: list[DocumentT] = []
        page = "1"
        for _ in range(MAX_PAGES):
            response = await self.request(
                "GET", path, params={**(params or {}), "per_page": PER_PAGE, "page": page}
            )
            if not isinstance(response.body, list):
                raise ToolError(f"gitlab: GET {path} answered without a list", call=f"GET {path}")
            found += [parse_answer(_TOOL, model, item, f"GET {path}") for item in response.body]
            page = _header(response, "X-Next-Page")
            if not page:
                return found
        raise ToolError(f"gitlab: GET {path} has more than {MAX_PAGES} pages; narrow the request", call=path)

    async def request(self, method: str, path: str, **kwargs: Any) -> HttpResponse:
        """One call; a 429 names how long GitLab asked to wait."""
        try:
            return await self.http.request(method, path, **kwargs)
        except HttpStatusError as error:
            if error.status != 429 or error.retry_after is None:
                raise
            message = f"{error.message}; retry after {error.retry_after:g}s"
            raise ToolError(message, call=error.call, status=429) from None


def project_path(project: str) -> str:
    """`group/sub/app` → `/projects/group%2Fsub%2Fapp`; a numeric id stays as it is."""
    return f"/projects/{quote(project, safe='')}"


def error_message(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    if body.get("error_description"):
        return str(body["error_description"])
    for key in ("message", "error"):
        if body.get(key):
            return _flatten(body[key])
    return None


def _flatten(value: Any) -> str:
    """GitLab's `message` is a string, a list of sentences, or a map of field → sentences."""
    if isinstance(value, list):
        return "; ".join(_flatten(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key} {_flatten(item)}" for key, item in value.items())
    return str(value)


def _header(response: HttpResponse, name: str) -> str:
    return next((value for key, value in response.headers.items() if key.lower() == name.lower()), "").strip()
