"""Editing a plan end to end: what the edit dialog shows, and the next version the edit makes.

Entry points for Slack listeners, the CLI and tests alike, as in bot/operations.py."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from bot import operations, plan_views, revisions
from bot.db.models import Plan
from bot.domain import Actor, PlanDraft, PlanView, WorkflowInfo
from bot.errors import NotFound
from bot.operations import Runtime, WorkflowStart
from bot.workflows import forms


@dataclass(frozen=True)
class EditForm:
    view: PlanView
    workflow: WorkflowInfo | None
    """The plan's workflow with the plan's inputs as its fields' values; None: the request's text is
    what gets edited (a plan of its own, or a workflow no longer in the catalog)."""


async def open_edit(runtime: Runtime, *, editor: Actor, plan_id: int, version: int | None) -> EditForm:
    """Refuse early (the plan is not open, the card is outdated, the editor may not), else what the
    edit dialog shows."""
    async with runtime.sessions() as session:
        plan = await revisions.check_can_edit(
            session, plan_id=plan_id, editor=editor, policy=runtime.policy, version=version
        )
        view = await plan_views.load(session, team_id=editor.team_id, plan_id=plan_id)
    return EditForm(view=view, workflow=_prefilled(runtime, plan))


async def edit(
    runtime: Runtime,
    *,
    editor: Actor,
    plan_id: int,
    version: int,
    change: PlanDraft | WorkflowStart,
    intent: str,
) -> PlanView:
    """Plan `change` again (a workflow's reads pin afresh, for the plan's requester) and store it as
    the next version of the plan, whose card is then redrawn in place."""
    async with runtime.sessions() as session:
        plan = await revisions.check_can_edit(
            session, plan_id=plan_id, editor=editor, policy=runtime.policy, version=version
        )
    requester = Actor(team_id=plan.team_id, user_id=plan.requester_id)
    draft = (
        await operations.draft_workflow(runtime, requester=requester, start=change, intent=intent)
        if isinstance(change, WorkflowStart)
        else change
    )
    async with runtime.sessions.begin() as session:
        revised = await revisions.revise(
            session,
            plan_id=plan_id,
            version=version,
            editor=editor,
            draft=draft,
            policy=runtime.policy,
            approvals=runtime.approvals,
        )
        escalating = await operations.schedule_escalation(runtime, session, revised.plan)
    if escalating and runtime.jobs is not None:
        runtime.jobs.wake()
    runtime.notifier.plan_changed(editor.team_id, plan_id)
    if revised.execution is not None and runtime.worker is not None:
        runtime.worker.wake()
    return await operations.status(runtime, actor=editor, plan_id=plan_id)


def form_intent(start: WorkflowStart) -> str:
    """The request an edited form amounts to, as the words that would start it."""
    given = start.inputs.model_dump(mode="json", exclude_none=True)
    pairs = " ".join(f"{name}={shlex.quote(forms.as_text(value))}" for name, value in given.items())
    return f"workflow start {start.name} {pairs}".strip()


def _prefilled(runtime: Runtime, plan: Plan) -> WorkflowInfo | None:
    if plan.workflow_name is None or plan.workflow_inputs is None:
        return None
    inputs = plan.workflow_inputs
    try:
        info = runtime.workflows.info(plan.workflow_name, plan.target["environment"])
    except NotFound:
        return None
    fields = [
        field.model_copy(
            update={"default": None if inputs.get(field.name) is None else forms.as_text(inputs[field.name])}
        )
        for field in info.fields
    ]
    return info.model_copy(update={"fields": fields})
