import asyncio

import pytest
from sqlalchemy import select

from bot import executions, plans
from bot.db.engine import SessionFactory
from bot.db.models import Execution
from bot.domain import (
    PlanStatus,
    StepSpec,
    StepStage,
    StepState,
)
from bot.worker import Worker
from tests.builders import ALICE, BOB, POLICY, stored_plan
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


async def test_worker_runs_steps_in_order_and_succeeds(
    sessions: SessionFactory, worker: Worker, dials: Dials, observer: RecordingObserver
) -> None:
    plan_id = await approved_plan(
        sessions, dial_draft(set_dial("a", 1), set_dial("b", 2), check_dial("b", 2))
    )

    assert await worker.run_once() is True

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.SUCCEEDED
    assert [s.state for s in result.steps] == [StepState.SUCCEEDED] * 3
    assert dials.calls == [("set", "a", 1), ("set", "b", 2), ("check", "b", 2)]
    assert observer.finished == [plan_id]
    assert await worker.run_once() is False


async def test_failed_verify_rolls_back_act_steps_in_reverse(
    sessions: SessionFactory, worker: Worker, dials: Dials
) -> None:
    dials.values.update(a=7, b=8)
    plan_id = await approved_plan(
        sessions, dial_draft(set_dial("a", 1), set_dial("b", 2), check_dial("b", 3))
    )

    await worker.run_once()

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.ROLLED_BACK
    assert "dial.check failed: dial b shows 2, expected 3" in result.status_reason
    assert dials.values == {"a": 7, "b": 8}
    assert dials.calls[-2:] == [("set", "b", 8), ("set", "a", 7)]
    assert [s.stage for s in result.steps][-2:] == [StepStage.ROLLBACK, StepStage.ROLLBACK]


async def test_failed_act_step_skips_the_rest_and_undoes_earlier_steps(
    sessions: SessionFactory, worker: Worker, dials: Dials
) -> None:
    dials.fail_set_to.add(2)
    plan_id = await approved_plan(
        sessions, dial_draft(set_dial("a", 1), set_dial("b", 2), check_dial("b", 2))
    )

    await worker.run_once()

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.FAILED
    assert [s.state for s in result.steps[:3]] == [
        StepState.SUCCEEDED,
        StepState.FAILED,
        StepState.SKIPPED,
    ]
    assert "dial b refused 2" in result.steps[1].error
    assert dials.values == {"a": 0}


async def test_failed_rollback_ends_failed_and_says_what_is_left(
    sessions: SessionFactory, worker: Worker, dials: Dials
) -> None:
    dials.values["a"] = 5
    dials.fail_set_to.add(5)
    plan_id = await approved_plan(sessions, dial_draft(set_dial("a", 1), check_dial("a", 9)))

    await worker.run_once()

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.FAILED
    assert "Rollback failed" in result.status_reason
    assert "dial a refused 5" in result.status_reason


async def cancel_during_first_step(
    sessions: SessionFactory, worker: Worker, dials: Dials
) -> tuple[int, asyncio.Task[bool]]:
    """Start a two-step plan, hold its first step, and record a cancel while it runs."""
    plan_id = await approved_plan(sessions, dial_draft(set_dial("a", 1), set_dial("b", 2)))
    dials.stall.clear()
    running = asyncio.create_task(worker.run_once())
    await dials.entered.wait()
    async with sessions.begin() as session:
        await plans.cancel(session, plan_id=plan_id, actor=ALICE, policy=POLICY)
    return plan_id, running


async def test_cancel_between_steps_skips_remaining_steps(
    sessions: SessionFactory, dials: Dials, observer: RecordingObserver
) -> None:
    # A watcher that never polls in time, so only the check between steps can see the cancel.
    worker = Worker(
        sessions=sessions,
        registry=Registry(dials.actions()),
        observer=observer,
        lease_seconds=30,
        poll_seconds=0.05,
        cancel_poll_seconds=60,
        owner="slow-to-notice",
    )
    plan_id, running = await cancel_during_first_step(sessions, worker, dials)
    dials.stall.set()
    await running

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.CANCELLED
    assert [s.state for s in result.steps] == [StepState.SUCCEEDED, StepState.SKIPPED]
    assert "b" not in dials.values


@pytest.mark.parametrize("same_process", [True, False], ids=["notified", "seen-in-database"])
async def test_cancel_stops_a_step_that_never_returns(
    sessions: SessionFactory, worker: Worker, dials: Dials, same_process: bool
) -> None:
    plan_id, running = await cancel_during_first_step(sessions, worker, dials)
    if same_process:
        worker.cancels.notify(plan_id)
    async with asyncio.timeout(1):
        await running

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.CANCELLED
    assert [s.state for s in result.steps] == [StepState.FAILED, StepState.SKIPPED]
    assert result.steps[0].error == "cancelled while running"
    assert dials.values == {}


async def test_execution_deadline_cuts_a_step_that_never_returns(
    sessions: SessionFactory, dials: Dials, observer: RecordingObserver
) -> None:
    impatient = Worker(
        sessions=sessions,
        registry=Registry(dials.actions()),
        observer=observer,
        lease_seconds=30,
        poll_seconds=0.05,
        execution_timeout_seconds=0.3,
        owner="impatient",
    )
    plan_id = await approved_plan(sessions, dial_draft(set_dial("a", 1), set_dial("b", 2)))
    dials.stall.clear()

    await impatient.run_once()

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.FAILED
    assert "dial.set timed out after 0." in result.steps[0].error  # what is left of the 0.3 s
    assert result.steps[1].state == StepState.SKIPPED


async def test_unknown_action_fails_the_plan_with_a_readable_message(
    sessions: SessionFactory, worker: Worker
) -> None:
    step = StepSpec(stage=StepStage.ACT, action="nope.do", args={}, description="?")
    plan_id = await approved_plan(sessions, dial_draft(step))

    await worker.run_once()

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.FAILED
    assert "unknown tool action 'nope.do'" in result.steps[0].error


async def test_expired_lease_is_taken_over_and_finished_once(
    sessions: SessionFactory, worker: Worker, dials: Dials
) -> None:
    plan_id = await approved_plan(sessions, dial_draft(set_dial("a", 1), check_dial("a", 1)))
    async with sessions.begin() as session:
        claimed = await executions.claim(await session.connection(), owner="dead-worker", lease_seconds=0.01)
        assert claimed is not None
    await asyncio.sleep(0.05)

    assert await worker.run_once() is True

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.SUCCEEDED
    async with sessions() as session:
        execution = await session.scalar(select(Execution))
    assert execution is not None and execution.attempts == 2
    assert dials.calls == [("set", "a", 1), ("check", "a", 1)]


async def test_two_workers_share_the_queue_and_run_each_plan_once(
    sessions: SessionFactory, dials: Dials, observer: RecordingObserver
) -> None:
    workers = [
        Worker(
            sessions=sessions,
            registry=Registry(dials.actions()),
            observer=observer,
            lease_seconds=30,
            poll_seconds=0.05,
            owner=f"worker-{n}",
        )
        for n in range(2)
    ]
    plan_ids = []
    for n in range(10):
        draft = dial_draft(set_dial(f"d{n}", n + 1), check_dial(f"d{n}", n + 1))
        plan_id = await stored_plan(sessions, draft=draft, source_key=f"t{n}")
        async with sessions.begin() as session:
            await plans.approve(session, plan_id=plan_id, approver=BOB, policy=POLICY)
        plan_ids.append(plan_id)

    async def drain(worker: Worker) -> int:
        ran = 0
        while await worker.run_once():
            ran += 1
        return ran

    counts = await asyncio.gather(*(drain(w) for w in workers))

    assert sum(counts) == 10
    assert sorted(observer.finished) == sorted(plan_ids)
    assert len([c for c in dials.calls if c[0] == "set"]) == 10
    for plan_id in plan_ids:
        assert (await view(sessions, plan_id)).status == PlanStatus.SUCCEEDED


async def test_a_step_timeout_overrides_the_actions_own(
    sessions: SessionFactory, worker: Worker, dials: Dials
) -> None:
    slow = StepSpec(
        stage=StepStage.ACT,
        action="dial.set",
        args={"name": "a", "value": 1},
        description="set, but quickly",
        timeout_seconds=0.2,
    )
    plan_id = await approved_plan(sessions, dial_draft(slow))
    dials.stall.clear()

    await worker.run_once()

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.FAILED
    assert result.steps[0].error == "dial.set timed out after 0.2s"


def follow_up(step: StepSpec) -> StepSpec:
    return step.model_copy(update={"stage": StepStage.FOLLOW_UP})


async def test_follow_up_steps_run_after_verify_even_when_drafted_before_it(
    sessions: SessionFactory, worker: Worker, dials: Dials
) -> None:
    plan_id = await approved_plan(
        sessions, dial_draft(set_dial("a", 1), follow_up(set_dial("note", 1)), check_dial("a", 1))
    )

    await worker.run_once()

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.SUCCEEDED
    assert [s.stage for s in result.steps] == [StepStage.ACT, StepStage.VERIFY, StepStage.FOLLOW_UP]
    assert dials.calls == [("set", "a", 1), ("check", "a", 1), ("set", "note", 1)]


async def test_a_failed_follow_up_is_shown_but_rolls_nothing_back(
    sessions: SessionFactory, worker: Worker, dials: Dials
) -> None:
    dials.fail_set_to.add(9)
    plan_id = await approved_plan(
        sessions,
        dial_draft(
            set_dial("a", 1),
            check_dial("a", 1),
            follow_up(set_dial("note", 9)),
            follow_up(set_dial("other", 2)),
        ),
    )

    await worker.run_once()

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.SUCCEEDED
    assert [s.state for s in result.steps] == [
        StepState.SUCCEEDED,
        StepState.SUCCEEDED,
        StepState.FAILED,
        StepState.SUCCEEDED,
    ]
    assert "dial note refused 9" in result.steps[2].error
    assert dials.values == {"a": 1, "other": 2}


async def test_follow_ups_of_a_plan_that_failed_verify_never_run(
    sessions: SessionFactory, worker: Worker, dials: Dials
) -> None:
    plan_id = await approved_plan(
        sessions, dial_draft(set_dial("a", 1), check_dial("a", 2), follow_up(set_dial("note", 1)))
    )

    await worker.run_once()

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.ROLLED_BACK
    assert result.steps[2].stage == StepStage.FOLLOW_UP
    assert result.steps[2].state == StepState.SKIPPED
    assert "note" not in dials.values


def bump_dial_again_on_rollback(name: str) -> StepSpec:
    return StepSpec(
        stage=StepStage.ACT,
        action="dial.bump",
        args={"name": name},
        description="bump",
        rerun_on_rollback=True,
    )


async def test_a_step_marked_to_rerun_runs_again_after_the_earlier_steps_are_undone(
    sessions: SessionFactory, worker: Worker, dials: Dials
) -> None:
    dials.values.update(a=7)
    plan_id = await approved_plan(
        sessions, dial_draft(set_dial("a", 1), bump_dial_again_on_rollback("b"), check_dial("a", 9))
    )

    await worker.run_once()

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.ROLLED_BACK
    assert dials.calls[-2:] == [("set", "a", 7), ("bump", "b", 2)]
    assert dials.values == {"a": 7, "b": 2}


async def test_a_rerun_waits_for_every_undo_and_is_skipped_when_one_failed(
    sessions: SessionFactory, worker: Worker, dials: Dials
) -> None:
    dials.values.update(a=7)
    dials.fail_set_to.add(7)
    plan_id = await approved_plan(
        sessions, dial_draft(set_dial("a", 1), bump_dial_again_on_rollback("b"), check_dial("a", 9))
    )

    await worker.run_once()

    result = await view(sessions, plan_id)
    assert result.status == PlanStatus.FAILED
    assert "dial a refused 7" in result.status_reason
    assert "dial.bump {'name': 'b'}: not run again, an undo failed" in result.status_reason
    assert [call for call in dials.calls if call[0] == "bump"] == [("bump", "b", 1)]
