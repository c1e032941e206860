"""A worker that dies at any point of a step, and what happens next: safe steps are re-run, unsafe ones
pause the plan until an approver retries, skips or rolls back. Also the rollback offered after a cancel.

A "crash" here is a worker task cancelled while it hangs at a chosen moment, with nothing written
afterwards: the database holds exactly what that worker had committed, as after kill -9
(tests/e2e/test_worker_crash.py does the real kill).
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot import audit, plans, resolutions
from bot.audit import AuditKind
from bot.db.engine import SessionFactory
from bot.db.models import AuditEvent
from bot.domain import Actor, PlanStatus, Resolution, StepSpec, StepStage, StepState
from bot.errors import Conflict, PolicyDenied
from bot.policy import Policy
from bot.worker import Worker
from tests.builders import ALICE, BOB, CAROL, POLICY, TEAM, finish_started_step, policy, start_first_step
from tests.fakes.dial import Dials
from tests.integration.bot.dial_plans import (
    RecordingObserver,
    approved_plan,
    check_dial,
    dial_draft,
    set_dial,
    view,
)
from tools.common.registry import Registry

LEASE = 0.3


def bump_dial(name: str) -> StepSpec:
    return StepSpec(stage=StepStage.ACT, action="dial.bump", args={"name": name}, description="bump")


async def crash_when_hung(sessions: SessionFactory, dials: Dials) -> None:
    """Run a worker until a dial call hangs, kill it, and wait for its lease to run out."""
    doomed = Worker(
        sessions=sessions,
        registry=Registry(dials.actions()),
        observer=RecordingObserver(),
        lease_seconds=LEASE,
        poll_seconds=0.05,
        owner="doomed",
    )
    task = asyncio.create_task(doomed.run_once())
    await asyncio.wait_for(dials.hung.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(LEASE + 0.05)


async def crashed_plan(sessions: SessionFactory, dials: Dials, second: StepSpec, moment: str) -> int:
    """a: 0 → 1 completes; the worker dies inside `second` on dial b, `moment` its effect."""
    plan_id = await approved_plan(sessions, dial_draft(set_dial("a", 1), second, check_dial("a", 1)))
    dials.hangs[(second.action.split(".")[1], "b")] = moment
    await crash_when_hung(sessions, dials)
    return plan_id


@pytest.mark.parametrize("moment", ["before", "after"])
async def test_an_idempotent_step_interrupted_anywhere_is_run_again(
    sessions: SessionFactory, worker: Worker, dials: Dials, moment: str
) -> None:
    plan_id = await crashed_plan(sessions, dials, set_dial("b", 7), moment)

    assert await worker.run_once()

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.SUCCEEDED
    assert dials.values == {"a": 1, "b": 7}
    assert dials.calls.count(("set", "a", 1)) == 1  # the completed step is not repeated


async def test_a_crash_between_steps_repeats_nothing(
    sessions: SessionFactory, worker: Worker, dials: Dials
) -> None:
    """The first step was recorded as done and the second never started: only the second runs,
    even though it is not safe to repeat, because nothing says it ever began."""
    plan_id = await approved_plan(sessions, dial_draft(set_dial("a", 1), bump_dial("b")))
    async with sessions.begin() as session:
        lease, step = await start_first_step(session, owner="doomed", lease_seconds=0.01)
    dials.values["a"] = 1
    async with sessions.begin() as session:
        await finish_started_step(session, lease, step, output={"previous": 0})
    await asyncio.sleep(0.05)

    await worker.run_once()

    assert (await view(sessions, plan_id)).status == PlanStatus.SUCCEEDED
    assert dials.calls == [("bump", "b", 1)]
    assert dials.values == {"a": 1, "b": 1}


async def test_a_lease_handed_back_is_audited_and_taken_over_at_once(
    sessions: SessionFactory, worker: Worker, dials: Dials
) -> None:
    """A worker shutting down hands its execution back (bot/worker.py): the plan's log says so, and
    the next worker goes on without waiting out the 30 s lease."""
    plan_id = await approved_plan(sessions, dial_draft(set_dial("a", 1)))
    async with sessions.begin() as session:
        lease, _ = await start_first_step(session, owner="leaving", lease_seconds=30)
    leaving = Worker(
        sessions=sessions,
        registry=Registry(dials.actions()),
        observer=RecordingObserver(),
        lease_seconds=30,
        poll_seconds=0.05,
        owner="leaving",
    )

    assert await leaving.release_leases() == 1
    assert await leaving.release_leases() == 0  # nothing left to hand back, nothing more logged

    assert await worker.run_once() is True
    assert (await view(sessions, plan_id)).status == PlanStatus.SUCCEEDED
    async with sessions() as session:
        events = await audit.for_plan(session, team_id=TEAM, plan_id=plan_id)
        assert await audit.verify_chain(session, team_id=TEAM) is None
    released = [(e.actor_id, e.detail) for e in events if e.kind == AuditKind.EXECUTION_RELEASED]
    assert released == [("leaving", {"execution_id": lease.execution_id})]


async def test_a_worker_whose_execution_was_taken_over_writes_nothing_more(
    sessions: SessionFactory, worker: Worker
) -> None:
    """The slow worker's lease ran out mid-step and another worker took over and finished; the slow
    one's late result is refused instead of overwriting what the plan shows."""
    plan_id = await approved_plan(sessions, dial_draft(set_dial("a", 1)))
    async with sessions.begin() as session:
        lease, step = await start_first_step(session, owner="slow", lease_seconds=0.01)
    await asyncio.sleep(0.05)
    assert await worker.run_once()

    with pytest.raises(Conflict, match="taken over by another worker"):
        async with sessions.begin() as session:
            await finish_started_step(session, lease, step, output={"late": True})

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.SUCCEEDED
    assert result.steps[0].output == {"previous": 0, "value": 1}
    async with sessions() as session:
        assert await audit.verify_chain(session, team_id=TEAM) is None


@pytest.mark.parametrize("moment", ["before", "after"])
async def test_an_unsafe_step_interrupted_pauses_the_plan_for_a_decision(
    sessions: SessionFactory, worker: Worker, dials: Dials, moment: str
) -> None:
    plan_id = await crashed_plan(sessions, dials, bump_dial("b"), moment)
    bumps = dials.calls.count(("bump", "b", 1))

    assert await worker.run_once()

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.PAUSED
    assert "may or may not have taken effect" in result.status_reason
    assert [s.state for s in result.steps] == [StepState.SUCCEEDED, StepState.FAILED, StepState.QUEUED]
    assert dials.calls.count(("bump", "b", 1)) == bumps  # not repeated blindly
    assert await worker.run_once() is False  # a paused plan waits for people, not for a worker


async def test_retry_runs_the_interrupted_step_again(
    sessions: SessionFactory, worker: Worker, dials: Dials
) -> None:
    plan_id = await crashed_plan(sessions, dials, bump_dial("b"), "before")
    await worker.run_once()

    await resolve(sessions, plan_id, Resolution.RETRY)
    await worker.run_once()

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.SUCCEEDED
    assert dials.values == {"a": 1, "b": 1}


async def test_skip_vouches_for_the_step_and_carries_on(
    sessions: SessionFactory, worker: Worker, dials: Dials
) -> None:
    plan_id = await crashed_plan(sessions, dials, bump_dial("b"), "after")
    await worker.run_once()

    await resolve(sessions, plan_id, Resolution.SKIP)
    await worker.run_once()

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.SUCCEEDED
    assert [s.state for s in result.steps] == [StepState.SUCCEEDED, StepState.SKIPPED, StepState.SUCCEEDED]
    assert dials.values == {"a": 1, "b": 1}  # bumped once, by the worker that died


async def test_abort_rolls_back_the_completed_steps(
    sessions: SessionFactory, worker: Worker, dials: Dials
) -> None:
    plan_id = await crashed_plan(sessions, dials, bump_dial("b"), "before")
    await worker.run_once()

    await resolve(sessions, plan_id, Resolution.ROLL_BACK)
    await worker.run_once()

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.ROLLED_BACK
    assert dials.values["a"] == 0
    assert [(s.stage, s.state) for s in result.steps][-1] == (StepStage.ROLLBACK, StepState.SUCCEEDED)


async def test_a_cancelled_plan_offers_the_rollback_of_what_it_completed(
    sessions: SessionFactory, worker: Worker, dials: Dials
) -> None:
    plan_id = await approved_plan(sessions, dial_draft(set_dial("a", 1), set_dial("b", 2)))
    dials.hangs[("set", "b")] = "before"
    running = asyncio.create_task(worker.run_once())
    await dials.hung.wait()
    async with sessions.begin() as session:
        await plans.cancel(session, plan_id=plan_id, actor=ALICE, policy=POLICY)
    worker.cancels.notify(plan_id)
    await running
    cancelled = await view(sessions, plan_id)
    assert cancelled.status == PlanStatus.CANCELLED
    assert cancelled.rollback_offered

    await resolve(sessions, plan_id, Resolution.ROLL_BACK)
    await worker.run_once()

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.ROLLED_BACK
    assert dials.values == {"a": 0}
    assert not result.rollback_offered
    with pytest.raises(Conflict, match="has nothing to roll back"):
        await resolve(sessions, plan_id, Resolution.ROLL_BACK)


async def test_a_cancelled_plan_that_changed_nothing_offers_no_rollback(
    sessions: SessionFactory, dials: Dials
) -> None:
    plan_id = await approved_plan(sessions, dial_draft(set_dial("a", 1)))
    async with sessions.begin() as session:
        await plans.cancel(session, plan_id=plan_id, actor=ALICE, policy=POLICY)

    assert not (await view(sessions, plan_id)).rollback_offered
    with pytest.raises(Conflict, match="has nothing to roll back"):
        await resolve(sessions, plan_id, Resolution.ROLL_BACK)


async def test_only_an_approver_decides(sessions: SessionFactory, worker: Worker, dials: Dials) -> None:
    plan_id = await crashed_plan(sessions, dials, bump_dial("b"), "before")
    await worker.run_once()
    strict = policy(roles={ALICE.user_id: ["operator"], BOB.user_id: ["approver"], CAROL.user_id: ["admin"]})

    with pytest.raises(PolicyDenied, match="needs the approver or admin role"):
        await resolve(sessions, plan_id, Resolution.RETRY, actor=ALICE, using=strict)

    await resolve(sessions, plan_id, Resolution.RETRY, actor=CAROL, using=strict)
    assert (await view(sessions, plan_id)).status == PlanStatus.APPROVED


async def test_a_plan_that_is_not_paused_cannot_be_retried(sessions: SessionFactory, dials: Dials) -> None:
    plan_id = await approved_plan(sessions, dial_draft(set_dial("a", 1)))

    with pytest.raises(Conflict, match="is not waiting for a decision"):
        await resolve(sessions, plan_id, Resolution.RETRY)


async def resolve(
    sessions: SessionFactory,
    plan_id: int,
    resolution: Resolution,
    *,
    actor: Actor = BOB,
    using: Policy = POLICY,
) -> None:
    async with sessions.begin() as session:
        await resolutions.resolve(session, plan_id=plan_id, actor=actor, resolution=resolution, policy=using)


async def test_the_audit_log_never_holds_secret_looking_step_arguments(sessions: SessionFactory) -> None:
    secret_write = StepSpec(
        stage=StepStage.ACT,
        action="vault.write_secret",
        args={"path": "db/creds", "data": {"password": "hunter2", "user": "app"}},
        description="write the database credentials",
    )
    plan_id = await approved_plan(sessions, dial_draft(secret_write))
    async with sessions.begin() as session:
        await start_first_step(session, owner="w")

    async with sessions() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.kind == AuditKind.STEP_STARTED, AuditEvent.plan_id == plan_id)
        )
    assert event is not None
    assert event.detail["args"] == {"path": "db/creds", "data": {"password": "[redacted]", "user": "app"}}
