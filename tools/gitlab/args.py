"""The arguments of the gitlab tool's actions, checked before any request path is built from them."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import AfterValidator, PositiveInt, StringConstraints, model_validator

from tools.common.base import ActionArgs
from tools.common.git.refs import BranchName, CommitSha
from tools.common.git.revert import RevertVia


def _no_dot_segments(project: str) -> str:
    if any(part in (".", "..") for part in project.split("/")):
        raise ValueError(f"{project!r} is not a project path")
    return project


ProjectRef = Annotated[
    str,
    StringConstraints(
        max_length=255, pattern=r"^([0-9]+|[A-Za-z0-9_.][A-Za-z0-9_.-]*(/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+)$"
    ),
    AfterValidator(_no_dot_segments),
]
Title = Annotated[str, StringConstraints(min_length=1, max_length=255)]
NoteBody = Annotated[str, StringConstraints(min_length=1, max_length=1_000_000)]


class ProjectArgs(ActionArgs):
    project: ProjectRef


class MergeRequestArgs(ProjectArgs):
    iid: PositiveInt


class OpenMergeRequestArgs(ProjectArgs):
    source_branch: BranchName
    target_branch: BranchName
    title: Title
    description: Annotated[str, StringConstraints(max_length=1_000_000)] = ""
    draft: bool = False
    remove_source_branch: bool = False


class MergeArgs(ProjectArgs):
    # By iid, or as the one open merge request from `source_branch`: a branch a plan names before
    # the merge request it opens has an iid.
    iid: PositiveInt | None = None
    source_branch: BranchName | None = None
    # The source head the requester reviewed: a newer head is refused rather than merged unseen.
    expected_sha: CommitSha | None = None
    squash: bool = False
    should_remove_source_branch: bool = False
    merge_commit_message: Title | None = None
    # Given, the merge is rolled back by reverting its commit there; without it, it has no inverse.
    revert_via: RevertVia | None = None

    @model_validator(mode="after")
    def _one_merge_request(self) -> Self:
        if (self.iid is None) == (self.source_branch is None):
            raise ValueError("name the merge request by iid or by its source branch (one of them)")
        return self


class NoteTargetArgs(ProjectArgs):
    target: Literal["merge_request", "issue"] = "merge_request"
    iid: PositiveInt


class AddNoteArgs(NoteTargetArgs):
    body: NoteBody


class DeleteNoteArgs(NoteTargetArgs):
    note_id: PositiveInt
