"""The arguments of the github tool's actions, checked before any request path is built from them."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, AnyHttpUrl, Field, PositiveInt, StringConstraints, model_validator

from tools.common.base import ActionArgs
from tools.common.git.refs import BranchName, CommitSha
from tools.common.git.revert import RevertVia


def _not_a_dot_segment(name: str) -> str:
    if name.split("/")[1] in (".", ".."):
        raise ValueError(f"{name!r} is not a repository")
    return name


RepositoryName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$"),
    AfterValidator(_not_a_dot_segment),
]
WorkflowId = Annotated[str, StringConstraints(max_length=200, pattern=r"^([0-9]+|[A-Za-z0-9._-]+\.ya?ml)$")]
Title = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Text = Annotated[str, StringConstraints(max_length=65536)]
InputValue = Annotated[str, StringConstraints(max_length=1000)] | int | float | bool


class RepositoryArgs(ActionArgs):
    repository: RepositoryName


class PullRequestArgs(RepositoryArgs):
    number: PositiveInt


class OpenPullRequestArgs(RepositoryArgs):
    head: BranchName
    base: BranchName
    title: Title
    body: Text = ""
    draft: bool = False


class MergePullRequestArgs(RepositoryArgs):
    # By number, or as the one open pull request from `head`: a branch a plan names before the pull
    # request it opens has a number.
    number: PositiveInt | None = None
    head: BranchName | None = None
    merge_method: Literal["merge", "squash", "rebase"] = "merge"
    # The head the requester reviewed: a newer head is refused rather than merged unseen.
    expected_head_sha: CommitSha | None = None
    commit_title: Title | None = None
    # Given, the merge is rolled back by reverting its commit there; without it, it has no inverse.
    revert_via: RevertVia | None = None

    @model_validator(mode="after")
    def _one_pull_request(self) -> Self:
        if (self.number is None) == (self.head is None):
            raise ValueError("name the pull request by number or by its head branch (one of them)")
        return self


class CreateDeploymentArgs(RepositoryArgs):
    ref: BranchName
    environment: Annotated[str, StringConstraints(min_length=1, max_length=255)] = "production"
    description: Annotated[str, StringConstraints(max_length=140)] = ""
    # None: GitHub's default, every status context on the ref must be green.
    required_contexts: list[Annotated[str, StringConstraints(min_length=1, max_length=255)]] | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


class DeploymentStatusArgs(RepositoryArgs):
    deployment_id: PositiveInt
    state: Literal["error", "failure", "inactive", "in_progress", "queued", "pending", "success"]
    description: Annotated[str, StringConstraints(max_length=140)] = ""
    environment_url: AnyHttpUrl | None = None
    log_url: AnyHttpUrl | None = None


class DispatchWorkflowArgs(RepositoryArgs):
    workflow: WorkflowId
    ref: BranchName
    inputs: dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,100}$")], InputValue] = Field(
        default_factory=dict, max_length=25
    )


class CommentArgs(PullRequestArgs):
    body: Annotated[str, StringConstraints(min_length=1, max_length=65536)]


class DeleteCommentArgs(RepositoryArgs):
    comment_id: PositiveInt
