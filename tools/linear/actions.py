"""Linear: file an issue for an incident or a change, comment on it, and attach the plan's link.

Every write has an inverse Linear can carry out: an issue created is archived (and an archive is undone
by unarchiving), a comment is deleted, a link attached is removed unless it was already there.
Linear cannot rehearse a mutation, so a dry run reads what the write would touch (the team, the
issue) and says what would happen, which also proves the key may see it.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, StringConstraints

from tools.common.base import (
    Action,
    ActionArgs,
    ActionResult,
    ArgsT,
    Effect,
    Rehearsed,
    RiskHint,
    RollbackStep,
    Unchanged,
)
from tools.linear.client import UUID_PATTERN, Issue, LinearApi

_KEY = r"[A-Z][A-Z0-9_]{0,9}"
TeamRef = Annotated[str, StringConstraints(pattern=rf"^({UUID_PATTERN}|{_KEY})$")]
IssueRef = Annotated[str, StringConstraints(pattern=rf"^({UUID_PATTERN}|{_KEY}-[0-9]{{1,9}})$")]
EntityId = Annotated[str, StringConstraints(pattern=rf"^{UUID_PATTERN}$")]
Markdown = Annotated[str, StringConstraints(min_length=1, max_length=100_000)]


class CreateIssueArgs(ActionArgs):
    team: TeamRef  # key ("ENG") or id
    title: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    description: Markdown | None = None
    priority: Annotated[int, Field(ge=0, le=4)] | None = None  # 0 none, 1 urgent … 4 low


class IssueArgs(ActionArgs):
    issue: IssueRef  # identifier ("ENG-123") or id


class CommentArgs(IssueArgs):
    body: Markdown


class LinkArgs(IssueArgs):
    url: Annotated[str, StringConstraints(max_length=2048, pattern=r"^https://\S+$")]
    title: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    subtitle: Annotated[str, StringConstraints(max_length=255)] | None = None


class CommentIdArgs(ActionArgs):
    comment_id: EntityId


class AttachmentIdArgs(ActionArgs):
    attachment_id: EntityId


class _LinearAction(Action[ArgsT]):
    timeout_seconds = 60.0

    def __init__(self, api: LinearApi) -> None:
        self.api = api


class _Write(Rehearsed, _LinearAction[ArgsT]):
    effect = Effect.WRITE

    async def apply(self, args: ArgsT, *, dry_run: bool) -> ActionResult:
        raise NotImplementedError


class GetIssue(_LinearAction[IssueArgs]):
    name = "linear.get_issue"
    description = "Show a Linear issue's title, state, team, assignee and link."
    args_model = IssueArgs
    effect = Effect.READ
    idempotent = True

    async def run(self, args: IssueArgs) -> ActionResult:
        issue = await self.api.issue(args.issue)
        state = issue.state.name if issue.state else "no state"
        archived = ", archived" if issue.archived_at else ""
        return ActionResult(summary=f"{_label(issue)}: {state}{archived}", data=_issue_data(issue))


class CreateIssue(_Write[CreateIssueArgs]):
    name = "linear.create_issue"
    description = "File a Linear issue in a team."
    args_model = CreateIssueArgs

    async def apply(self, args: CreateIssueArgs, *, dry_run: bool) -> ActionResult:
        team = await self.api.team(args.team)
        if dry_run:
            return ActionResult(
                summary=f"would file {args.title!r} in {team.key} ({team.name})",
                data={"team": team.key, "team_id": team.id},
            )
        fields: dict[str, Any] = {"teamId": team.id, "title": args.title}
        if args.description is not None:
            fields["description"] = args.description
        if args.priority is not None:
            fields["priority"] = args.priority
        issue = await self.api.create_issue(fields)
        return ActionResult(summary=f"filed {_label(issue)}: {issue.url}", data=_issue_data(issue))

    def rollback(self, args: CreateIssueArgs, result: ActionResult) -> RollbackStep:
        return RollbackStep(
            action=ArchiveIssue.name,
            args={"issue": result.data["id"]},
            description=f"archive {result.data['identifier']} (it can be unarchived)",
        )


class _SetArchived(_Write[IssueArgs]):
    """Archive and unarchive, each the other's inverse when it changed something."""

    args_model = IssueArgs
    idempotent = True
    archive: ClassVar[bool]
    inverse: ClassVar[str]

    async def apply(self, args: IssueArgs, *, dry_run: bool) -> ActionResult:
        issue = await self.api.issue(args.issue)
        changed = bool(issue.archived_at) != self.archive
        verb = "archive" if self.archive else "unarchive"
        data = {"id": issue.id, "identifier": issue.identifier, "changed": changed and not dry_run}
        if not changed:
            return Unchanged(summary=f"{_label(issue)} was already {verb}d", data=data)
        if dry_run:
            return ActionResult(summary=f"would {verb} {_label(issue)}", data=data)
        await self.api.set_archived(issue.id, archived=self.archive)
        return ActionResult(summary=f"{verb}d {_label(issue)}", data=data)

    def rollback(self, args: IssueArgs, result: ActionResult) -> RollbackStep | None:
        if not result.data["changed"]:
            return None
        verb = "unarchive" if self.archive else "archive"
        return RollbackStep(
            action=self.inverse,
            args={"issue": result.data["id"]},
            description=f"{verb} {result.data['identifier']} again",
        )


class ArchiveIssue(_SetArchived):
    name = "linear.archive_issue"
    description = "Archive a Linear issue (it can be unarchived)."
    archive = True
    inverse = "linear.unarchive_issue"


class UnarchiveIssue(_SetArchived):
    name = "linear.unarchive_issue"
    description = "Bring an archived Linear issue back."
    archive = False
    inverse = "linear.archive_issue"


class AnnotateIssue(_Write[CommentArgs]):
    """Comments on an issue; named for the policy's low-risk "annotate" verb."""

    name = "linear.annotate_issue"
    description = "Comment on a Linear issue."
    args_model = CommentArgs

    async def apply(self, args: CommentArgs, *, dry_run: bool) -> ActionResult:
        issue = await self.api.issue(args.issue)
        if dry_run:
            return ActionResult(summary=f"would comment on {_label(issue)}", data=_issue_data(issue))
        comment = await self.api.create_comment(issue.id, args.body)
        return ActionResult(
            summary=f"commented on {_label(issue)}",
            data={"issue": issue.identifier, "comment_id": comment.id, "url": comment.url},
        )

    def rollback(self, args: CommentArgs, result: ActionResult) -> RollbackStep:
        return RollbackStep(
            action=DeleteComment.name,
            args={"comment_id": result.data["comment_id"]},
            description=f"delete the comment on {result.data['issue']}",
        )


class DeleteComment(_Write[CommentIdArgs]):
    name = "linear.delete_comment"
    description = "Delete a comment from a Linear issue."
    args_model = CommentIdArgs
    risk = RiskHint.HIGH
    idempotent = True

    async def apply(self, args: CommentIdArgs, *, dry_run: bool) -> ActionResult:
        comment = await self.api.comment(args.comment_id)
        where = comment.issue.identifier if comment.issue else "its issue"
        if not dry_run:
            await self.api.delete_comment(comment.id)
        verb = "would delete" if dry_run else "deleted"
        return ActionResult(
            summary=f"{verb} a comment on {where}", data={"comment_id": comment.id, "issue": where}
        )


class AttachLink(_Write[LinkArgs]):
    """Attaches a link (the plan's Slack thread, a dashboard) to an issue. Linear keeps one attachment
    per URL, so attaching a URL that is already there updates it, and the rollback leaves it alone."""

    name = "linear.attach_link"
    description = "Attach a link, such as the plan's Slack thread, to a Linear issue."
    args_model = LinkArgs
    idempotent = True

    async def apply(self, args: LinkArgs, *, dry_run: bool) -> ActionResult:
        issue, existing = await self.api.issue_with_link(args.issue, args.url)
        verb = "update the link on" if existing else "attach the link to"
        if dry_run:
            return ActionResult(
                summary=f"would {verb} {_label(issue)}",
                data={"issue": issue.identifier, "url": args.url, "existed": bool(existing)},
            )
        attachment = await self.api.create_attachment(issue.id, args.url, args.title, args.subtitle)
        done = "updated the link on" if existing else "attached the link to"
        return ActionResult(
            summary=f"{done} {_label(issue)}: {args.title}",
            data={
                "issue": issue.identifier,
                "attachment_id": attachment.id,
                "url": args.url,
                "existed": bool(existing),
            },
        )

    def rollback(self, args: LinkArgs, result: ActionResult) -> RollbackStep | None:
        if result.data["existed"]:
            return None
        return RollbackStep(
            action=DeleteAttachment.name,
            args={"attachment_id": result.data["attachment_id"]},
            description=f"remove the link from {result.data['issue']}",
        )


class DeleteAttachment(_Write[AttachmentIdArgs]):
    name = "linear.delete_attachment"
    description = "Remove a link attached to a Linear issue."
    args_model = AttachmentIdArgs
    risk = RiskHint.HIGH
    idempotent = True

    async def apply(self, args: AttachmentIdArgs, *, dry_run: bool) -> ActionResult:
        attachment = await self.api.attachment(args.attachment_id)
        where = attachment.issue.identifier if attachment.issue else "its issue"
        if not dry_run:
            await self.api.delete_attachment(attachment.id)
        verb = "would remove" if dry_run else "removed"
        return ActionResult(
            summary=f"{verb} the link {attachment.url} from {where}",
            data={"attachment_id": attachment.id, "issue": where, "url": attachment.url},
        )


def _label(issue: Issue) -> str:
    return f"{issue.identifier} {issue.title!r}"


def _issue_data(issue: Issue) -> dict[str, Any]:
    return {
        "id": issue.id,
        "identifier": issue.identifier,
        "title": issue.title,
        "url": issue.url,
        "state": issue.state.name if issue.state else None,
        "team": issue.team.key if issue.team else None,
        "assignee": issue.assignee.name if issue.assignee else None,
        "archived": issue.archived_at is not None,
    }
