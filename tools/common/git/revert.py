"""Undoing a merge made through a hosting service's API: neither GitHub's nor GitLab's merge has an
inverse there, so the merge commit is reverted with git on the branch it landed on, through the
git tool's `git.revert_commit` action, and the branch keeps its history."""

from __future__ import annotations

from tools.common.base import ActionArgs, RollbackStep
from tools.common.git.refs import AuthorEmail, AuthorName, RemoteUrl

# The git tool's action that reverts a commit; a rollback step names it, so GitHub and GitLab need not
# import the git tool.
REVERT_COMMIT = "git.revert_commit"


class RevertVia(ActionArgs):
    """Where and as whom a merge is reverted on rollback: the repository's clone URL (under
    GIT_ALLOWED_REMOTES) and the person who asked for the change."""

    remote: RemoteUrl
    author_name: AuthorName
    author_email: AuthorEmail


def revert_merge(via: RevertVia, *, branch: str, commit: str, what: str) -> RollbackStep:
    return RollbackStep(
        action=REVERT_COMMIT,
        args={**via.model_dump(), "branch": branch, "commit": commit},
        description=f"revert {commit[:12]} ({what}) on {branch}",
    )
