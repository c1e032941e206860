"""Follow-up work waits for the acks being answered and runs a few pieces at a time, in order."""

from __future__ import annotations

import asyncio
import gc

import pytest

from bot.after_ack import AfterAck, RequestGate
from bot.tasks import TaskSupervisor


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_work_waits_until_no_request_is_being_answered() -> None:
    gate, supervisor = RequestGate(), TaskSupervisor()
    after_ack = AfterAck(supervisor=supervisor, gate=gate)
    ran: list[str] = []

    async def work() -> None:
        ran.append("work")

    with gate.answering():
        with gate.answering():
            after_ack.submit(work(), name="work")
            await _settle()
        await _settle()
        assert ran == []
    await supervisor.drain()

    assert ran == ["work"]


async def test_at_most_concurrency_pieces_run_at_once_in_submission_order() -> None:
    supervisor = TaskSupervisor()
    after_ack = AfterAck(supervisor=supervisor, gate=RequestGate(), concurrency=2)
    release = asyncio.Event()
    running: set[int] = set()
    started: list[int] = []
    most = 0

    async def work(n: int) -> None:
        nonlocal most
        running.add(n)
        started.append(n)
        most = max(most, len(running))
        await release.wait()
        running.discard(n)

    for n in range(6):
        after_ack.submit(work(n), name=f"work-{n}")
    await _settle()
    assert started == [0, 1]
    release.set()
    await supervisor.drain()

    assert started == [0, 1, 2, 3, 4, 5]
    assert most == 2


async def test_work_that_fails_does_not_hold_a_slot() -> None:
    supervisor = TaskSupervisor()
    after_ack = AfterAck(supervisor=supervisor, gate=RequestGate(), concurrency=1)
    ran: list[str] = []

    async def broken() -> None:
        raise RuntimeError("boom")

    async def fine() -> None:
        ran.append("fine")

    after_ack.submit(broken(), name="broken")
    after_ack.submit(fine(), name="fine")
    await supervisor.drain()

    assert ran == ["fine"]


async def test_work_cancelled_at_shutdown_before_its_turn_is_closed_not_leaked() -> None:
    gate, supervisor = RequestGate(), TaskSupervisor()
    after_ack = AfterAck(supervisor=supervisor, gate=gate)
    ran: list[str] = []

    async def work() -> None:
        ran.append("work")

    with gate.answering():
        task = after_ack.submit(work(), name="work")
        await _settle()
        await supervisor.aclose()
    gc.collect()

    assert task.cancelled()
    assert ran == []
    with pytest.raises(RuntimeError, match="shutting down"):
        after_ack.submit(work(), name="late")


async def test_work_waits_for_a_quiet_spell_after_the_last_answer() -> None:
    gate, supervisor = RequestGate(quiet=0.2, max_wait=5), TaskSupervisor()
    after_ack = AfterAck(supervisor=supervisor, gate=gate)
    started = asyncio.Event()

    async def work() -> None:
        started.set()

    with gate.answering():
        after_ack.submit(work(), name="work")
    await asyncio.sleep(0.1)
    with gate.answering():  # a request inside the spell starts it over
        pass
    await asyncio.sleep(0.15)
    assert not started.is_set()
    async with asyncio.timeout(1):
        await started.wait()


async def test_a_steady_stream_of_requests_does_not_hold_work_back_for_ever() -> None:
    gate, supervisor = RequestGate(quiet=0.2, max_wait=0.3), TaskSupervisor()
    after_ack = AfterAck(supervisor=supervisor, gate=gate)
    started = asyncio.Event()

    async def work() -> None:
        started.set()

    after_ack.submit(work(), name="work")
    with gate.answering():
        async with asyncio.timeout(1):
            await started.wait()
