import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot import audit, plans
from bot.clock import utcnow
from bot.db.engine import SessionFactory
from bot.db.models import Approval, Execution, Plan
from bot.domain import Actor, ExecutionStatus, PlanStatus, RiskLevel
from bot.errors import Conflict, NotFound, PolicyDenied, UserError
from tests.builders import ALICE, BOB, CAROL, POLICY, TEAM, scale_draft, stored_plan


async def count(sessions: SessionFactory, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_same_request_delivered_twice_creates_one_plan(sessions: SessionFactory) -> None:
    first = await stored_plan(sessions, source_key="trigger-42")
    second = await stored_plan(sessions, source_key="trigger-42")

    assert first == second
    assert await count(sessions, Plan) == 1


async def test_requester_cannot_approve_own_plan(sessions: SessionFactory) -> None:
    plan_id = await stored_plan(sessions)

    with pytest.raises(PolicyDenied, match="you requested this plan"):
        async with sessions.begin() as session:
            await plans.approve(session, plan_id=plan_id, approver=ALICE, policy=POLICY)

    assert await count(sessions, Approval) == 0


async def test_approval_by_someone_else_queues_one_execution(sessions: SessionFactory) -> None:
    plan_id = await stored_plan(sessions)

    async with sessions.begin() as session:
        approved = await plans.approve(session, plan_id=plan_id, approver=BOB, policy=POLICY)

    assert approved.execution is not None
    async with sessions() as session:
        plan = await plans.get(session, team_id=TEAM, plan_id=plan_id)
        execution = await session.scalar(select(Execution))
    assert plan.status == PlanStatus.APPROVED
    assert execution is not None and execution.status == ExecutionStatus.QUEUED


async def test_double_click_on_approve_records_one_approval(sessions: SessionFactory) -> None:
    plan_id = await stored_plan(sessions)
    async with sessions.begin() as session:
        await plans.approve(session, plan_id=plan_id, approver=BOB, policy=POLICY)

    with pytest.raises(Conflict):
        async with sessions.begin() as session:
            await plans.approve(session, plan_id=plan_id, approver=BOB, policy=POLICY)

    assert await count(sessions, Approval) == 1
    assert await count(sessions, Execution) == 1


async def test_concurrent_approvals_start_exactly_one_execution(sessions: SessionFactory) -> None:
    plan_id = await stored_plan(sessions)
    approvers = [Actor(team_id=TEAM, user_id=f"U{n:010d}") for n in range(100)]

    async def approve(approver: Actor) -> str:
        try:
            async with sessions.begin() as session:
                await plans.approve(session, plan_id=plan_id, approver=approver, policy=POLICY)
        except Conflict:
            return "late"
        return "approved"

    outcomes = await asyncio.gather(*(approve(a) for a in approvers))

    assert outcomes.count("approved") == 1
    assert await count(sessions, Execution) == 1


async def test_approval_for_an_older_plan_hash_does_not_count(sessions: SessionFactory) -> None:
    plan_id = await stored_plan(sessions)
    async with sessions.begin() as session:
        plan = await plans.get(session, team_id=TEAM, plan_id=plan_id)
        session.add(
            Approval(
                team_id=TEAM,
                plan_id=plan_id,
                user_id=CAROL.user_id,
                decision="approve",
                plan_hash="0" * 64,
                created_at=plan.created_at,
            )
        )

    async with sessions() as session:
        plan = await plans.get(session, team_id=TEAM, plan_id=plan_id)
        assert await plans.approver_ids(session, plan, valid_for=timedelta(hours=4)) == []


async def test_reject_needs_a_reason_and_ends_the_plan(sessions: SessionFactory) -> None:
    plan_id = await stored_plan(sessions)

    with pytest.raises(UserError, match="Give a reason"):
        async with sessions.begin() as session:
            await plans.reject(session, plan_id=plan_id, actor=BOB, reason="   ")
    async with sessions.begin() as session:
        plan = await plans.reject(session, plan_id=plan_id, actor=BOB, reason="not during the sale")

    assert plan.status == PlanStatus.REJECTED
    assert plan.status_reason == "not during the sale"
    with pytest.raises(Conflict, match="is rejected; there is nothing to approve"):
        async with sessions.begin() as session:
            await plans.approve(session, plan_id=plan_id, approver=BOB, policy=POLICY)


async def test_cancel_before_the_worker_starts_ends_plan_and_execution(sessions: SessionFactory) -> None:
    plan_id = await stored_plan(sessions)
    async with sessions.begin() as session:
        await plans.approve(session, plan_id=plan_id, approver=BOB, policy=POLICY)

    async with sessions.begin() as session:
        plan = await plans.cancel(session, plan_id=plan_id, actor=ALICE, policy=POLICY)

    assert plan.status == PlanStatus.CANCELLED
    async with sessions() as session:
        execution = await session.scalar(select(Execution))
    assert execution is not None and execution.status == ExecutionStatus.CANCELLED
    with pytest.raises(Conflict, match="already ended"):
        async with sessions.begin() as session:
            await plans.cancel(session, plan_id=plan_id, actor=ALICE, policy=POLICY)


async def test_plans_of_another_workspace_are_invisible(sessions: SessionFactory) -> None:
    plan_id = await stored_plan(sessions)
    stranger = Actor(team_id="T9999OTHER1", user_id=BOB.user_id)

    with pytest.raises(NotFound):
        async with sessions.begin() as session:
            await plans.approve(session, plan_id=plan_id, approver=stranger, policy=POLICY)


async def test_every_change_is_audited_in_an_unbroken_chain(sessions: SessionFactory) -> None:
    plan_id = await stored_plan(sessions)
    async with sessions.begin() as session:
        await plans.approve(session, plan_id=plan_id, approver=BOB, policy=POLICY)

    async with sessions() as session:
        kinds = [e.kind for e in await audit.for_plan(session, team_id=TEAM, plan_id=plan_id)]
        assert kinds == ["plan.created", "plan.approved"]
        assert await audit.verify_chain(session, team_id=TEAM) is None


async def test_an_expired_approval_does_not_count(sessions: SessionFactory) -> None:
    plan_id = await stored_plan(sessions)
    async with sessions.begin() as session:
        plan = await plans.get(session, team_id=TEAM, plan_id=plan_id)
        for user_id, age in ((CAROL.user_id, timedelta(hours=5)), (BOB.user_id, timedelta(hours=1))):
            session.add(
                Approval(
                    team_id=TEAM,
                    plan_id=plan_id,
                    user_id=user_id,
                    decision="approve",
                    plan_hash=plan.plan_hash,
                    created_at=utcnow() - age,
                )
            )

    async with sessions() as session:
        plan = await plans.get(session, team_id=TEAM, plan_id=plan_id)
        assert await plans.approver_ids(session, plan, valid_for=timedelta(hours=4)) == [BOB.user_id]


async def test_a_steps_risk_floor_holds_at_approval_as_it_did_at_planning(sessions: SessionFactory) -> None:
    drafted = await scale_draft()
    floored = [drafted.steps[0].model_copy(update={"risk": RiskLevel.HIGH}), *drafted.steps[1:]]
    plan_id = await stored_plan(sessions, draft=drafted.model_copy(update={"steps": floored}))

    async with sessions.begin() as session:
        first = await plans.approve(session, plan_id=plan_id, approver=BOB, policy=POLICY)
    async with sessions.begin() as session:
        second = await plans.approve(session, plan_id=plan_id, approver=CAROL, policy=POLICY)

    assert first.execution is None
    assert second.execution is not None
    async with sessions() as session:
        plan = await plans.get(session, team_id=TEAM, plan_id=plan_id)
    assert plan.risk["level"] == "high"
    assert plan.decision["required_approvals"] == 2
