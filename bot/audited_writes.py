"""State writes that land together with their audit event, conditioned on the event's stream still
ending where the event was sealed (bot.audit explains the chain; bot.executions uses these).

The statements are templates: built once per dialect from named placeholders (`param`) and run with
fresh values each time, because building a statement and computing its cache key cost SQLAlchemy
more CPU than the database spends running it. On PostgreSQL a template is one statement, the head's
compare-and-set a CTE that every write and the event's insert depend on; outside a transaction it
autocommits, one round trip with no BEGIN or COMMIT. On SQLite the head moves first and the writes
follow in one transaction. Inside the caller's transaction, either joins it.

A write made with `synchronous=False` commits on PostgreSQL without waiting for its WAL to reach the
disk (`synchronous_commit` off for its transaction only): it is visible at once and survives any
crash of ours, and a crash of the database itself within a fraction of a second (three
`wal_writer_delay`s at most) loses it together with everything committed after it. The next
synchronous commit on the server flushes it with its own. bot.worker says which writes may.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Executable,
    Row,
    bindparam,
    exists,
    func,
    insert,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.engine import Compiled, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import QueryableAttribute

from bot.audit import Sealed
from bot.db.engine import atomic, upsert_insert
from bot.db.models import AuditChain, AuditEvent

# Builds the writes that go with an event for a dialect, given the condition each must carry: that
# the head moved.
Writes = Callable[[ColumnElement[bool], str], Sequence[Executable]]

_EVENT_COLUMNS = tuple(c for c in AuditEvent.__table__.c if c.key != "id")


def param(column: Any, suffix: str = "") -> BindParameter[Any]:
    """The placeholder for a value of `column` (a table column or ORM attribute), named after its
    table and column and typed like it; `values` fills it."""
    return bindparam(_name(column) + suffix, type_=column.type)


def values(columns: Mapping[Any, Any]) -> dict[str, Any]:
    """Values for the placeholders of these columns."""
    return {_name(column): value for column, value in columns.items()}


def insert_from(table: Any, columns: Sequence[Any], condition: ColumnElement[bool], dialect: str) -> Any:
    """An INSERT of one row of placeholders that happens only if `condition` holds, in the dialect's
    own insert so that `on_conflict_do_update` can be added."""
    chosen = select(*(param(column) for column in columns)).where(condition)
    return upsert_insert(dialect, table).from_select([column.key for column in columns], chosen)


@dataclass(frozen=True)
class _OnDriver:
    """A statement compiled for asyncpg and run on its connection directly. SQLAlchemy's async
    execution (greenlet switches, transaction bookkeeping, result wrapping) costs more CPU than the
    round trip it wraps: ~0.25 ms a statement against ~0.1 ms on this machine's loopback, and a
    step makes two."""

    compiled: Compiled
    processors: tuple[Callable[[Any], Any] | None, ...]

    @classmethod
    def of(cls, statement: Executable, dialect: Dialect) -> _OnDriver:
        compiled = statement.compile(dialect=dialect)
        types = (compiled.binds[name].type.dialect_impl(dialect) for name in compiled.positiontup or ())
        return cls(compiled=compiled, processors=tuple(t.bind_processor(dialect) for t in types))

    async def fetchrow(self, conn: AsyncConnection, bound: dict[str, Any]) -> tuple[Any, ...] | None:
        values = self.compiled.construct_params(bound)
        names = self.compiled.positiontup or ()
        args = [
            v if p is None else p(v) for p, v in zip(self.processors, (values[n] for n in names), strict=True)
        ]
        driver = (await conn.get_raw_connection()).driver_connection
        row = await driver.fetchrow(self.compiled.string, *args)
        return None if row is None else tuple(row)


@dataclass(frozen=True)
class _Built:
    advance: Executable
    rest: Sequence[Executable]
    fused: Executable | None
    on_driver: _OnDriver | None


class AuditedWrite:
    """`events` events appended, one after the other, with the writes that go with them. Call it
    with the sealed events and the values of the writes' placeholders; it returns the head row (its
    `seq`, then `returning`), or None with nothing written when the stream no longer ends where the
    first event was sealed."""

    def __init__(
        self, writes: Writes, *, returning: Sequence[ColumnElement[Any]] = (), events: int = 1
    ) -> None:
        self._writes = writes
        self._returning = tuple(returning)
        self._events = events
        self._built: dict[tuple[str, bool, bool], _Built] = {}

    async def __call__(
        self,
        conn: AsyncConnection,
        events: Sequence[Sealed],
        placeholders: dict[str, Any],
        *,
        synchronous: bool = True,
    ) -> tuple[Any, ...] | None:
        if len(events) != self._events:
            raise ValueError(f"this write appends {self._events} events, not {len(events)}")
        built = self._statements(conn.dialect, opens_stream=events[0].after.seq == 0, synchronous=synchronous)
        bound = {**placeholders, **_event_values(events)}
        if built.fused is not None and built.on_driver is not None:
            if not conn.in_transaction():
                # One statement outside any transaction autocommits, atomic by itself.
                return await built.on_driver.fetchrow(conn, bound)
            return _plain((await conn.execute(built.fused, bound)).first())
        async with atomic(conn):
            row = (await conn.execute(built.advance, bound)).first()
            if row is not None:
                for statement in built.rest:
                    await conn.execute(statement, bound)
            return _plain(row)

    def _statements(self, dialect: Dialect, *, opens_stream: bool, synchronous: bool) -> _Built:
        key = (dialect.name, opens_stream, synchronous)
        if key not in self._built:
            self._built[key] = self._build(dialect, opens_stream, synchronous)
        return self._built[key]

    def _build(self, dialect: Dialect, opens_stream: bool, synchronous: bool) -> _Built:
        name = dialect.name
        advance = _advance(name, opens_stream, _suffix(self._events - 1))
        advance = advance.returning(AuditChain.seq, *self._returning)
        if name != "postgresql":
            return _Built(
                advance=advance, rest=self._statements_after(true(), name), fused=None, on_driver=None
            )
        head = advance.cte("head")
        statements = self._statements_after(exists(head.select()), name)
        # A column of the row read back, so that it is evaluated whenever the head moved; local to
        # the transaction, which for a statement outside one is the statement's own.
        unflushed = () if synchronous else (func.set_config("synchronous_commit", "off", True),)
        fused = select(head, *unflushed).add_cte(*(s.cte(f"write_{n}") for n, s in enumerate(statements)))
        return _Built(advance=advance, rest=(), fused=fused, on_driver=_OnDriver.of(fused, dialect))

    def _statements_after(self, moved: ColumnElement[bool], dialect: str) -> list[Executable]:
        # One INSERT for all the events: PostgreSQL runs the CTEs of a statement in no set order,
        # and the events' ids must follow their order in the stream.
        rows = [
            select(*(param(c, _suffix(n)) for c in _EVENT_COLUMNS)).where(moved) for n in range(self._events)
        ]
        events = insert(AuditEvent).from_select([c.key for c in _EVENT_COLUMNS], union_all(*rows))
        return [*self._writes(moved, dialect), events]


def _advance(dialect: str, opens_stream: bool, last: str) -> Any:
    """Move the head onto the last event (placeholders suffixed `last`) only if it is still where
    the first was sealed; an empty stream gets its head row, unless a racing writer created it
    first."""
    team, stream = param(AuditEvent.team_id), param(AuditEvent.stream)
    new = {"seq": param(AuditEvent.seq, last), "head_hash": param(AuditEvent.hash, last)}
    if opens_stream:
        return (
            upsert_insert(dialect, AuditChain)
            .values(team_id=team, stream=stream, **new)
            .on_conflict_do_nothing(index_elements=["team_id", "stream"])
        )
    return (
        update(AuditChain)
        .where(
            AuditChain.team_id == team, AuditChain.stream == stream, AuditChain.seq == param(AuditChain.seq)
        )
        .values(**new)
    )


def _plain(row: Row[Any] | None) -> tuple[Any, ...] | None:
    return None if row is None else tuple(row)


def _event_values(events: Sequence[Sealed]) -> dict[str, Any]:
    bound = {
        _EVENT_PLACEHOLDERS[name] + _suffix(n): value
        for n, event in enumerate(events)
        for name, value in event.row.items()
    }
    bound[_HEAD_SEQ] = events[0].after.seq
    return bound


def _suffix(event: int) -> str:
    """Tells apart the placeholders of the events after the first."""
    return f"__{event}" if event else ""


def _name(column: Any) -> str:
    # Never the name of a column, which SQLAlchemy would take as a value to set. Read off the ORM
    # class when there is one: an attribute's `table` goes through slow proxies.
    table = column.class_.__tablename__ if isinstance(column, QueryableAttribute) else column.table.name
    return f"{table}__{column.key}"


_EVENT_PLACEHOLDERS = {column.key: _name(column) for column in _EVENT_COLUMNS}
_HEAD_SEQ = _name(AuditChain.seq)
