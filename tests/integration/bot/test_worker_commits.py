"""Which of the worker's commits wait for the disk (bot/audited_writes.py, bot/worker.py).

On PostgreSQL a claim and the records of a read-only step (an execution's end with the last of them)
are committed without waiting for their WAL to be flushed; the records of a step that changes
something wait, which flushes all that came before them too. SQLite commits as it is configured
to, so these tests are PostgreSQL's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry

from bot import executions
from bot.audit import AuditKind
from bot.db.engine import SessionFactory, is_postgres
from bot.db.models import StepRun
from bot.domain import StepState
from bot.worker import Worker
from tests.builders import start_planned_step
from tests.integration.bot.dial_plans import approved_plan, check_dial, dial_draft, set_dial

_KINDS = {str(kind) for kind in AuditKind}
_ACTIONS = ("dial.set", "dial.check")


@dataclass(frozen=True)
class AuditedCommit:
    events: tuple[str, ...]
    action: str | None
    waits_for_disk: bool


@pytest.fixture
def postgres(engine: AsyncEngine) -> AsyncEngine:
    if not is_postgres(engine):
        pytest.skip("synchronous_commit is PostgreSQL's; SQLite commits as configured")
    return engine


async def test_only_the_records_of_changes_to_the_world_wait_for_the_disk(
    postgres: AsyncEngine, sessions: SessionFactory, worker: Worker
) -> None:
    await approved_plan(sessions, dial_draft(set_dial("a", 1), check_dial("a", 1), check_dial("a", 1)))
    commits = await _logged_audited_writes(postgres)

    await worker.run_once()
    await asyncio.sleep(0)  # asyncpg hands logged queries to the loop

    assert [(c.events, c.action, c.waits_for_disk) for c in commits] == [
        (("execution.started",), None, False),
        (("step.started",), "dial.set", True),
        (("step.finished",), "dial.set", True),
        (("step.started",), "dial.check", False),
        (("step.finished",), "dial.check", False),
        (("step.started",), "dial.check", False),
        (("step.finished", "execution.finished"), "dial.check", False),
    ]


async def test_a_write_that_need_not_wait_turns_the_flush_off_for_its_own_transaction_only(
    postgres: AsyncEngine, sessions: SessionFactory
) -> None:
    await approved_plan(sessions, dial_draft(set_dial("a", 1)))
    async with postgres.connect() as conn:
        async with conn.begin():
            lease = await executions.claim(conn, owner="worker-1", lease_seconds=30)
            assert lease is not None
            [step] = await executions.plan_steps(conn, lease)
            assert await _synchronous_commit(conn) == "off"
        assert await _synchronous_commit(conn) == "on"
        await conn.rollback()

        # Outside a transaction the write is a statement of its own, sent to the driver directly.
        await start_planned_step(conn, lease, step, synchronous=False)
        assert await _synchronous_commit(conn) == "on"
        await conn.rollback()

    async with sessions() as session:
        assert await session.scalar(select(StepRun.status)) == StepState.RUNNING


async def _synchronous_commit(conn: AsyncConnection) -> str:
    return (await conn.exec_driver_sql("SHOW synchronous_commit")).scalar_one()


async def _logged_audited_writes(engine: AsyncEngine) -> list[AuditedCommit]:
    """The audited writes the engine's connections send from now on, in order: the events each
    appends, the action it is about, and whether its commit waits for the disk. Writes inside a
    transaction go through SQLAlchemy; those outside one go to asyncpg directly, whose query logger
    sees them (bot/audited_writes.py)."""
    commits: list[AuditedCommit] = []

    def sent(sql: str, args: Sequence[object]) -> None:
        strings = [arg for arg in args if isinstance(arg, str)]
        events = tuple(arg for arg in strings if arg in _KINDS)
        if events:
            action = next((a for a in _ACTIONS if any(a in s for s in strings)), None)
            commits.append(AuditedCommit(events, action, waits_for_disk="set_config(" not in sql))

    def connected(_dbapi_connection: object, record: ConnectionPoolEntry) -> None:
        record.driver_connection.add_query_logger(lambda logged: sent(logged.query, logged.args))

    def executed(_conn: object, _cursor: object, sql: str, parameters: Sequence[object], *_: object) -> None:
        sent(sql, parameters)

    await engine.dispose()  # the connections opened from here on carry the logger
    event.listen(engine.sync_engine.pool, "connect", connected)
    event.listen(engine.sync_engine, "after_cursor_execute", executed)
    return commits
