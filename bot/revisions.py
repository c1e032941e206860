"""Plan revisions (Atlantis's rule): the requester, or an admin, edits a plan that waits for
approval; the edit makes the next version of the same plan, asks the policy again, and voids every
approval of the version it replaces, which is kept with whose approvals it voided."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, plan_diff, plans
from bot.approval_rules import ApprovalRules
from bot.audit import AuditKind
from bot.clock import utcnow
from bot.db.models import Approval, Execution, Plan, PlanStep, PlanVersion
from bot.domain import Actor, PlanDraft, StepSpec
from bot.errors import PolicyDenied, UserError
from bot.plan_diff import PlanContent
from bot.policy import Policy


@dataclass(frozen=True)
class Revised:
    plan: Plan
    voided: list[str]
    """Whose approvals of the replaced version the edit voided."""
    execution: Execution | None
    """Queued at once when the new version needs no approval."""


async def check_can_edit(
    session: AsyncSession, *, plan_id: int, editor: Actor, policy: Policy, version: int | None = None
) -> Plan:
    """Refuse early (before the edit dialog opens) when the plan is not open, the card is outdated,
    or the editor is neither its requester nor an admin."""
    plan = await plans.get(session, team_id=editor.team_id, plan_id=plan_id)
    _authorize(plan, editor, policy, version)
    return plan


async def revise(
    session: AsyncSession,
    *,
    plan_id: int,
    version: int,
    editor: Actor,
    draft: PlanDraft,
    policy: Policy,
    approvals: ApprovalRules | None = None,
) -> Revised:
    """Replace version `version` of the plan with `draft` as the next version.

    The plan row is locked, so an approval racing the edit is counted either for the old version
    (and voided here) or refused as outdated. The policy is asked again, for the plan's requester;
    a draft it denies outright leaves the plan as it was.
    """
    plan = await plans.get(session, team_id=editor.team_id, plan_id=plan_id, for_update=True)
    _authorize(plan, editor, policy, version)
    if plans.version_hash(draft, plan.version) == plan.plan_hash:
        raise UserError(f"Nothing changed: that is plan #{plan.id} v{plan.version} as it stands.")
    requester = Actor(team_id=plan.team_id, user_id=plan.requester_id)
    judged, decision = await plans.decide(session, requester=requester, draft=draft, policy=policy)
    before = await _content(session, plan)
    voided = list(
        (
            await session.scalars(
                select(Approval.user_id)
                .where(Approval.plan_id == plan.id, Approval.plan_hash == plan.plan_hash)
                .order_by(Approval.id)
            )
        ).all()
    )
    _keep_version(session, plan, before, voided, editor)
    await session.execute(delete(PlanStep).where(PlanStep.plan_id == plan.id))
    rows = [plans.step_row(position, step) for position, step in enumerate(judged.steps)]
    for row in rows:
        row.plan_id = plan.id
    session.add_all(rows)
    confirm_word = approvals.confirm_word(judged) if approvals else None
    plans.apply_draft(plan, judged, decision, version=plan.version + 1, confirm_word=confirm_word)
    plan.status_reason = ""
    plan.status_actor_id = ""
    after = PlanContent(judged.intent, plan.target, judged.steps, judged.rollback)
    await audit.record(
        session,
        team_id=plan.team_id,
        actor_id=editor.user_id,
        kind=AuditKind.PLAN_REVISED,
        plan_id=plan.id,
        detail={
            "from_version": plan.version - 1,
            "to_version": plan.version,
            "plan_hash": plan.plan_hash,
            "voided_approvals": voided,
            "changes": plan_diff.changes(before, after),
            "decision": plan.decision,
        },
    )
    execution = None
    if decision.allow and decision.required_approvals == 0:
        execution = await plans.start_execution(session, plan)
    return Revised(plan=plan, voided=voided, execution=execution)


async def previous_version(session: AsyncSession, plan: Plan) -> PlanVersion | None:
    """The version the last edit replaced; None for a plan never edited."""
    if plan.version <= 1:
        return None
    return await session.scalar(
        select(PlanVersion).where(
            PlanVersion.team_id == plan.team_id,
            PlanVersion.plan_id == plan.id,
            PlanVersion.version == plan.version - 1,
        )
    )


def kept_content(version: PlanVersion) -> PlanContent:
    steps = [StepSpec.model_validate(step) for step in version.content["steps"]]
    return PlanContent(version.intent, version.target, steps, version.rollback)


def _authorize(plan: Plan, editor: Actor, policy: Policy, version: int | None) -> None:
    plans.require_open_for_decision(plan.id, plan.status, verb="edit")
    plans.require_version(plan, version)
    if editor.user_id != plan.requester_id and not policy.is_admin(editor.user_id):
        raise PolicyDenied(
            f"Only <@{plan.requester_id}>, who asked for plan #{plan.id}, or an admin may edit it."
        )


async def _content(session: AsyncSession, plan: Plan) -> PlanContent:
    return PlanContent(plan.intent, dict(plan.target), await plans.stored_steps(session, plan), plan.rollback)


def _keep_version(
    session: AsyncSession, plan: Plan, content: PlanContent, voided: list[str], editor: Actor
) -> None:
    session.add(
        PlanVersion(
            team_id=plan.team_id,
            plan_id=plan.id,
            version=plan.version,
            plan_hash=plan.plan_hash,
            intent=plan.intent,
            summary=plan.summary,
            target=dict(plan.target),
            rollback=plan.rollback,
            content={
                "steps": [step.model_dump(mode="json") for step in content.steps],
                "workflow_inputs": plan.workflow_inputs,
            },
            voided_approvers=voided,
            replaced_by=editor.user_id,
            replaced_at=utcnow(),
        )
    )
