"""GitLab through its REST API v4: merge requests (open, status with pipelines, merge, close, reopen)
and comments (notes) on merge requests and issues.

An opened merge request is rolled back by closing it, a closed one by reopening it, a comment by
deleting it; a merge has no inverse.
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
from tools.gitlab.args import (
    AddNoteArgs,
    DeleteNoteArgs,
    MergeArgs,
    MergeRequestArgs,
    NoteTargetArgs,
    OpenMergeRequestArgs,
    ProjectArgs,
)
from tools.gitlab.client import (
    Branch,
    GitLabClient,
    Issue,
    MergeRequest,
    Note,
    Pipeline,
    error_message,
    project_path,
)


class _GitLabAction(Action[ArgsT]):
    timeout_seconds = 60.0

    def __init__(self, client: GitLabClient) -> None:
        self.client = client

    async def _merge_request(self, args: MergeRequestArgs) -> MergeRequest:
        return await self.client.read(_mr_path(args), MergeRequest)


class GetMergeRequestStatus(_GitLabAction[MergeRequestArgs]):
    name = "gitlab.get_merge_request_status"
    description = "Show a merge request's state, whether it can be merged, and its pipelines."
    args_model = MergeRequestArgs
    effect = Effect.READ
    idempotent = True

    async def run(self, args: MergeRequestArgs) -> ActionResult:
        mr = await self._merge_request(args)
        pipelines = await self.client.read_all(f"{_mr_path(args)}/pipelines", Pipeline)
        latest = mr.head_pipeline or (pipelines[0] if pipelines else None)
        pipeline = f"pipeline #{latest.id} {latest.status}" if latest else "no pipeline"
        return ActionResult(
            summary=f"{_ref(args)} {mr.state}, {_merge_state(mr)}, {pipeline}",
            data={
                **_mr_data(args, mr),
                "pipeline": latest.model_dump() if latest else None,
                "pipelines": [p.model_dump() for p in pipelines],
            },
        )


class OpenMergeRequest(Rehearsed, _GitLabAction[OpenMergeRequestArgs]):
    name = "gitlab.open_merge_request"
    description = "Open a merge request from a source branch into a target branch."
    args_model = OpenMergeRequestArgs
    effect = Effect.WRITE

    async def run(self, args: OpenMergeRequestArgs) -> ActionResult:
        body = {
            "source_branch": args.source_branch,
            "target_branch": args.target_branch,
            "title": f"Draft: {args.title}" if args.draft else args.title,
            "description": args.description,
            "remove_source_branch": args.remove_source_branch,
        }
        mr = await self.client.write(
            "POST", f"{project_path(args.project)}/merge_requests", MergeRequest, body
        )
        return ActionResult(
            summary=f"opened {args.project}!{mr.iid} {_proposal(args)}: {mr.web_url}",
            data={"project": args.project, **_mr_data(args, mr), "iid": mr.iid},
        )

    async def rehearse(self, args: OpenMergeRequestArgs) -> ActionResult:
        """Both branches exist and no open merge request already proposes the same change."""
        for branch in (args.source_branch, args.target_branch):
            await self.client.read(
                f"{project_path(args.project)}/repository/branches/{quote(branch, safe='')}", Branch
            )
        query = {"state": "opened", "source_branch": args.source_branch, "target_branch": args.target_branch}
        path = f"{project_path(args.project)}/merge_requests"
        existing = await self.client.read_all(path, MergeRequest, params=query)
        if existing:
            message = f"gitlab: {args.project}!{existing[0].iid} already proposes {_proposal(args)}"
            raise ToolError(message, call=f"GET {path}")
        summary = f"would open a merge request {_proposal(args)}"
        return ActionResult(summary=summary, data={"project": args.project})

    def rollback(self, args: OpenMergeRequestArgs, result: ActionResult) -> RollbackStep:
        iid = result.data["iid"]
        return RollbackStep(
            action=CloseMergeRequest.name,
            args={"project": args.project, "iid": iid},
            description=f"close {args.project}!{iid}, which this plan opened",
        )


class _SetMergeRequestState(Rehearsed, _GitLabAction[MergeRequestArgs]):
    """Close or reopen through `state_event`; the inverse is the other, only when the state changed."""

    target: ClassVar[Literal["opened", "closed"]]
    event: ClassVar[Literal["reopen", "close"]]
    inverse: ClassVar[str]
    args_model = MergeRequestArgs
    effect = Effect.WRITE
    idempotent = True

    def rollback(self, args: MergeRequestArgs, result: ActionResult) -> RollbackStep | None:
        if result.data["previous_state"] == self.target or result.data["previous_state"] == "merged":
            return None
        return RollbackStep(
            action=self.inverse,
            args=args.model_dump(),
            description=f"set {_ref(args)} back to {result.data['previous_state']}",
        )

    async def apply(self, args: MergeRequestArgs, *, dry_run: bool) -> ActionResult:
        mr = await self._merge_request(args)
        data = {"project": args.project, "iid": args.iid, "previous_state": mr.state}
        # A merged request is closed for good: closing it (the undo of opening it) changes nothing.
        if mr.state == self.target or (mr.state == "merged" and self.target == "closed"):
            return Unchanged(summary=f"{_ref(args)} is already {mr.state}", data=data)
        if mr.state not in ("opened", "closed"):
            raise ToolError(
                f"gitlab: {_ref(args)} is {mr.state}; its state cannot change", call=f"GET {_mr_path(args)}"
            )
        if dry_run:
            return ActionResult(summary=f"would set {_ref(args)} {mr.state} → {self.target}", data=data)
        await self.client.write(
            "PUT", _mr_path(args), MergeRequest, {"state_event": self.event}, repeatable=True
        )
        return ActionResult(summary=f"{_ref(args)} {mr.state} → {self.target}", data=data)


class CloseMergeRequest(_SetMergeRequestState):
    name = "gitlab.close_merge_request"
    description = "Close a merge request without merging it."
    target = "closed"
    event = "close"
    inverse = "gitlab.reopen_merge_request"


class ReopenMergeRequest(_SetMergeRequestState):
    name = "gitlab.reopen_merge_request"
    description = "Reopen a closed merge request."
    target = "opened"
    event = "reopen"
    inverse = "gitlab.close_merge_request"


class MergeMergeRequest(Rehearsed, _GitLabAction[MergeArgs]):
    """Merges exactly the source head it read (GitLab's `sha` guard: a newer head is a 409).

    With `revert_via`, its inverse reverts the merge (or squash) commit on the target branch; a
    fast-forward merge leaves no such commit, so it then has none."""

    name = "gitlab.merge_merge_request"
    description = "Merge a merge request now, if GitLab says it can be merged."
    args_model = MergeArgs
    effect = Effect.WRITE

    async def run(self, args: MergeArgs) -> ActionResult:
        ref, mr = await self._checked(args)
        body: dict[str, Any] = {
            "sha": mr.sha,
            "squash": args.squash,
            "should_remove_source_branch": args.should_remove_source_branch,
        }
        if args.merge_commit_message:
            body["merge_commit_message"] = args.merge_commit_message
        try:
            merged = await self.client.write("PUT", f"{_mr_path(ref)}/merge", MergeRequest, body)
        except HttpStatusError as error:
            raise await self._refusal(ref, error) from None
        landed = merged.merge_commit_sha or merged.squash_commit_sha
        return ActionResult(
            summary=f"merged {_ref(ref)} as {(landed or '')[:12]}",
            data={**_mr_data(ref, merged), "merged_sha": mr.sha, "landed_commit": landed},
        )

    async def rehearse(self, args: MergeArgs) -> ActionResult:
        ref, mr = await self._checked(args)
        if not _can_merge(mr):
            raise ToolError(
                f"gitlab: {_ref(ref)} cannot be merged: {_merge_state(mr)}", call=f"GET {_mr_path(ref)}"
            )
        pipeline = f", pipeline #{mr.head_pipeline.id} {mr.head_pipeline.status}" if mr.head_pipeline else ""
        return ActionResult(summary=f"{_ref(ref)} can be merged{pipeline}", data=_mr_data(ref, mr))

    def rollback(self, args: MergeArgs, result: ActionResult) -> RollbackStep | None:
        landed = result.data.get("landed_commit")
        if args.revert_via is None or not landed:
            return None
        what = f"the merge of {args.project}!{result.data['iid']}"
        return revert_merge(args.revert_via, branch=result.data["target_branch"], commit=landed, what=what)

    async def _checked(self, args: MergeArgs) -> tuple[MergeRequestArgs, MergeRequest]:
        ref = await self._find(args)
        mr = await self._merge_request(ref)
        if args.expected_sha and not (mr.sha or "").startswith(args.expected_sha):
            message = (
                f"gitlab: {_ref(ref)}'s source head is {(mr.sha or 'unknown')[:12]}, not the reviewed "
                f"{args.expected_sha[:12]}; review it and merge again"
            )
            raise ToolError(message, call=f"GET {_mr_path(ref)}", status=409)
        return ref, mr

    async def _find(self, args: MergeArgs) -> MergeRequestArgs:
        if args.iid is not None:
            return MergeRequestArgs(project=args.project, iid=args.iid)
        path = f"{project_path(args.project)}/merge_requests"
        query = {"state": "opened", "source_branch": args.source_branch}
        found = await self.client.read_all(path, MergeRequest, params=query)
        if len(found) != 1:
            many = f"{len(found)} open merge requests" if found else "no open merge request"
            message = f"gitlab: {args.project} has {many} from {args.source_branch}"
            raise ToolError(message + ("; name one by iid" if found else ""), call=f"GET {path}")
        return MergeRequestArgs(project=args.project, iid=found[0].iid)

    async def _refusal(self, args: MergeRequestArgs, error: HttpStatusError) -> ToolError:
        """GitLab's merge answers: 401 may not merge, 405 not mergeable now (draft, closed, pipeline,
        approvals), 406 (422 on newer servers) conflicts, 409 the `sha` is no longer the head."""
        detail = error_message(error.body) or f"HTTP {error.status}"
        if error.status == 405:
            state = _merge_state(await self._merge_request(args))
            message = f"gitlab: {_ref(args)} cannot be merged: {state} ({detail})"
        elif error.status in (406, 422):
            message = f"gitlab: {_ref(args)} cannot be merged: {detail}"
        elif error.status == 409:
            changed = f"gitlab: {_ref(args)}'s source branch changed since Carapulse read it ({detail})"
            message = f"{changed}; review it and merge again"
        elif error.status == 401:
            message = f"gitlab: the token may not merge {_ref(args)}, or is not valid ({detail})"
        else:
            return error
        return ToolError(message, call=error.call, status=error.status)


class AddNote(Rehearsed, _GitLabAction[AddNoteArgs]):
    name = "gitlab.add_comment"
    description = "Comment on a merge request or an issue."
    args_model = AddNoteArgs
    effect = Effect.WRITE

    async def run(self, args: AddNoteArgs) -> ActionResult:
        note = await self.client.write("POST", f"{_noteable_path(args)}/notes", Note, {"body": args.body})
        return ActionResult(
            summary=f"commented on {_noteable_ref(args)} (note {note.id})",
            data={"project": args.project, "target": args.target, "iid": args.iid, "note_id": note.id},
        )

    async def rehearse(self, args: AddNoteArgs) -> ActionResult:
        model = MergeRequest if args.target == "merge_request" else Issue
        noteable = await self.client.read(_noteable_path(args), model)
        if noteable.discussion_locked:
            raise ToolError(
                f"gitlab: {_noteable_ref(args)}'s discussion is locked", call=f"GET {_noteable_path(args)}"
            )
        return ActionResult(summary=f"would comment on {_noteable_ref(args)} ({noteable.state})", data={})

    def rollback(self, args: AddNoteArgs, result: ActionResult) -> RollbackStep:
        return RollbackStep(
            action=DeleteNote.name,
            args={
                "project": args.project,
                "target": args.target,
                "iid": args.iid,
                "note_id": result.data["note_id"],
            },
            description=f"delete the comment this plan left on {_noteable_ref(args)}",
        )


class DeleteNote(Rehearsed, _GitLabAction[DeleteNoteArgs]):
    name = "gitlab.delete_comment"
    description = "Delete a comment (note) on a merge request or an issue."
    args_model = DeleteNoteArgs
    effect = Effect.WRITE

    async def run(self, args: DeleteNoteArgs) -> ActionResult:
        await self.client.request("DELETE", _note_path(args), expect_json=False)
        return ActionResult(
            summary=f"deleted note {args.note_id} on {_noteable_ref(args)}",
            data={"project": args.project, "note_id": args.note_id},
        )

    async def rehearse(self, args: DeleteNoteArgs) -> ActionResult:
        note = await self.client.read(_note_path(args), Note)
        return ActionResult(summary=f"would delete note {note.id} on {_noteable_ref(args)}", data={})


def _mr_path(args: MergeRequestArgs) -> str:
    return f"{project_path(args.project)}/merge_requests/{args.iid}"


def _noteable_path(args: NoteTargetArgs) -> str:
    kind = "merge_requests" if args.target == "merge_request" else "issues"
    return f"{project_path(args.project)}/{kind}/{args.iid}"


def _note_path(args: DeleteNoteArgs) -> str:
    return f"{_noteable_path(args)}/notes/{args.note_id}"


def _ref(args: MergeRequestArgs) -> str:
    return f"{args.project}!{args.iid}"


def _proposal(args: OpenMergeRequestArgs) -> str:
    return f"{args.source_branch} → {args.target_branch}"


def _noteable_ref(args: NoteTargetArgs) -> str:
    return f"{args.project}{'!' if args.target == 'merge_request' else '#'}{args.iid}"


def _mr_data(args: ProjectArgs, mr: MergeRequest) -> dict[str, Any]:
    return {
        "project": args.project,
        "iid": mr.iid,
        "state": mr.state,
        "draft": mr.draft,
        "merge_status": mr.detailed_merge_status or mr.merge_status,
        "has_conflicts": mr.has_conflicts,
        "source_branch": mr.source_branch,
        "target_branch": mr.target_branch,
        "sha": mr.sha,
        "merge_commit_sha": mr.merge_commit_sha,
        "web_url": mr.web_url,
    }


_MERGE_STATES = {
    "mergeable": "can be merged",
    "not_open": "it is not open",
    "draft_status": "it is a draft",
    "ci_must_pass": "its pipeline must succeed first",
    "ci_still_running": "its pipeline is still running",
    "not_approved": "it lacks required approvals",
    "discussions_not_resolved": "it has unresolved threads",
    "conflict": "it has merge conflicts",
    "need_rebase": "it must be rebased first",
    "blocked_status": "another merge request blocks it",
    "broken_status": "its source branch cannot be merged",
    "checking": "GitLab is still checking it; try again shortly",
    "unchecked": "GitLab has not checked it yet; try again shortly",
    "preparing": "GitLab is still preparing it; try again shortly",
    "requested_changes": "a reviewer requested changes",
}


def _can_merge(mr: MergeRequest) -> bool:
    if mr.state != "opened" or mr.draft or mr.has_conflicts:
        return False
    if mr.detailed_merge_status is not None:
        return mr.detailed_merge_status == "mergeable"
    return mr.merge_status == "can_be_merged"


def _merge_state(mr: MergeRequest) -> str:
    """Why GitLab would or would not merge it now, in words."""
    if mr.state != "opened":
        return f"it is {mr.state}"
    status = mr.detailed_merge_status or (
        "mergeable" if mr.merge_status == "can_be_merged" else mr.merge_status
    )
    return _MERGE_STATES.get(status or "", f"merge status {status}")
