"""What a pull request document says: its facts for the card and later steps, and why GitHub would
not merge it now, in words."""

from __future__ import annotations

from typing import Any

from tools.github.client import PullRequest


def pull_data(pr: PullRequest) -> dict[str, Any]:
    return {
        "number": pr.number,
        "state": pr.state,
        "merged": pr.merged,
        "draft": pr.draft,
        "mergeable": pr.mergeable,
        "mergeable_state": pr.mergeable_state,
        "head": pr.head.ref,
        "head_sha": pr.head.sha,
        "base": pr.base.ref,
        "html_url": pr.html_url,
    }


_BLOCKED_BECAUSE = {
    "dirty": "it has merge conflicts",
    "blocked": "required reviews or status checks are missing",
    "behind": "its branch is behind the base branch",
    "draft": "it is a draft",
    "unknown": "GitHub is still computing whether it can be merged; try again shortly",
}


def why_not_mergeable(pr: PullRequest) -> str:
    """Empty when GitHub reports nothing against merging."""
    if pr.merged:
        return "it is already merged"
    if pr.state != "open":
        return "it is closed"
    if pr.draft:
        return _BLOCKED_BECAUSE["draft"]
    if pr.mergeable_state in _BLOCKED_BECAUSE:
        return _BLOCKED_BECAUSE[pr.mergeable_state]
    if pr.mergeable is False:
        return f"GitHub reports it unmergeable ({pr.mergeable_state})"
    return ""
