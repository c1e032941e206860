"""One pooled connection kept across writes that follow each other closely."""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class HeldConnection:
    """Every checkout from the pool pings the connection: three round trips on PostgreSQL, since
    SQLAlchemy's asyncpg ping runs in a transaction of its own, which costs more than one of the
    worker's writes. So the worker keeps one connection while it works. A connection left unused
    for longer than `idle_seconds` goes back and a fresh, pinged one is taken, because only the
    ping shows that a connection survived a pause (a database restart, a dropped link)."""

    def __init__(self, engine: AsyncEngine, *, idle_seconds: float) -> None:
        self._engine = engine
        self._idle_seconds = idle_seconds
        self._connection: AsyncConnection | None = None
        self._last_used = 0.0

    async def get(self) -> AsyncConnection:
        now = time.monotonic()
        if self._connection is not None and now - self._last_used > self._idle_seconds:
            await self.release()
        if self._connection is None:
            self._connection = await self._engine.connect()
        self._last_used = now
        return self._connection

    async def release(self, *, broken: bool = False) -> None:
        """Give the connection back to the pool; `broken` discards it instead, for one that may
        have been interrupted mid-statement."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if broken:
            await connection.invalidate()
        await connection.close()
