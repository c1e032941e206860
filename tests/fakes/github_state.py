"""What the fake GitHub API serves: repositories with branch histories, pull requests, commit statuses
and check runs, deployments, workflows and comments, rendered in GitHub's JSON shapes; GitHub's error
documents; and the request readers and Link-header paging its handlers share."""

from __future__ import annotations

import itertools
import math
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.fakes.git_remote import BareRemote

JSON = dict[str, Any]
DOCS = "https://docs.github.com/rest"
_ids = itertools.count(4_000_001)


class GitHubError(Exception):
    """An error answer: `{"message", "documentation_url", "status"}`, plus `errors` on a 422."""

    def __init__(
        self, status: int, message: str, *, errors: list[Any] | None = None, documentation_url: str = DOCS
    ) -> None:
        super().__init__(message)
        self.status = status
        self.document: JSON = {
            "message": message,
            "documentation_url": documentation_url,
            "status": str(status),
        }
        if errors is not None:
            self.document["errors"] = errors


def validation_failed(*errors: JSON) -> GitHubError:
    return GitHubError(422, "Validation Failed", errors=list(errors))


def not_found() -> GitHubError:
    return GitHubError(404, "Not Found")


def new_sha() -> str:
    return secrets.token_hex(20)


def new_id() -> int:
    return next(_ids)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Workflow:
    id: int
    file: str
    name: str
    state: str = "active"
    dispatchable: bool = True
    inputs: dict[str, bool] = field(default_factory=dict)  # name → required


@dataclass
class FakeRepository:
    owner: str
    name: str
    default_branch: str = "main"
    # Each branch's commits, oldest first; its tip is the last.
    branches: dict[str, list[str]] = field(default_factory=dict)
    pulls: dict[int, JSON] = field(default_factory=dict)
    issues: dict[int, JSON] = field(default_factory=dict)
    statuses: dict[str, dict[str, JSON]] = field(default_factory=dict)
    check_runs: dict[str, list[JSON]] = field(default_factory=dict)
    deployments: dict[int, JSON] = field(default_factory=dict)
    deployment_statuses: dict[int, list[JSON]] = field(default_factory=dict)
    workflows: dict[str, Workflow] = field(default_factory=dict)
    dispatches: list[JSON] = field(default_factory=list)
    comments: dict[int, JSON] = field(default_factory=dict)
    # Backed by a real repository, branches are read from it before every request and merges land
    # in it; otherwise they are made-up histories that tests extend with add_commits.
    git: BareRemote | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def html_url(self) -> str:
        return f"https://github.com/{self.full_name}"

    def tip(self, branch: str) -> str | None:
        history = self.branches.get(branch)
        return history[-1] if history else None

    def resolve(self, ref: str) -> str:
        """A branch's tip or a (possibly abbreviated) commit, as GitHub resolves `{ref}` in paths."""
        if ref in self.branches:
            return self.branches[ref][-1]
        for history in self.branches.values():
            for sha in history:
                if len(ref) >= 7 and sha.startswith(ref):
                    return sha
        raise GitHubError(422, f"No commit found for SHA: {ref}")

    def ahead(self, base: str, head: str) -> list[str]:
        """Commits on `head` that `base` lacks."""
        known = set(self.branches[base])
        return [sha for sha in self.branches[head] if sha not in known]

    def next_number(self) -> int:
        return max(self.issues, default=0) + 1

    def pull_json(self, number: int, api: str) -> JSON:
        pull = self.pulls[number]
        url = f"{api}/repos/{self.full_name}/pulls/{number}"
        head_sha = self.tip(pull["head"]) or pull["head_sha"]
        return {
            "url": url,
            "id": pull["id"],
            "node_id": f"PR_kwDO{pull['id']}",
            "html_url": f"{self.html_url}/pull/{number}",
            "number": number,
            "state": pull["state"],
            "locked": False,
            "title": pull["title"],
            "body": pull["body"],
            "user": BOT_USER,
            "created_at": pull["created_at"],
            "updated_at": pull["updated_at"],
            "closed_at": pull["closed_at"],
            "merged_at": pull["merged_at"],
            "merge_commit_sha": pull["merge_commit_sha"],
            "draft": pull["draft"],
            "head": self._branch_ref(pull["head"], head_sha),
            "base": self._branch_ref(pull["base"], self.tip(pull["base"]) or ""),
            "merged": pull["merged_at"] is not None,
            "mergeable": pull["mergeable"],
            "mergeable_state": pull["mergeable_state"],
            "merged_by": BOT_USER if pull["merged_at"] else None,
            "comments": 0,
            "commits": len(self.ahead(pull["base"], pull["head"])) if pull["head"] in self.branches else 0,
        }

    def combined_status(self, sha: str) -> str:
        states = [status["state"] for status in self.statuses.get(sha, {}).values()]
        if any(state in ("error", "failure") for state in states):
            return "failure"
        if not states or "pending" in states:
            return "pending"
        return "success"

    def _branch_ref(self, branch: str, sha: str) -> JSON:
        repo = {"id": 1296269, "name": self.name, "full_name": self.full_name, "private": False}
        return {"label": f"{self.owner}:{branch}", "ref": branch, "sha": sha, "user": BOT_USER, "repo": repo}


BOT_USER: JSON = {"login": "carapulse[bot]", "id": 41898282, "type": "Bot", "site_admin": False}


# Reading a request's parts, answering GitHub's errors for bad ones.


async def json_body(request: web.Request) -> JSON:
    try:
        body = await request.json()
    except ValueError:
        raise GitHubError(400, "Problems parsing JSON") from None
    if not isinstance(body, dict):
        raise GitHubError(400, "Problems parsing JSON")
    return body


def path_int(request: web.Request, key: str) -> int:
    try:
        return int(request.match_info[key])
    except ValueError:
        raise not_found() from None


def pull_number(request: web.Request, repository: FakeRepository) -> int:
    number = path_int(request, "number")
    if number not in repository.pulls:
        raise not_found()
    return number


def find_workflow(request: web.Request, repository: FakeRepository) -> Workflow:
    key = request.match_info["workflow"]
    for workflow in repository.workflows.values():
        if key in (workflow.file, str(workflow.id)):
            return workflow
    raise not_found()


def page_of(request: web.Request, base_url: str, items: list[JSON]) -> tuple[list[JSON], dict[str, str]]:
    """GitHub's paging: `per_page` (default 30, at most 100) and `page`, with a Link header."""
    per_page = min(int(request.query.get("per_page", "30")), 100)
    page = int(request.query.get("page", "1"))
    last = max(1, math.ceil(len(items) / per_page))
    links = []
    if page < last:
        links += [(page + 1, "next"), (last, "last")]
    if page > 1:
        links += [(1, "first"), (page - 1, "prev")]
    url = base_url + request.raw_path.split("?")[0]
    query = dict(request.query)
    link = ", ".join(f'<{url}?{urlencode({**query, "page": str(n)})}>; rel="{rel}"' for n, rel in links)
    return items[(page - 1) * per_page : page * per_page], ({"Link": link} if link else {})
