import asyncio

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.held_connection import HeldConnection


async def test_writes_close_together_share_one_connection(engine: AsyncEngine) -> None:
    held = HeldConnection(engine, idle_seconds=60)
    first = await held.get()
    second = await held.get()
    await held.release()

    assert first is second
    assert engine.pool.checkedout() == 0


async def test_a_connection_left_idle_too_long_is_exchanged_for_a_fresh_one(engine: AsyncEngine) -> None:
    held = HeldConnection(engine, idle_seconds=0.01)
    first = await held.get()
    await asyncio.sleep(0.05)
    second = await held.get()

    assert second is not first
    assert first.closed
    assert (await second.scalar(text("SELECT 1"))) == 1
    await held.release()


async def test_a_connection_that_may_be_mid_statement_is_discarded(engine: AsyncEngine) -> None:
    discarded: list[object] = []
    event.listen(
        engine.sync_engine.pool, "invalidate", lambda dbapi_connection, *_: discarded.append(dbapi_connection)
    )
    held = HeldConnection(engine, idle_seconds=60)
    connection = await held.get()
    dbapi_connection = (await connection.get_raw_connection()).dbapi_connection
    await held.release(broken=True)

    assert discarded == [dbapi_connection]
    assert engine.pool.checkedout() == 0
    assert await held.get() is not connection
    await held.release()
