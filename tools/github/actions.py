"""GitHub through its REST API: pull requests (open, status with checks, merge, close, reopen),
deployments and their statuses, workflow dispatches, and comments.

Writes that have an inverse record what they need for it: an opened pull request is closed again, a
closed one reopened, a comment deleted. A merge, a deployment and a workflow run have none.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal
from urllib.parse import quote

from tools.common.base import (
    Action,
    ActionResult,
    ArgsT,
    Effect,
    Rehearsed,
    RollbackStep,
    ToolError,
    Unchanged,
)
from tools.common.git.revert import revert_merge
from tools.common.http import HttpStatusError
from tools.github.args import (
    CommentArgs,
    CreateDeploymentArgs,
    DeleteCommentArgs,
    DeploymentStatusArgs,
    DispatchWorkflowArgs,
    MergePullRequestArgs,
    OpenPullRequestArgs,
    PullRequestArgs,
    RepositoryArgs,
)
from tools.github.checks import read_checks
from tools.github.client import (
    Comment,
    Comparison,
    Deployment,
    DeploymentStatus,
    GitHubClient,
    Issue,
    MergeResult,
    PullRequest,
    Workflow,
    error_message,
)
from tools.github.pulls import pull_data, why_not_mergeable


class _GitHubAction(Action[ArgsT]):
    timeout_seconds = 60.0

    def __init__(self, client: GitHubClient) -> None:
        self.client = client

    async def _pull_request(self, args: PullRequestArgs) -> PullRequest:
        return await self.client.read(_pull_path(args), PullRequest)


class GetPullRequestStatus(_GitHubAction[PullRequestArgs]):
    name = "github.get_pull_request_status"
    description = "Show a pull request's state, mergeability and checks (statuses and check runs)."
    args_model = PullRequestArgs
    effect = Effect.READ
    idempotent = True

    async def run(self, args: PullRequestArgs) -> ActionResult:
        pr = await self._pull_request(args)
        checks = await read_checks(self.client, args.repository, pr.head.sha)
        state = "merged" if pr.merged else pr.state
        mergeable = {True: "mergeable", False: "not mergeable", None: "mergeability unknown"}[pr.mergeable]
        return ActionResult(
            summary=f"{_ref(args)} {state}, {mergeable} ({pr.mergeable_state}), checks {checks.describe()}",
            data={**pull_data(pr), "checks": checks.as_data()},
        )


class OpenPullRequest(Rehearsed, _GitHubAction[OpenPullRequestArgs]):
    name = "github.open_pull_request"
    description = "Open a pull request from a head branch into a base branch."
    args_model = OpenPullRequestArgs
    effect = Effect.WRITE

    async def run(self, args: OpenPullRequestArgs) -> ActionResult:
        body = {
            "title": args.title,
            "head": args.head,
            "base": args.base,
            "body": args.body,
            "draft": args.draft,
        }
        pr = await self.client.write("POST", f"{_repo_path(args)}/pulls", PullRequest, body)
        return ActionResult(
            summary=f"opened {args.repository}#{pr.number} {args.head} → {args.base}: {pr.html_url}",
            data={"repository": args.repository, **pull_data(pr)},
        )

    async def rehearse(self, args: OpenPullRequestArgs) -> ActionResult:
        """Both branches exist, the head has commits the base lacks, and no open pull request has them."""
        compare = f"{_repo_path(args)}/compare/{_segment(args.base)}...{_segment(args.head)}"
        comparison = await self.client.read(compare, Comparison)
        if comparison.ahead_by == 0:
            raise ToolError(
                f"github: {args.head} has no commits that {args.base} lacks", call=f"GET {compare}"
            )
        owner = args.repository.split("/")[0]
        query = {"state": "open", "head": f"{owner}:{args.head}", "base": args.base}
        existing = await self.client.read_all(f"{_repo_path(args)}/pulls", PullRequest, params=query)
        if existing:
            message = (
                f"github: {args.repository}#{existing[0].number} already proposes {args.head} → {args.base}"
            )
            raise ToolError(message, call=f"GET {_repo_path(args)}/pulls")
        summary = f"would open a pull request {args.head} → {args.base} ({comparison.ahead_by} commits)"
        return ActionResult(
            summary=summary, data={"repository": args.repository, "ahead_by": comparison.ahead_by}
        )

    def rollback(self, args: OpenPullRequestArgs, result: ActionResult) -> RollbackStep:
        number = result.data["number"]
        return RollbackStep(
            action=ClosePullRequest.name,
            args={"repository": args.repository, "number": number},
            description=f"close {args.repository}#{number}, which this plan opened",
        )


class _SetPullRequestState(Rehearsed, _GitHubAction[PullRequestArgs]):
    """Close or reopen; the inverse is the other one, and only when the state actually changed."""

    target: ClassVar[Literal["open", "closed"]]
    inverse: ClassVar[str]
    args_model = PullRequestArgs
    effect = Effect.WRITE
    idempotent = True

    def rollback(self, args: PullRequestArgs, result: ActionResult) -> RollbackStep | None:
        if result.data["previous_state"] == self.target:
            return None
        return RollbackStep(
            action=self.inverse,
            args=args.model_dump(),
            description=f"set {_ref(args)} back to {result.data['previous_state']}",
        )

    async def apply(self, args: PullRequestArgs, *, dry_run: bool) -> ActionResult:
        pr = await self._pull_request(args)
        data = {"repository": args.repository, "number": args.number, "previous_state": pr.state}
        # A merged pull request is closed: closing it (the undo of opening it) changes nothing.
        if pr.state == self.target:
            merged = " (merged)" if pr.merged else ""
            return Unchanged(summary=f"{_ref(args)} is already {self.target}{merged}", data=data)
        if pr.merged:
            raise ToolError(
                f"github: {_ref(args)} is merged; its state cannot change", call=f"GET {_pull_path(args)}"
            )
        if dry_run:
            return ActionResult(summary=f"would set {_ref(args)} {pr.state} → {self.target}", data=data)
        await self.client.write(
            "PATCH", _pull_path(args), PullRequest, {"state": self.target}, repeatable=True
        )
        return ActionResult(summary=f"{_ref(args)} {pr.state} → {self.target}", data=data)


class ClosePullRequest(_SetPullRequestState):
    name = "github.close_pull_request"
    description = "Close a pull request without merging it."
    target = "closed"
    inverse = "github.reopen_pull_request"


class ReopenPullRequest(_SetPullRequestState):
    name = "github.reopen_pull_request"
    description = "Reopen a closed pull request."
    target = "open"
    inverse = "github.close_pull_request"


class MergePullRequest(Rehearsed, _GitHubAction[MergePullRequestArgs]):
    """Merges exactly the head it read (GitHub's `sha` guard): a push after the check is a 409.

    With `revert_via`, its inverse reverts the merge commit on the base branch; a rebase merge leaves
    no single commit to revert, so it then has none."""

    name = "github.merge_pull_request"
    description = "Merge a pull request (merge, squash or rebase) if GitHub says it is mergeable."
    args_model = MergePullRequestArgs
    effect = Effect.WRITE

    async def run(self, args: MergePullRequestArgs) -> ActionResult:
        ref, pr = await self._checked(args)
        body: dict[str, Any] = {"merge_method": args.merge_method, "sha": pr.head.sha}
        if args.commit_title:
            body["commit_title"] = args.commit_title
        call = f"PUT {_pull_path(ref)}/merge"
        try:
            merged = await self.client.write("PUT", f"{_pull_path(ref)}/merge", MergeResult, body)
        except HttpStatusError as error:
            if error.status == 405:
                refused = error_message(error.body) or "GitHub refused the merge"
                why = why_not_mergeable(await self._pull_request(ref)) or refused
                raise ToolError(
                    f"github: {_ref(ref)} cannot be merged: {why}", call=call, status=405
                ) from None
            if error.status == 409:
                message = (
                    f"github: {_ref(ref)}'s head changed since Carapulse read it; review it and merge again"
                )
                raise ToolError(message, call=call, status=409) from None
            raise
        return ActionResult(
            summary=f"merged {_ref(ref)} ({args.merge_method}) as {merged.sha[:12]}",
            data={
                "repository": args.repository,
                **pull_data(pr),
                "merge_commit": merged.sha,
                "merge_method": args.merge_method,
            },
        )

    async def rehearse(self, args: MergePullRequestArgs) -> ActionResult:
        ref, pr = await self._checked(args)
        why = why_not_mergeable(pr)
        if why:
            raise ToolError(f"github: {_ref(ref)} cannot be merged: {why}", call=f"GET {_pull_path(ref)}")
        checks = await read_checks(self.client, args.repository, pr.head.sha)
        summary = f"{_ref(ref)} can be merged ({pr.mergeable_state}), checks {checks.describe()}"
        return ActionResult(summary=summary, data={**pull_data(pr), "checks": checks.as_data()})

    def rollback(self, args: MergePullRequestArgs, result: ActionResult) -> RollbackStep | None:
        if args.revert_via is None or args.merge_method == "rebase":
            return None
        what = f"the merge of {args.repository}#{result.data['number']}"
        return revert_merge(
            args.revert_via, branch=result.data["base"], commit=result.data["merge_commit"], what=what
        )

    async def _checked(self, args: MergePullRequestArgs) -> tuple[PullRequestArgs, PullRequest]:
        ref = await self._find(args)
        pr = await self._pull_request(ref)
        if args.expected_head_sha and not pr.head.sha.startswith(args.expected_head_sha):
            message = (
                f"github: {_ref(ref)}'s head is {pr.head.sha[:12]}, not the reviewed "
                f"{args.expected_head_sha[:12]}; review it and merge again"
            )
            raise ToolError(message, call=f"GET {_pull_path(ref)}", status=409)
        return ref, pr

    async def _find(self, args: MergePullRequestArgs) -> PullRequestArgs:
        if args.number is not None:
            return PullRequestArgs(repository=args.repository, number=args.number)
        owner = args.repository.split("/")[0]
        path = f"{_repo_path(args)}/pulls"
        query = {"state": "open", "head": f"{owner}:{args.head}"}
        found = await self.client.read_all(path, PullRequest, params=query)
        if len(found) != 1:
            many = f"{len(found)} open pull requests" if found else "no open pull request"
            message = f"github: {args.repository} has {many} from {args.head}"
            raise ToolError(message + ("; name one by number" if found else ""), call=f"GET {path}")
        return PullRequestArgs(repository=args.repository, number=found[0].number)


class CreateDeployment(Rehearsed, _GitHubAction[CreateDeploymentArgs]):
    name = "github.create_deployment"
    description = "Create a deployment of a ref to an environment (for deployment webhooks and history)."
    args_model = CreateDeploymentArgs
    effect = Effect.WRITE

    async def run(self, args: CreateDeploymentArgs) -> ActionResult:
        body: dict[str, Any] = {
            "ref": args.ref,
            "environment": args.environment,
            "description": args.description,
            "payload": args.payload,
            # GitHub would otherwise merge the default branch into `ref` first.
            "auto_merge": False,
        }
        if args.required_contexts is not None:
            body["required_contexts"] = args.required_contexts
        deployment = await self.client.write("POST", f"{_repo_path(args)}/deployments", Deployment, body)
        what = f"{args.ref} ({deployment.sha[:12]}) to {args.environment}"
        return ActionResult(
            summary=f"created deployment {deployment.id} of {what}",
            data={"repository": args.repository, **deployment.model_dump()},
        )

    async def rehearse(self, args: CreateDeploymentArgs) -> ActionResult:
        checks = await read_checks(self.client, args.repository, args.ref)
        required = checks.contexts if args.required_contexts is None else args.required_contexts
        red = [context for context in required if checks.context_states.get(context) != "success"]
        if red:
            message = f"github: {args.ref} cannot be deployed: {', '.join(red)} not successful"
            raise ToolError(message, call=f"GET {_repo_path(args)}/commits/{args.ref}/status")
        summary = f"would deploy {args.ref} to {args.environment} (statuses {checks.describe()})"
        return ActionResult(summary=summary, data={"repository": args.repository, "checks": checks.as_data()})


class CreateDeploymentStatus(Rehearsed, _GitHubAction[DeploymentStatusArgs]):
    name = "github.create_deployment_status"
    description = "Record a deployment's state (in_progress, success, failure, …) with its URLs."
    args_model = DeploymentStatusArgs
    effect = Effect.WRITE

    async def run(self, args: DeploymentStatusArgs) -> ActionResult:
        body: dict[str, Any] = {"state": args.state, "description": args.description}
        for key in ("environment_url", "log_url"):
            if getattr(args, key) is not None:
                body[key] = str(getattr(args, key))
        path = f"{_repo_path(args)}/deployments/{args.deployment_id}/statuses"
        status = await self.client.write("POST", path, DeploymentStatus, body)
        return ActionResult(
            summary=f"deployment {args.deployment_id} is {status.state}",
            data={"repository": args.repository, "deployment_id": args.deployment_id, "status_id": status.id},
        )

    async def rehearse(self, args: DeploymentStatusArgs) -> ActionResult:
        path = f"{_repo_path(args)}/deployments/{args.deployment_id}"
        deployment = await self.client.read(path, Deployment)
        what = f"deployment {deployment.id} ({deployment.ref} to {deployment.environment})"
        summary = f"would mark {what} {args.state}"
        return ActionResult(summary=summary, data={"repository": args.repository, **deployment.model_dump()})


class DispatchWorkflow(Rehearsed, _GitHubAction[DispatchWorkflowArgs]):
    name = "github.dispatch_workflow"
    description = "Start a GitHub Actions workflow that has a workflow_dispatch trigger, with inputs."
    args_model = DispatchWorkflowArgs
    effect = Effect.WRITE

    async def run(self, args: DispatchWorkflowArgs) -> ActionResult:
        body = {"ref": args.ref, "inputs": {key: _input(value) for key, value in args.inputs.items()}}
        await self.client.request(
            "POST", f"{_workflow_path(args)}/dispatches", json_body=body, expect_json=False
        )
        shown = ", ".join(f"{key}={value}" for key, value in body["inputs"].items())
        return ActionResult(
            summary=f"dispatched {args.workflow} on {args.ref}" + (f" with {shown}" if shown else ""),
            data={
                "repository": args.repository,
                "workflow": args.workflow,
                "ref": args.ref,
                "inputs": body["inputs"],
            },
        )

    async def rehearse(self, args: DispatchWorkflowArgs) -> ActionResult:
        workflow = await self.client.read(_workflow_path(args), Workflow)
        if workflow.state != "active":
            message = f"github: workflow {workflow.path} is {workflow.state}, so it cannot run"
            raise ToolError(message, call=f"GET {_workflow_path(args)}")
        summary = f"would dispatch {workflow.name} ({workflow.path}) on {args.ref}"
        return ActionResult(summary=summary, data={"repository": args.repository, **workflow.model_dump()})


class AddComment(Rehearsed, _GitHubAction[CommentArgs]):
    name = "github.add_comment"
    description = "Comment on an issue or pull request."
    args_model = CommentArgs
    effect = Effect.WRITE

    async def run(self, args: CommentArgs) -> ActionResult:
        path = f"{_repo_path(args)}/issues/{args.number}/comments"
        comment = await self.client.write("POST", path, Comment, {"body": args.body})
        return ActionResult(
            summary=f"commented on {_ref(args)}: {comment.html_url}",
            data={"repository": args.repository, "number": args.number, "comment_id": comment.id},
        )

    async def rehearse(self, args: CommentArgs) -> ActionResult:
        issue = await self.client.read(f"{_repo_path(args)}/issues/{args.number}", Issue)
        if issue.locked:
            raise ToolError(
                f"github: {_ref(args)} is locked", call=f"GET {_repo_path(args)}/issues/{args.number}"
            )
        return ActionResult(summary=f"would comment on {_ref(args)} ({issue.state})", data={})

    def rollback(self, args: CommentArgs, result: ActionResult) -> RollbackStep:
        return RollbackStep(
            action=DeleteComment.name,
            args={"repository": args.repository, "comment_id": result.data["comment_id"]},
            description=f"delete the comment this plan left on {_ref(args)}",
        )


class DeleteComment(Rehearsed, _GitHubAction[DeleteCommentArgs]):
    name = "github.delete_comment"
    description = "Delete a comment on an issue or pull request."
    args_model = DeleteCommentArgs
    effect = Effect.WRITE

    async def run(self, args: DeleteCommentArgs) -> ActionResult:
        await self.client.request("DELETE", _comment_path(args), expect_json=False)
        return ActionResult(
            summary=f"deleted comment {args.comment_id} in {args.repository}",
            data={"repository": args.repository, "comment_id": args.comment_id},
        )

    async def rehearse(self, args: DeleteCommentArgs) -> ActionResult:
        comment = await self.client.read(_comment_path(args), Comment)
        return ActionResult(summary=f"would delete {comment.html_url}", data={"comment_id": comment.id})


def _repo_path(args: RepositoryArgs) -> str:
    return f"/repos/{args.repository}"


def _pull_path(args: PullRequestArgs) -> str:
    return f"{_repo_path(args)}/pulls/{args.number}"


def _workflow_path(args: DispatchWorkflowArgs) -> str:
    return f"{_repo_path(args)}/actions/workflows/{args.workflow}"


def _comment_path(args: DeleteCommentArgs) -> str:
    return f"{_repo_path(args)}/issues/comments/{args.comment_id}"


def _ref(args: PullRequestArgs) -> str:
    return f"{args.repository}#{args.number}"


def _segment(branch: str) -> str:
    return quote(branch, safe="")


def _input(value: str | int | float | bool) -> str:
    """workflow_dispatch inputs arrive as strings; booleans the way the Actions UI sends them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
