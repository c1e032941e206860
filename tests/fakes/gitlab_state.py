"""What the fake GitLab API serves: projects with branch histories, merge requests with pipelines,
issues and notes, rendered in GitLab's JSON shapes, and GitLab's error documents."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.git_remote import BareRemote

JSON = dict[str, Any]
_ids = itertools.count(90_001)

BOT_USER: JSON = {
    "id": 77,
    "username": "project_42_bot",
    "name": "carapulse",
    "state": "active",
    "web_url": "https://gitlab.example/project_42_bot",
}
# Statuses that make the merge endpoint answer 405 (GitLab's `mergeable_state?` is false).
NOT_MERGEABLE_NOW = frozenset(
    {
        "not_open",
        "draft_status",
        "ci_must_pass",
        "ci_still_running",
        "not_approved",
        "discussions_not_resolved",
        "need_rebase",
        "blocked_status",
        "checking",
        "unchecked",
        "requested_changes",
    }
)


class GitLabError(Exception):
    """An error answer: `{"message": ...}` (a string, list or field map), or `{"error": ...}` for
    parameter validation and unknown routes."""

    def __init__(self, status: int, message: Any = None, *, error: str | None = None) -> None:
        super().__init__(str(message or error))
        self.status = status
        self.document: JSON = {"error": error} if error is not None else {"message": message}


def new_sha() -> str:
    return secrets.token_hex(20)


def new_id() -> int:
    return next(_ids)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class FakeProject:
    id: int
    path: str
    web_url: str
    default_branch: str = "main"
    branches: dict[str, list[str]] = field(default_factory=dict)
    merge_requests: dict[int, JSON] = field(default_factory=dict)
    issues: dict[int, JSON] = field(default_factory=dict)
    notes: dict[tuple[str, int], dict[int, JSON]] = field(default_factory=dict)
    # Backed by a real repository, branches are read from it before every request and merges land
    # in it; otherwise they are made-up histories that tests extend with add_commits.
    git: BareRemote | None = None

    def tip(self, branch: str) -> str | None:
        history = self.branches.get(branch)
        return history[-1] if history else None

    def merge_request_json(self, iid: int) -> JSON:
        mr = self.merge_requests[iid]
        sha = self.tip(mr["source_branch"]) or mr["sha"]
        pipelines = [p for p in mr["pipelines"] if p["sha"] == sha]
        detailed = self.detailed_merge_status(iid)
        return {
            "id": mr["id"],
            "iid": iid,
            "project_id": self.id,
            "title": mr["title"],
            "description": mr["description"],
            "state": mr["state"],
            "created_at": mr["created_at"],
            "updated_at": mr["updated_at"],
            "merged_at": mr["merged_at"],
            "closed_at": mr["closed_at"],
            "target_branch": mr["target_branch"],
            "source_branch": mr["source_branch"],
            "author": BOT_USER,
            "draft": mr["title"].startswith(("Draft:", "[Draft]", "(Draft)")),
            "work_in_progress": mr["title"].startswith(("Draft:", "[Draft]", "(Draft)")),
            "merge_status": "can_be_merged" if detailed == "mergeable" else "cannot_be_merged",
            "detailed_merge_status": detailed,
            "has_conflicts": mr["conflict"],
            "discussion_locked": mr["discussion_locked"],
            "sha": sha,
            "merge_commit_sha": mr["merge_commit_sha"],
            "squash_commit_sha": mr.get("squash_commit_sha"),
            "squash": mr["squash"],
            "force_remove_source_branch": mr["remove_source_branch"],
            "references": {"short": f"!{iid}", "full": f"{self.path}!{iid}"},
            "web_url": f"{self.web_url}/-/merge_requests/{iid}",
            "head_pipeline": self.pipeline_json(pipelines[-1]) if pipelines else None,
        }

    def detailed_merge_status(self, iid: int) -> str:
        mr = self.merge_requests[iid]
        if mr["state"] != "opened":
            return "not_open"
        if mr["title"].startswith("Draft:"):
            return "draft_status"
        if mr["conflict"]:
            return "conflict"
        return str(mr["status"])

    def pipeline_json(self, pipeline: JSON) -> JSON:
        return {
            "id": pipeline["id"],
            "iid": pipeline["id"] - 90_000,
            "project_id": self.id,
            "sha": pipeline["sha"],
            "ref": pipeline["ref"],
            "status": pipeline["status"],
            "source": "merge_request_event",
            "created_at": pipeline["created_at"],
            "updated_at": pipeline["created_at"],
            "web_url": f"{self.web_url}/-/pipelines/{pipeline['id']}",
        }

    def note_json(self, kind: str, iid: int, note: JSON) -> JSON:
        noteable = self.merge_requests[iid] if kind == "merge_requests" else self.issues[iid]
        return {
            "id": note["id"],
            "type": None,
            "body": note["body"],
            "author": BOT_USER,
            "created_at": note["created_at"],
            "updated_at": note["created_at"],
            "system": False,
            "noteable_id": noteable["id"],
            "noteable_type": "MergeRequest" if kind == "merge_requests" else "Issue",
            "noteable_iid": iid,
            "resolvable": False,
            "confidential": False,
            "internal": False,
        }
