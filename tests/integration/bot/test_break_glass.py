"""Blocked plans and break-glass, on both databases: a freeze blocks a plan instead of refusing it,
an admin forces it through with a reason, and lifting the freeze releases what it held back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import break_glass, freezes, plans
from bot.audit import AuditKind
from bot.db.engine import SessionFactory
from bot.db.models import AuditEvent, Execution, Plan
from bot.domain import Actor, PlanStatus
from bot.errors import Conflict, PolicyDenied, UserError
from tests.builders import ALICE, BOB, CAROL, TEAM, policy, restart_draft, stored_plan

STRICT = policy(roles={ALICE.user_id: ["operator"], BOB.user_id: ["approver"], CAROL.user_id: ["admin"]})
FROZEN = "Denied: prod is frozen until"


async def freeze_prod(sessions: SessionFactory) -> None:
    async with sessions.begin() as session:
        await freezes.freeze(
            session, actor=CAROL, policy=STRICT, environment="prod", length=timedelta(hours=2), reason="sale"
        )


async def load(sessions: SessionFactory, plan_id: int) -> tuple[Plan, Execution | None]:
    async with sessions() as session:
        plan = await session.get_one(Plan, plan_id)
        execution = await session.scalar(select(Execution).where(Execution.plan_id == plan_id))
        return plan, execution


async def events(sessions: SessionFactory, kind: AuditKind) -> list[AuditEvent]:
    async with sessions() as session:
        return list((await session.scalars(select(AuditEvent).where(AuditEvent.kind == kind))).all())


async def test_a_plan_for_a_frozen_environment_is_stored_blocked(sessions: SessionFactory) -> None:
    await freeze_prod(sessions)

    plan_id = await stored_plan(sessions, using=STRICT)

    plan, execution = await load(sessions, plan_id)
    assert plan.status == PlanStatus.BLOCKED
    assert execution is None
    assert plan.decision["break_glass_offered"]
    assert any(reason.startswith(FROZEN) for reason in plan.decision["reasons"])


async def test_approvals_are_collected_during_a_freeze_and_the_plan_waits_blocked(
    sessions: SessionFactory,
) -> None:
    plan_id = await stored_plan(sessions, using=STRICT)
    await freeze_prod(sessions)

    async with sessions.begin() as session:
        approved = await plans.approve(session, plan_id=plan_id, approver=BOB, policy=STRICT)

    assert approved.execution is None
    plan, _ = await load(sessions, plan_id)
    assert plan.status == PlanStatus.BLOCKED
    [blocked] = await events(sessions, AuditKind.PLAN_BLOCKED)
    assert blocked.detail["reasons"][0].startswith(FROZEN)


async def test_lifting_the_freeze_starts_the_blocked_plans_that_may_now_run(sessions: SessionFactory) -> None:
    plan_id = await stored_plan(sessions, using=STRICT)
    await freeze_prod(sessions)
    async with sessions.begin() as session:
        await plans.approve(session, plan_id=plan_id, approver=BOB, policy=STRICT)
    unapproved = await stored_plan(sessions, using=STRICT, source_key="trigger-2")

    async with sessions.begin() as session:
        await freezes.unfreeze(session, actor=CAROL, policy=STRICT, environment="prod")
        started = await break_glass.release_blocked(session, team_id=TEAM, environment="prod", policy=STRICT)

    assert started == [plan_id]  # the other still lacks its approval
    assert (await load(sessions, plan_id))[0].status == PlanStatus.APPROVED
    assert (await load(sessions, unapproved))[0].status == PlanStatus.BLOCKED


async def test_an_admin_breaks_glass_with_a_reason_and_it_is_audited(sessions: SessionFactory) -> None:
    await freeze_prod(sessions)
    plan_id = await stored_plan(sessions, using=STRICT)

    async with sessions.begin() as session:
        broken = await break_glass.break_glass(
            session, plan_id=plan_id, actor=CAROL, reason="  checkout is down  ", policy=STRICT
        )

    assert any(r.startswith(FROZEN) for r in broken.bypassed)
    assert any(r.startswith("Denied: has 0 of 1 required approvals") for r in broken.bypassed)
    plan, execution = await load(sessions, plan_id)
    assert (plan.status, plan.break_glass_by, plan.break_glass_reason) == (
        PlanStatus.APPROVED,
        CAROL.user_id,
        "checkout is down",
    )
    assert execution is not None
    [event] = await events(sessions, AuditKind.BREAK_GLASS)
    assert event.actor_id == CAROL.user_id
    assert event.detail["reason"] == "checkout is down"


async def test_a_high_risk_plan_runs_on_break_glass_with_one_approval(sessions: SessionFactory) -> None:
    draft = restart_draft()
    delete_like = draft.model_copy(
        update={"steps": [s.model_copy(update={"action": "kubernetes.delete_pod"}) for s in draft.steps[:1]]}
    )
    plan_id = await stored_plan(sessions, using=STRICT, draft=delete_like)
    async with sessions.begin() as session:
        approved = await plans.approve(session, plan_id=plan_id, approver=BOB, policy=STRICT)
    assert approved.execution is None  # one of two

    async with sessions.begin() as session:
        broken = await break_glass.break_glass(
            session, plan_id=plan_id, actor=CAROL, reason="pods wedged", policy=STRICT
        )

    assert broken.bypassed == ["Denied: has 1 of 2 required approvals from approver or admin"]
    assert (await load(sessions, plan_id))[1] is not None


@pytest.mark.parametrize(
    ("actor", "reason", "error", "message"),
    [
        (BOB, "urgent", PolicyDenied, "break-glass needs the admin role"),
        (ALICE, "urgent", PolicyDenied, "break-glass needs the admin role"),
        (CAROL, "   ", UserError, "Break-glass needs a reason"),
    ],
)
async def test_break_glass_is_refused_without_admin_or_reason(
    sessions: SessionFactory, actor: Actor, reason: str, error: type[Exception], message: str
) -> None:
    await freeze_prod(sessions)
    plan_id = await stored_plan(sessions, using=STRICT)

    with pytest.raises(error, match=message):
        async with sessions.begin() as session:
            await break_glass.break_glass(session, plan_id=plan_id, actor=actor, reason=reason, policy=STRICT)

    plan, execution = await load(sessions, plan_id)
    assert (plan.status, plan.break_glass_by, execution) == (PlanStatus.BLOCKED, None, None)
    assert await events(sessions, AuditKind.BREAK_GLASS) == []


async def test_break_glass_on_a_finished_plan_is_a_conflict(sessions: SessionFactory) -> None:
    plan_id = await stored_plan(sessions, using=STRICT)
    async with sessions.begin() as session:
        await plans.reject(session, plan_id=plan_id, actor=BOB, reason="no")

    with pytest.raises(Conflict, match="nothing to break glass for"):
        async with sessions.begin() as session:
            await break_glass.break_glass(session, plan_id=plan_id, actor=CAROL, reason="x", policy=STRICT)
