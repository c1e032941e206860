"""The audit chains: what verification finds after each kind of tampering, and that concurrent
writers (two workers, racing freezes) leave chains that verify."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import ColumnElement, Update, and_, delete, func, insert, select, update

from bot import audit
from bot.audit import AuditKind, ChainHead
from bot.db.engine import SessionFactory
from bot.db.models import AuditChain, AuditEvent
from bot.worker import Worker
from tests.builders import BOB, TEAM
from tests.fakes.dial import Dials
from tests.integration.bot.dial_plans import (
    RecordingObserver,
    approved_plan,
    check_dial,
    dial_draft,
    set_dial,
)
from tests.tampering import drop_append_only_guard
from tools.common.registry import Registry

EXECUTION = audit.execution_stream(1)


@pytest.fixture
async def log(sessions: SessionFactory, worker: Worker) -> SessionFactory:
    """A team's log in all three kinds of stream: plan 1 created and approved, its execution of two
    steps run by the worker (started, 2 x step started and finished, finished), and a freeze; its
    append-only guard dropped, so that the tests can tamper with it."""
    await approved_plan(sessions, dial_draft(set_dial("a", 1), check_dial("a", 1)))
    assert await worker.run_once()
    async with sessions.begin() as session:
        await audit.record(session, team_id=TEAM, actor_id=BOB.user_id, kind=AuditKind.FREEZE_STARTED)
    async with sessions() as session:
        assert await audit.verify_chain(session, team_id=TEAM) is None
        streams = await session.execute(
            select(AuditEvent.stream, func.count()).group_by(AuditEvent.stream).order_by(AuditEvent.stream)
        )
        assert streams.all() == [(EXECUTION, 6), (audit.plan_stream(1), 2), (audit.TEAM_STREAM, 1)]
    await drop_append_only_guard(sessions)
    return sessions


async def test_the_log_verifies_page_by_page(log: SessionFactory) -> None:
    async with log() as session:
        assert await audit.verify_chain(session, team_id=TEAM, page_size=2) is None


async def test_an_execution_stream_holds_its_events_in_order_of_id(log: SessionFactory) -> None:
    """The last step's result and the execution's end are one write with two events."""
    async with log() as session:
        events = await session.execute(
            select(AuditEvent.seq, AuditEvent.kind)
            .where(AuditEvent.stream == EXECUTION)
            .order_by(AuditEvent.id)
        )
    assert events.all() == [
        (1, AuditKind.EXECUTION_STARTED),
        (2, AuditKind.STEP_STARTED),
        (3, AuditKind.STEP_FINISHED),
        (4, AuditKind.STEP_STARTED),
        (5, AuditKind.STEP_FINISHED),
        (6, AuditKind.EXECUTION_FINISHED),
    ]


async def test_each_team_is_verified_on_its_own(log: SessionFactory) -> None:
    async with log.begin() as session:
        await audit.record(session, team_id="T9999OTHER1", actor_id="U1", kind=AuditKind.FREEZE_STARTED)
        await session.execute(
            update(AuditEvent).where(AuditEvent.team_id == TEAM).values(actor_id="U0MALLORY")
        )

    async with log() as session:
        assert await audit.verify_chain(session, team_id="T9999OTHER1") is None


async def test_an_edited_event_breaks_its_stream(log: SessionFactory) -> None:
    async with log.begin() as session:
        await session.execute(_event(audit.plan_stream(1), 1).values(actor_id="U0000MALLORY"))

    broken = await first_break(log)
    assert (broken.stream, broken.seq, broken.reason) == (
        audit.plan_stream(1),
        1,
        "its content does not match its hash",
    )
    assert broken.event_id is not None


async def test_a_removed_event_leaves_a_gap(log: SessionFactory) -> None:
    async with log.begin() as session:
        await session.execute(delete(AuditEvent).where(_at(EXECUTION, 3)))

    broken = await first_break(log)
    assert (broken.stream, broken.seq, broken.reason) == (EXECUTION, 4, "event 3 is missing (the next is 4)")


async def test_events_cut_from_the_end_no_longer_reach_the_head(log: SessionFactory) -> None:
    async with log.begin() as session:
        await session.execute(delete(AuditEvent).where(AuditEvent.stream == EXECUTION, AuditEvent.seq >= 5))

    broken = await first_break(log)
    assert (broken.stream, broken.seq) == (EXECUTION, 4)
    assert broken.reason == "the stream ends at event 4, but its head is at 6"


async def test_an_event_slipped_into_the_middle_breaks_the_link_after_it(log: SessionFactory) -> None:
    """Forged with a correct hash onto event 2, the later events moved up to make room."""
    async with log.begin() as session:
        second = await session.scalar(select(AuditEvent).where(_at(EXECUTION, 2)))
        assert second is not None
        for seq in range(6, 2, -1):
            await session.execute(_event(EXECUTION, seq).values(seq=seq + 1))
        forged = audit.seal(
            ChainHead(team_id=TEAM, stream=EXECUTION, seq=2, hash=second.hash),
            actor_id="U0000MALLORY",
            kind=AuditKind.STEP_FINISHED,
            plan_id=1,
        )
        await session.execute(insert(AuditEvent).values(forged.row))

    broken = await first_break(log)
    assert (broken.stream, broken.seq, broken.reason) == (
        EXECUTION,
        4,
        "it does not link to the event before it",
    )


async def test_an_event_appended_without_its_head_is_found(log: SessionFactory) -> None:
    async with log.begin() as session:
        head = await session.get_one(AuditChain, (TEAM, EXECUTION))
        forged = audit.seal(
            ChainHead(team_id=TEAM, stream=EXECUTION, seq=head.seq, hash=head.head_hash),
            actor_id="U0000MALLORY",
            kind=AuditKind.STEP_STARTED,
            plan_id=1,
        )
        await session.execute(insert(AuditEvent).values(forged.row))

    broken = await first_break(log)
    assert (broken.stream, broken.seq) == (EXECUTION, 7)
    assert broken.reason == "the stream ends at event 7, but its head is at 6"


async def test_two_swapped_events_break_the_links(log: SessionFactory) -> None:
    async with log.begin() as session:
        await session.execute(_event(EXECUTION, 2).values(seq=-1))
        await session.execute(_event(EXECUTION, 3).values(seq=2))
        await session.execute(_event(EXECUTION, -1).values(seq=3))

    broken = await first_break(log)
    assert (broken.stream, broken.seq, broken.reason) == (
        EXECUTION,
        2,
        "it does not link to the event before it",
    )


async def test_an_event_moved_to_another_stream_breaks_both(log: SessionFactory) -> None:
    async with log.begin() as session:
        await session.execute(_event(audit.plan_stream(1), 2).values(stream=audit.TEAM_STREAM, seq=2))

    broken = await first_break(log)
    assert broken.stream == audit.plan_stream(1)
    assert broken.reason == "the stream ends at event 1, but its head is at 2"


async def test_a_stream_emptied_leaves_its_head_behind(log: SessionFactory) -> None:
    async with log.begin() as session:
        await session.execute(delete(AuditEvent).where(AuditEvent.stream == audit.plan_stream(1)))

    broken = await first_break(log)
    assert (broken.stream, broken.reason) == (audit.plan_stream(1), "no events, but the head is at 2")


async def test_a_stream_without_a_head_is_found(log: SessionFactory) -> None:
    async with log.begin() as session:
        await session.execute(delete(AuditChain).where(AuditChain.stream == audit.TEAM_STREAM))

    broken = await first_break(log)
    assert (broken.stream, broken.reason) == (audit.TEAM_STREAM, "the stream has no head")


async def test_a_head_moved_back_no_longer_names_the_last_event(log: SessionFactory) -> None:
    async with log.begin() as session:
        await session.execute(
            update(AuditChain).where(AuditChain.stream == EXECUTION).values(head_hash=audit.GENESIS_HASH)
        )

    broken = await first_break(log)
    assert (broken.stream, broken.reason) == (EXECUTION, "event 6 is not the event its head names")


async def test_two_workers_running_many_executions_leave_chains_that_verify(
    sessions: SessionFactory, dials: Dials
) -> None:
    workers = [
        Worker(
            sessions=sessions,
            registry=Registry(dials.actions()),
            observer=RecordingObserver(),
            lease_seconds=30,
            poll_seconds=0.05,
            owner=f"worker-{n}",
        )
        for n in range(2)
    ]
    plan_ids = [
        await approved_plan(
            sessions, dial_draft(set_dial(f"d{n}", 1), check_dial(f"d{n}", 1)), source_key=f"t{n}"
        )
        for n in range(12)
    ]

    async def dry_runs() -> None:
        """People writing to the plans' streams while the workers write the executions'."""
        for plan_id in plan_ids:
            async with sessions.begin() as session:
                await audit.record(
                    session, team_id=TEAM, actor_id=BOB.user_id, kind=AuditKind.PLAN_DRY_RUN, plan_id=plan_id
                )

    *ran, _ = await asyncio.gather(*(worker.drain() for worker in workers), dry_runs())

    assert sum(ran) == 12
    async with sessions() as session:
        assert await audit.verify_chain(session, team_id=TEAM) is None
        streams = await session.scalar(
            select(func.count(func.distinct(AuditEvent.stream))).where(AuditEvent.stream.like("execution:%"))
        )
    assert streams == 12


async def test_racing_writers_of_one_stream_all_land_in_order(sessions: SessionFactory) -> None:
    async def freeze(n: int) -> None:
        async with sessions.begin() as session:
            await audit.record(
                session, team_id=TEAM, actor_id=f"U{n}", kind=AuditKind.FREEZE_STARTED, detail={"n": n}
            )

    await asyncio.gather(*(freeze(n) for n in range(10)))

    async with sessions() as session:
        assert await audit.verify_chain(session, team_id=TEAM) is None
        seqs = (await session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq))).all()
    assert seqs == list(range(1, 11))


async def first_break(sessions: SessionFactory) -> audit.ChainBreak:
    async with sessions() as session:
        broken = await audit.verify_chain(session, team_id=TEAM)
    assert broken is not None
    return broken


def _at(stream: str, seq: int) -> ColumnElement[bool]:
    return and_(AuditEvent.team_id == TEAM, AuditEvent.stream == stream, AuditEvent.seq == seq)


def _event(stream: str, seq: int) -> Update:
    return update(AuditEvent).where(_at(stream, seq))
