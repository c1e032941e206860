from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import audit
from bot.audit import AuditKind, ChainHead
from bot.clock import utcnow
from bot.db.engine import SessionFactory, create_engine, create_session_factory
from bot.db.migrate import alembic_config
from bot.db.models import AuditChain, AuditEvent, Base
from bot.db.types import UTCDateTime
from tests.builders import TEAM
from tests.tampering import drop_append_only_guard

OTHER_TEAM = "T9999OTHER1"
BEFORE_STREAMS = "0007"


async def test_migrations_build_exactly_the_schema_the_models_describe(engine: AsyncEngine) -> None:
    def differences(connection: Connection) -> list:  # type: ignore[type-arg]
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


@pytest.fixture
async def before_streams(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A database just before 0008 whose two teams each have a chain of the old kind, their events
    interleaved: 3 for TEAM, 2 for OTHER_TEAM."""
    engine = create_engine(database_url)
    await migrate(engine, command.upgrade, BEFORE_STREAMS)
    heads = {TEAM: ChainHead(TEAM, "old"), OTHER_TEAM: ChainHead(OTHER_TEAM, "old")}
    async with engine.begin() as connection:
        for n, team in enumerate([TEAM, OTHER_TEAM, TEAM, OTHER_TEAM, TEAM]):
            event = audit.seal(
                heads[team],
                actor_id=f"U{n}",
                kind=AuditKind.FREEZE_STARTED,
                detail={"n": n},
                created_at=utcnow() - timedelta(hours=5 - n),
            )
            old_row = {k: v for k, v in event.row.items() if k not in ("stream", "seq")}
            await connection.execute(sa.insert(_OLD_AUDIT_EVENTS).values(old_row))
            heads[team] = event.head
    yield engine
    await engine.dispose()


async def test_each_old_chain_becomes_its_teams_team_stream_unchanged(before_streams: AsyncEngine) -> None:
    async with before_streams.connect() as connection:
        old = (await connection.execute(sa.text("SELECT id, hash FROM audit_events ORDER BY id"))).all()

    await migrate(before_streams, command.upgrade, "head")

    sessions = create_session_factory(before_streams)
    async with sessions() as session:
        for team in (TEAM, OTHER_TEAM):
            assert await audit.verify_chain(session, team_id=team) is None
        events = (await session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))).all()
        heads = (await session.scalars(sa.select(AuditChain).order_by(AuditChain.team_id))).all()
    assert [(e.id, e.hash) for e in events] == [tuple(row) for row in old]
    assert [(e.team_id, e.stream, e.seq) for e in events] == [
        (TEAM, "team", 1),
        (OTHER_TEAM, "team", 1),
        (TEAM, "team", 2),
        (OTHER_TEAM, "team", 2),
        (TEAM, "team", 3),
    ]
    assert [(h.team_id, h.stream, h.seq, h.head_hash) for h in heads] == [
        (TEAM, "team", 3, events[4].hash),
        (OTHER_TEAM, "team", 2, events[3].hash),
    ]


async def test_the_migrated_log_grows_and_still_catches_an_edit(before_streams: AsyncEngine) -> None:
    await migrate(before_streams, command.upgrade, "head")
    sessions = create_session_factory(before_streams)

    await record(sessions, kind=AuditKind.FREEZE_LIFTED)
    await record(sessions, kind=AuditKind.PLAN_CREATED, plan_id=1)
    async with sessions() as session:
        assert await audit.verify_chain(session, team_id=TEAM) is None
        appended = (
            await session.execute(sa.select(AuditEvent.stream, AuditEvent.seq).where(AuditEvent.id > 5))
        ).all()
    assert appended == [("team", 4), ("plan:1", 1)]

    await drop_append_only_guard(sessions)
    async with sessions.begin() as session:
        await session.execute(sa.update(AuditEvent).where(AuditEvent.id == 3).values(actor_id="U0000MALLORY"))
    async with sessions() as session:
        broken = await audit.verify_chain(session, team_id=TEAM)
    assert broken is not None and (broken.stream, broken.seq, broken.event_id) == ("team", 2, 3)


async def test_a_downgrade_is_refused_once_events_left_the_team_stream(before_streams: AsyncEngine) -> None:
    await migrate(before_streams, command.upgrade, "head")
    await migrate(before_streams, command.downgrade, BEFORE_STREAMS)
    async with before_streams.connect() as connection:
        assert (await connection.execute(sa.text("SELECT count(*) FROM audit_events"))).scalar() == 5

    await migrate(before_streams, command.upgrade, "head")
    await record(create_session_factory(before_streams), kind=AuditKind.PLAN_CREATED, plan_id=1)
    with pytest.raises(RuntimeError, match="cannot downgrade below 0008"):
        await migrate(before_streams, command.downgrade, BEFORE_STREAMS)


async def migrate(engine: AsyncEngine, step: Callable[..., Any], revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        step(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def record(sessions: SessionFactory, *, kind: AuditKind, plan_id: int | None = None) -> None:
    async with sessions.begin() as session:
        await audit.record(session, team_id=TEAM, actor_id="U0123ALICE1", kind=kind, plan_id=plan_id)


# audit_events as it was before 0008.
_OLD_AUDIT_EVENTS = sa.table(
    "audit_events",
    sa.column("team_id", sa.String),
    sa.column("plan_id", sa.Integer),
    sa.column("actor_id", sa.String),
    sa.column("kind", sa.String),
    sa.column("detail", sa.JSON),
    sa.column("created_at", UTCDateTime),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)
