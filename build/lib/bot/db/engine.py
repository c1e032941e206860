"""Engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

SessionFactory = async_sessionmaker[AsyncSession]

SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _serialize_sqlite_writers(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


def bound_engine(sessions: SessionFactory) -> AsyncEngine:
    """The engine a session factory opens its sessions on (create_session_factory binds one)."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        raise TypeError("the session factory is not bound to an AsyncEngine")
    return bind


def is_postgres(engine_or_conn: AsyncEngine | AsyncConnection | Connection) -> bool:
    return engine_or_conn.dialect.name == "postgresql"


def upsert_insert(dialect: str, table: Any) -> Any:
    """The dialect's own INSERT for `table` (an ORM class), which has `on_conflict_do_update` and
    `on_conflict_do_nothing`."""
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


@asynccontextmanager
async def atomic(conn: AsyncConnection, *, one_statement: bool = False) -> AsyncIterator[None]:
    """Make what runs inside atomic: join the connection's transaction if it has one, else open one.

    `one_statement` promises that a single statement runs inside. On PostgreSQL that statement is
    atomic by itself, so it autocommits, which spares the BEGIN and COMMIT round trips (SQLAlchemy's
    begin and commit send nothing then); on SQLite it gets a transaction all the same, so that it
    takes the write lock up front. The connection stays in the mode it was last put in, so a run of
    single statements switches it once.
    """
    if conn.in_transaction():
        yield
        return
    if is_postgres(conn):
        default = conn.sync_connection.default_isolation_level
        wanted = "AUTOCOMMIT" if one_statement else default
        if conn.sync_connection.get_execution_options().get("isolation_level", default) != wanted:
            await conn.execution_options(isolation_level=wanted)
    async with conn.begin():
        yield


def _serialize_sqlite_writers(engine: AsyncEngine) -> None:
    """Open every SQLite transaction with BEGIN IMMEDIATE.

    SQLite's default deferred transactions let two writers both read, then fail with "database is
    locked" when the second upgrades to a write lock. Taking the write lock up front makes writers
    queue on busy_timeout instead, so several processes can share one file.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
