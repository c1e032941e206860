"""Throwaway databases for tests: a SQLite file, or a fresh PostgreSQL database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
POSTGRES_URL_VARIABLE = "CARAPULSE_TEST_POSTGRES_URL"


def postgres_required() -> bool:
    """In CI, or when the URL is given explicitly, a missing PostgreSQL fails instead of skipping."""
    return bool(os.environ.get("CI") or os.environ.get(POSTGRES_URL_VARIABLE))


@asynccontextmanager
async def throwaway_database(kind: str, directory: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'carapulse.db'}"
        return
    async with _postgres_database() as url:
        yield url


@asynccontextmanager
async def _postgres_database() -> AsyncIterator[str]:
    base = make_url(os.environ.get(POSTGRES_URL_VARIABLE, DEFAULT_POSTGRES_URL))
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = await asyncpg.connect(admin_dsn, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        if postgres_required():
            raise
        pytest.skip(f"PostgreSQL not reachable at {base.host}:{base.port}: {exc}")
    name = f"carapulse_test_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
