"""What the API reads about plans: one plan with its execution, and pages of plans, newest first.
Every query filters by the caller's workspace."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import plan_views
from bot.api.models import ExecutionOut, PlanOut, PlanPage, PlanQuery, PlanSummary
from bot.db.models import Execution, Plan
from tools.common.redaction import Redactor


async def plan(session: AsyncSession, *, team_id: str, plan_id: int, redactor: Redactor) -> PlanOut:
    """Raises NotFound for a plan of another workspace as for one that does not exist. Step output
    was redacted when stored; it goes through this deployment's redactor again, so a pattern added
    since (REDACT_PATTERNS) also covers what older steps said."""
    view = await plan_views.load(session, team_id=team_id, plan_id=plan_id)
    execution = await session.scalar(
        select(Execution).where(Execution.team_id == team_id, Execution.plan_id == plan_id)
    )
    steps = [
        step.model_copy(
            update={
                "output": redactor.redact_data(step.output),
                "output_summary": redactor.redact(step.output_summary),
                "error": redactor.redact(step.error),
            }
        )
        for step in view.steps
    ]
    return PlanOut(
        **view.model_dump(include=set(PlanOut.model_fields) - {"steps", "final", "execution"}),
        steps=steps,
        final=view.status.is_final,
        execution=None if execution is None else ExecutionOut.model_validate(execution, from_attributes=True),
    )


async def page(session: AsyncSession, *, team_id: str, query: PlanQuery) -> PlanPage:
    """One page, keyed on the plan id (newest first), so a page costs the same however deep it is."""
    statement = select(Plan).where(Plan.team_id == team_id)
    if query.cursor is not None:
        statement = statement.where(Plan.id < query.cursor)
    if query.status is not None:
        statement = statement.where(Plan.status == query.status)
    if query.requester is not None:
        statement = statement.where(Plan.requester_id == query.requester)
    rows = (await session.scalars(statement.order_by(Plan.id.desc()).limit(query.limit + 1))).all()
    shown = rows[: query.limit]
    return PlanPage(
        plans=[
            PlanSummary(
                id=row.id,
                status=row.status,
                summary=row.summary,
                requester_id=row.requester_id,
                environment=row.target["environment"],
                workflow=row.workflow_name,
                created_at=row.created_at,
                finished_at=row.finished_at,
            )
            for row in shown
        ],
        next_cursor=shown[-1].id if len(rows) > query.limit else None,
    )
