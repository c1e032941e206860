from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.models import Base


async def test_migrations_build_exactly_the_schema_the_models_describe(engine: AsyncEngine) -> None:
    def differences(connection: Connection) -> list:  # type: ignore[type-arg]
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []
