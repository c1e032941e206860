import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.db.engine import atomic, is_postgres
from bot.db.models import AuditChain

HEAD = {"team_id": "T0123ABCDEF", "stream": "team", "seq": 1, "head_hash": "0" * 64}


async def heads(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(select(func.count()).select_from(AuditChain)) or 0


async def test_a_single_statement_autocommits_on_postgresql_and_takes_a_transaction_on_sqlite(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as connection:
        async with atomic(connection, one_statement=True):
            await connection.execute(insert(AuditChain).values(HEAD))
            mode = connection.sync_connection.get_execution_options().get("isolation_level")

    assert mode == ("AUTOCOMMIT" if is_postgres(engine) else None)
    assert await heads(engine) == 1


async def test_several_statements_land_together_or_not_at_all(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await switch_to_autocommit(connection)
        with pytest.raises(RuntimeError):
            async with atomic(connection):
                await connection.execute(insert(AuditChain).values(HEAD))
                raise RuntimeError("the second statement failed")

    assert await heads(engine) == 0


async def test_inside_a_transaction_it_joins_it(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        async with atomic(connection, one_statement=True):
            await connection.execute(insert(AuditChain).values(HEAD))
        await transaction.rollback()

    assert await heads(engine) == 0


async def switch_to_autocommit(connection: AsyncConnection) -> None:
    """As a held connection is after a run of single statements."""
    async with atomic(connection, one_statement=True):
        await connection.execute(select(1))
