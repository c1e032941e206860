"""The append-only guard: the database itself refuses to edit or remove an audit event."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from bot import audit
from bot.audit import AuditKind
from bot.db.engine import SessionFactory
from bot.db.models import AuditEvent
from tests.builders import BOB, TEAM

REFUSALS = [
    pytest.param(update(AuditEvent).values(actor_id="U0000MALLORY"), id="update"),
    pytest.param(delete(AuditEvent), id="delete"),
]


@pytest.fixture
async def logged(sessions: SessionFactory) -> SessionFactory:
    async with sessions.begin() as session:
        await audit.record(session, team_id=TEAM, actor_id=BOB.user_id, kind=AuditKind.FREEZE_STARTED)
    return sessions


@pytest.mark.parametrize("statement", REFUSALS)
async def test_the_database_refuses_to_change_an_audit_event(
    logged: SessionFactory, statement: object
) -> None:
    with pytest.raises(DBAPIError, match="audit_events is append-only"):
        async with logged.begin() as session:
            await session.execute(statement)  # type: ignore[call-overload]

    async with logged() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEvent)) == 1
        assert await audit.verify_chain(session, team_id=TEAM) is None


async def test_postgres_refuses_to_truncate_the_audit_log(logged: SessionFactory) -> None:
    async with logged() as session:
        if session.bind.dialect.name != "postgresql":
            pytest.skip("SQLite has no TRUNCATE; DELETE covers it")
    with pytest.raises(DBAPIError, match="audit_events is append-only"):
        async with logged.begin() as session:
            await session.execute(text("TRUNCATE audit_events"))


async def test_appending_still_works_under_the_guard(logged: SessionFactory) -> None:
    async with logged.begin() as session:
        await audit.record(session, team_id=TEAM, actor_id=BOB.user_id, kind=AuditKind.FREEZE_LIFTED)

    async with logged() as session:
        assert await audit.verify_chain(session, team_id=TEAM) is None
