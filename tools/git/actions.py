"""GitOps through the real `git` binary: read or bump a YAML value (an image tag), promote a value from
one environment's file to another's, create and delete branches, and revert a pushed commit.

Every write reads the branch's tip first and pushes with a lease on it, so its result records the
commit it made and the commit it replaced; that is what its rollback (a `git revert`, or deleting the
branch it created) is built from. Only remotes under GIT_ALLOWED_REMOTES are ever touched.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from typing import Annotated, Any, TypeVar

from pydantic import StringConstraints

from tools.common.base import (
    Action,
    ActionArgs,
    ActionResult,
    ArgsT,
    Effect,
    Rehearsed,
    RollbackStep,
    ToolError,
    Unchanged,
)
from tools.common.git.refs import (
    AuthorEmail,
    AuthorName,
    BranchName,
    CommitSha,
    RemoteUrl,
    RepositoryFile,
    YamlPath,
)
from tools.common.git.revert import REVERT_COMMIT
from tools.common.pins import require_unmoved
from tools.git.repo import Author, GitWorkspace, Repository
from tools.git.yaml_document import YamlDocument, YamlEdit, YamlScalar

CommitMessage = Annotated[str, StringConstraints(min_length=1, max_length=5000)]


class RemoteArgs(ActionArgs):
    remote: RemoteUrl
    branch: BranchName


class ValueArgs(RemoteArgs):
    file: RepositoryFile
    path: YamlPath


class AuthoredArgs(ActionArgs):
    """Who asked for the change (the Slack user), recorded as the commit's author."""

    author_name: AuthorName
    author_email: AuthorEmail
    message: CommitMessage | None = None

    @property
    def author(self) -> Author:
        return Author(self.author_name, self.author_email)


class ChangeArgs(RemoteArgs, AuthoredArgs):
    """A change committed to `branch` as the requester."""

    # False for a commit on a branch that only carries a proposal (a pull request) and that the plan
    # deletes on rollback: reverting it there first would be noise, and fails once the branch is gone.
    revert_on_rollback: bool = True


class SetValueArgs(ValueArgs, ChangeArgs):
    value: YamlScalar


class PromoteValueArgs(ChangeArgs):
    path: YamlPath
    source_file: RepositoryFile
    target_file: RepositoryFile


class CreateBranchArgs(RemoteArgs):
    from_ref: BranchName
    # The commit the plan read `from_ref` at: the branch starts from exactly that commit, or not at all.
    expected_commit: CommitSha | None = None


class DeleteBranchArgs(RemoteArgs):
    expected_commit: CommitSha | None = None


class RevertCommitArgs(ChangeArgs):
    commit: CommitSha


class _GitAction(Action[ArgsT]):
    timeout_seconds = 300.0

    def __init__(self, workspace: GitWorkspace) -> None:
        self.workspace = workspace


class GetValue(_GitAction[ValueArgs]):
    name = "git.get_value"
    description = "Read a value (e.g. an image tag) from a YAML file on a branch, by dotted path."
    args_model = ValueArgs
    effect = Effect.READ
    idempotent = True

    async def run(self, args: ValueArgs) -> ActionResult:
        async with self.workspace.open(args.remote) as repo:
            tip = await repo.require_tip(args.branch)
            await repo.checkout(tip)
            found = YamlDocument(repo.read_text(args.file), args.file, editable=False).get(args.path)
        return ActionResult(
            summary=f"{args.path} in {args.file} on {args.branch} is {_show(found)}",
            data={**_where(args), "file": args.file, "path": args.path, "value": found, "commit": tip},
        )


ChangeT = TypeVar("ChangeT", bound=ChangeArgs)


class _EditValue(Rehearsed, _GitAction[ChangeT]):
    """Edit one YAML value on a branch, commit it as the requester and push; a dry run shows the diff."""

    effect = Effect.WRITE
    idempotent = True

    def rollback(self, args: ChangeT, result: ActionResult) -> RollbackStep | None:
        return _revert_step(args, result)

    @abstractmethod
    def _change(self, repo: Repository, args: ChangeT) -> tuple[str, YamlEdit]:
        """The file to write and its edit, read from the checked-out tip."""

    @abstractmethod
    def _describe(self, args: ChangeT, file: str, edit: YamlEdit) -> str:
        """What the edit does, as the summary's and the default commit message's phrase."""

    async def apply(self, args: ChangeT, *, dry_run: bool) -> ActionResult:
        async with self.workspace.open(args.remote) as repo:
            tip = await repo.require_tip(args.branch)
            await repo.checkout(tip)
            file, edit = self._change(repo, args)
            data = {
                **_where(args),
                "file": file,
                "path": edit.path,
                "previous_value": edit.previous,
                "value": edit.value,
                "previous_commit": tip,
                "commit": None,
            }
            what = self._describe(args, file, edit)
            if not edit.changed:
                already = f"{edit.path} in {file} on {args.branch} is already {_show(edit.value)}"
                return Unchanged(summary=f"{already}; nothing to commit", data=data)
            data["diff"] = edit.diff(file)
            if dry_run:
                return ActionResult(summary=f"would {what} on {args.branch}", data=data)
            repo.write_text(file, edit.after)
            commit = await repo.commit([file], args.message or _capitalised(what), args.author)
            await repo.push(commit, args.branch, expected=tip)
        return ActionResult(
            summary=f"{what} on {args.branch} (commit {commit[:12]})", data={**data, "commit": commit}
        )


class SetValue(_EditValue[SetValueArgs]):
    name = "git.set_value"
    description = (
        "Set a YAML value (e.g. bump an image tag) on a branch, keeping the file's layout, and push."
    )
    args_model = SetValueArgs

    def _change(self, repo: Repository, args: SetValueArgs) -> tuple[str, YamlEdit]:
        return args.file, YamlDocument(repo.read_text(args.file), args.file).replace(args.path, args.value)

    def _describe(self, args: SetValueArgs, file: str, edit: YamlEdit) -> str:
        return f"set {edit.path} {_show(edit.previous)} → {_show(edit.value)} in {file}"


class PromoteValue(_EditValue[PromoteValueArgs]):
    """GitOps promotion: staging's value at `path` becomes production's."""

    name = "git.promote_value"
    description = "Copy a YAML value from one environment's file to another's on a branch, and push."
    args_model = PromoteValueArgs

    def _change(self, repo: Repository, args: PromoteValueArgs) -> tuple[str, YamlEdit]:
        source = YamlDocument(repo.read_text(args.source_file), args.source_file, editable=False)
        target = YamlDocument(repo.read_text(args.target_file), args.target_file)
        return args.target_file, target.replace(args.path, source.node(args.path))

    def _describe(self, args: PromoteValueArgs, file: str, edit: YamlEdit) -> str:
        return (
            f"promote {edit.path} {_show(edit.value)} from {args.source_file} to {file} "
            f"(was {_show(edit.previous)})"
        )


class CreateBranch(Rehearsed, _GitAction[CreateBranchArgs]):
    name = "git.create_branch"
    description = "Create a branch on the remote from another branch, a tag or a commit."
    args_model = CreateBranchArgs
    effect = Effect.WRITE
    idempotent = True

    def rollback(self, args: CreateBranchArgs, result: ActionResult) -> RollbackStep | None:
        if not result.data.get("created"):
            return None
        return RollbackStep(
            action=DeleteBranch.name,
            args=_where(args),
            description=f"delete branch {args.branch}, which this plan created",
        )

    async def apply(self, args: CreateBranchArgs, *, dry_run: bool) -> ActionResult:
        async with self.workspace.open(args.remote) as repo:
            start = await repo.resolve(args.from_ref)
            pinned = args.expected_commit
            require_unmoved(
                f"{args.from_ref} of {args.remote}",
                pinned=pinned,
                live=start[: len(pinned)] if pinned else start,
                call="git rev-parse",
            )
            existing = await repo.tip(args.branch)
            data = {**_where(args), "from_ref": args.from_ref, "commit": start, "created": False}
            if existing == start:
                return Unchanged(summary=f"branch {args.branch} already exists at {start[:12]}", data=data)
            if existing is not None:
                message = f"git: branch {args.branch} already exists on {args.remote} at {existing[:12]}"
                raise ToolError(message, call="git push")
            what = f"branch {args.branch} at {start[:12]} ({args.from_ref})"
            if dry_run:
                return ActionResult(summary=f"would create {what}", data=data)
            await repo.push(start, args.branch, expected=None)
        return ActionResult(summary=f"created {what}", data={**data, "created": True})


class DeleteBranch(Rehearsed, _GitAction[DeleteBranchArgs]):
    """A branch that is already gone counts as deleted: it is what undoes a created branch, and a
    hosting service may have deleted a merged branch already."""

    name = "git.delete_branch"
    description = "Delete a branch on the remote (never its default branch)."
    args_model = DeleteBranchArgs
    effect = Effect.WRITE
    idempotent = True

    def rollback(self, args: DeleteBranchArgs, result: ActionResult) -> RollbackStep | None:
        previous = result.data["previous_commit"]
        if previous is None:
            return None
        return RollbackStep(
            action=CreateBranch.name,
            args={**_where(args), "from_ref": previous},
            description=f"recreate branch {args.branch} at {previous[:12]}",
        )

    async def apply(self, args: DeleteBranchArgs, *, dry_run: bool) -> ActionResult:
        async with self.workspace.open(args.remote) as repo:
            if args.branch == await repo.default_branch():
                raise ToolError(f"git: {args.branch} is the default branch of {args.remote}", call="git push")
            tip = await repo.tip(args.branch)
            if tip is None:
                summary = f"branch {args.branch} does not exist on {args.remote}; nothing to delete"
                return Unchanged(summary=summary, data={**_where(args), "previous_commit": None})
            if args.expected_commit and not tip.startswith(args.expected_commit):
                message = f"git: branch {args.branch} is at {tip[:12]}, not {args.expected_commit[:12]}"
                raise ToolError(message, call="git push")
            data = {**_where(args), "previous_commit": tip}
            if dry_run:
                return ActionResult(summary=f"would delete branch {args.branch} at {tip[:12]}", data=data)
            await repo.delete_branch(args.branch, expected=tip)
        return ActionResult(summary=f"deleted branch {args.branch} (was {tip[:12]})", data=data)


class RevertCommit(Rehearsed, _GitAction[RevertCommitArgs]):
    """Undo a pushed commit with a new commit, leaving history intact; a dry run shows the revert's diff."""

    name = REVERT_COMMIT
    description = "Revert a commit on a branch with `git revert` and push the revert."
    args_model = RevertCommitArgs
    effect = Effect.WRITE

    def rollback(self, args: RevertCommitArgs, result: ActionResult) -> RollbackStep | None:
        return _revert_step(args, result)

    async def apply(self, args: RevertCommitArgs, *, dry_run: bool) -> ActionResult:
        async with self.workspace.open(args.remote) as repo:
            tip = await repo.require_tip(args.branch)
            reverted = await repo.commit_id(args.commit)
            if not await repo.is_ancestor(reverted, tip):
                raise ToolError(
                    f"git: {reverted[:12]} is not on branch {args.branch} of {args.remote}", call="git revert"
                )
            await repo.checkout(tip)
            revert = await repo.revert(reverted, args.author)
            data = {**_where(args), "reverted": reverted, "previous_commit": tip, "commit": None}
            if dry_run:
                data["diff"] = await repo.show_patch(revert)
                return ActionResult(summary=f"would revert {reverted[:12]} on {args.branch}", data=data)
            await repo.push(revert, args.branch, expected=tip)
        summary = f"reverted {reverted[:12]} on {args.branch} (commit {revert[:12]})"
        return ActionResult(summary=summary, data={**data, "commit": revert})


def _revert_step(args: ChangeArgs, result: ActionResult) -> RollbackStep | None:
    """Revert the commit a change pushed, as the same author; None when it pushed nothing."""
    commit = result.data.get("commit")
    if not commit or not args.revert_on_rollback:
        return None
    return RollbackStep(
        action=RevertCommit.name,
        args={
            **_where(args),
            "commit": commit,
            "author_name": args.author_name,
            "author_email": args.author_email,
        },
        description=f"revert {commit[:12]} on {args.branch}",
    )


def _where(args: RemoteArgs) -> dict[str, str]:
    return {"remote": args.remote, "branch": args.branch}


def _show(found: Any) -> str:
    text = found if isinstance(found, str) else json.dumps(found)
    return text if len(text) <= 80 else text[:77] + "..."


def _capitalised(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]
