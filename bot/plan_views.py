"""Reads a plan with its steps, approvals and latest step runs into one `PlanView` for rendering."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import change_sessions, memory, plan_diff, plans, resolutions, revisions
from bot.approval_rules import ESCALATION_KINDS
from bot.audit import AuditKind
from bot.db.models import (
    Approval,
    AuditEvent,
    Execution,
    Plan,
    PlanStep,
    ScheduledJob,
    SlackMessage,
    StepRun,
)
from bot.domain import (
    ApprovalView,
    EscalationView,
    ExecutionStatus,
    PlannerRef,
    PlanStatus,
    PlanView,
    PolicyDecision,
    Resolution,
    RevisionView,
    Risk,
    StepStage,
    StepState,
    StepView,
    Target,
    WorkflowRef,
)
from tools.common.redaction import Redactor

_REDACTOR = Redactor()


async def load(session: AsyncSession, *, team_id: str, plan_id: int) -> PlanView:
    plan = await plans.get(session, team_id=team_id, plan_id=plan_id)
    steps = (
        await session.scalars(select(PlanStep).where(PlanStep.plan_id == plan.id).order_by(PlanStep.position))
    ).all()
    approvals = (
        await session.scalars(
            select(Approval)
            .where(Approval.plan_id == plan.id, Approval.plan_hash == plan.plan_hash)
            .order_by(Approval.id)
        )
    ).all()
    execution = await session.scalar(select(Execution).where(Execution.plan_id == plan.id))
    runs = (
        (
            await session.scalars(
                select(StepRun).where(StepRun.execution_id == execution.id).order_by(StepRun.id)
            )
        ).all()
        if execution
        else []
    )
    notes = await memory.for_service(session, team_id=team_id, service=plan.target["name"])
    in_session = await change_sessions.name_for_plan(session, team_id=team_id, plan_id=plan.id)
    view = _view(plan, steps, approvals, runs, execution).model_copy(
        update={"notes": notes, "session": in_session}
    )
    if plan.status in plans.OPEN_FOR_DECISION:
        view = await _with_escalation(session, plan, view)
    replaced = await revisions.previous_version(session, plan)
    if replaced is None:
        return view
    specs = [plans.step_spec(step) for step in steps]
    current = plan_diff.PlanContent(plan.intent, plan.target, specs, plan.rollback)
    revision = RevisionView(
        version=plan.version,
        edited_by=replaced.replaced_by,
        edited_at=replaced.replaced_at,
        changes=plan_diff.changes(revisions.kept_content(replaced), current),
        voided_approvers=replaced.voided_approvers,
    )
    return view.model_copy(update={"revision": revision})


async def _with_escalation(session: AsyncSession, plan: Plan, view: PlanView) -> PlanView:
    """The approval window of the plan's current version and the escalation steps taken in it."""
    closes_at = await session.scalar(
        select(ScheduledJob.due_at).where(
            ScheduledJob.plan_id == plan.id,
            ScheduledJob.kind == ESCALATION_KINDS["expire"],
            ScheduledJob.key == f"v{plan.version}",
            ScheduledJob.done_at.is_(None),
        )
    )
    events = await session.execute(
        select(AuditEvent.detail, AuditEvent.created_at)
        .where(
            AuditEvent.team_id == plan.team_id,
            AuditEvent.plan_id == plan.id,
            AuditEvent.kind == AuditKind.PLAN_ESCALATED,
        )
        .order_by(AuditEvent.id)
    )
    escalations = [
        EscalationView(step=detail["step"], at=at)
        for detail, at in events
        if detail["version"] == plan.version
    ]
    return view.model_copy(update={"approval_closes_at": closes_at, "escalations": escalations})


async def card_location(session: AsyncSession, *, team_id: str, plan_id: int) -> SlackMessage | None:
    return await session.scalar(
        select(SlackMessage).where(SlackMessage.team_id == team_id, SlackMessage.plan_id == plan_id)
    )


def _view(
    plan: Plan,
    steps: Sequence[PlanStep],
    approvals: Sequence[Approval],
    runs: Sequence[StepRun],
    execution: Execution | None,
) -> PlanView:
    runs_by_step = {(run.stage, run.position): run for run in runs}
    step_views = [
        _step_view(step.position, step.stage, step.action, step.args, step.description, run)
        for step in steps
        for run in [runs_by_step.get((step.stage, step.position))]
    ]
    step_views += [
        _step_view(run.position, run.stage, run.action, run.args, "Roll back", run)
        for run in runs
        if run.stage == StepStage.ROLLBACK
    ]
    return PlanView(
        id=plan.id,
        team_id=plan.team_id,
        requester_id=plan.requester_id,
        intent=plan.intent,
        summary=plan.summary,
        target=Target.model_validate(plan.target),
        status=PlanStatus(plan.status),
        risk=Risk.model_validate(plan.risk),
        decision=PolicyDecision.model_validate(plan.decision),
        rollback=plan.rollback,
        steps=step_views,
        approvals=[ApprovalView(user_id=a.user_id, approved_at=a.created_at) for a in approvals],
        created_at=plan.created_at,
        finished_at=plan.finished_at,
        status_reason=plan.status_reason,
        status_actor_id=plan.status_actor_id,
        execution_note=_execution_note(execution),
        rollback_offered=resolutions.rollback_offered(PlanStatus(plan.status), runs),
        break_glass_by=plan.break_glass_by or "",
        break_glass_reason=plan.break_glass_reason or "",
        workflow=_workflow(plan),
        version=plan.version,
        confirm_word=plan.confirm_word or "",
        planner=_planner(plan),
    )


def _workflow(plan: Plan) -> WorkflowRef | None:
    if plan.workflow_name is None:
        return None
    return WorkflowRef(
        name=plan.workflow_name, version=plan.workflow_version or "", override=plan.workflow_override or ""
    )


def _planner(plan: Plan) -> PlannerRef | None:
    if plan.planner is None:
        return None
    return PlannerRef(name=plan.planner, model=plan.planner_model or "", note=plan.planner_note or "")


def _step_view(
    position: int,
    stage: str,
    action: str,
    args: dict,
    description: str,
    run: StepRun | None,
) -> StepView:
    return StepView(
        position=position,
        stage=StepStage(stage),
        action=action,
        # For display: values under secret-sounding keys (a Vault write's data) never reach Slack.
        args=_REDACTOR.redact_data(args),
        description=description,
        state=StepState(run.status) if run else StepState.QUEUED,
        started_at=run.started_at if run else None,
        finished_at=run.finished_at if run else None,
        output_summary=run.output_summary if run else "",
        error=run.error if run else "",
        output=run.output if run else {},
    )


def _execution_note(execution: Execution | None) -> str:
    if execution is None:
        return ""
    if execution.cancel_requested and execution.finished_at is None:
        return "Cancelling: the running step finishes, the rest is skipped."
    if execution.resolution and execution.status in (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING):
        return f"Resuming: {resolutions.RESOLUTION_LABELS[Resolution(execution.resolution)]}."
    if execution.attempts > 1 and execution.finished_at is None:
        return f"Taken over by worker {execution.lease_owner} (attempt {execution.attempts})."
    return ""
