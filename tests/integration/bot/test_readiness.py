"""/healthz and /readyz: each check named, and readiness that flips when a check fails and back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.playground.slack.web_api import DEFAULT_TOKEN
from tests.databases import throwaway_database
from tests.harness import RunningBot, running_bot

CHECKS = ["database", "migrations", "worker", "slack"]


async def probe(bot: RunningBot, path: str = "/readyz") -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(f"{bot.url}{path}") as response:
        return response.status, await response.json()


async def readiness_becomes(bot: RunningBot, status: int, timeout: float = 10) -> dict[str, Any]:  # noqa: ASYNC109
    """The answer of /readyz once it has `status`, asked again every 50 ms."""
    async with asyncio.timeout(timeout):
        while True:
            answered, body = await probe(bot)
            if answered == status:
                return body
            await asyncio.sleep(0.05)


async def test_a_running_bot_is_healthy_and_ready_with_every_check_named(bot: RunningBot) -> None:
    assert await probe(bot, "/healthz") == (200, {"status": "ok"})

    body = await readiness_becomes(bot, 200)

    assert (body["status"], body["failing"]) == ("ready", [])
    assert list(body["checks"]) == CHECKS
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["migrations"]["detail"].startswith("at head ")
    assert body["checks"]["slack"]["detail"] == "authenticated as U0123BOTUSR in T0123ABCDEF"


@pytest.fixture
async def postgres_url(tmp_path: Path) -> AsyncIterator[str]:
    async with throwaway_database("postgres", tmp_path) as url:
        yield url


async def test_readiness_flips_when_the_database_goes_away_and_comes_back(
    postgres_url: str, tmp_path: Path
) -> None:
    """The database refuses connections (as while it restarts or fails over): every pooled
    connection is cut and no new one is let in; then it takes them again."""
    name = make_url(postgres_url).database
    admin = await asyncpg.connect(
        make_url(postgres_url)
        .set(drivername="postgresql", database="postgres")
        .render_as_string(hide_password=False)
    )
    try:
        async with running_bot(database_url=postgres_url, tmp_path=tmp_path) as bot:
            await readiness_becomes(bot, 200)

            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            down = await readiness_becomes(bot, 503)
            scraped = await scrape_text(bot)

            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            back = await readiness_becomes(bot, 200)
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()

    assert down["status"] == "unavailable"
    assert down["failing"][:2] == ["database", "migrations"]
    assert down["checks"]["database"]["detail"].startswith("unreachable: ")
    assert "carapulse_database_metrics_up 0.0" in scraped
    assert back["checks"]["database"] == {"ok": True, "detail": "reachable"}


async def scrape_text(bot: RunningBot) -> str:
    async with aiohttp.ClientSession() as http, http.get(f"{bot.url}/metrics") as response:
        assert response.status == 200
        return await response.text()


async def test_readiness_names_migrations_behind_the_code(bot: RunningBot) -> None:
    await readiness_becomes(bot, 200)
    async with bot.carapulse.engine.begin() as conn:
        head = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        await conn.execute(text("UPDATE alembic_version SET version_num = '0013'"))

    behind = await readiness_becomes(bot, 503)

    assert behind["failing"] == ["migrations"]
    assert "database is at 0013" in behind["checks"]["migrations"]["detail"]
    assert "run `carapulse migrate`" in behind["checks"]["migrations"]["detail"]
    async with bot.carapulse.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    await readiness_becomes(bot, 200)


async def test_readiness_fails_when_the_worker_stops_beating(database_url: str, tmp_path: Path) -> None:
    overrides = {"WORKER_LEASE_SECONDS": "0.6", "WORKER_POLL_SECONDS": "0.1"}
    async with running_bot(database_url=database_url, tmp_path=tmp_path, overrides=overrides) as bot:
        await readiness_becomes(bot, 200)
        await bot.carapulse.loops.aclose()  # the worker loop (and the others) stop

        stuck = await readiness_becomes(bot, 503)

    assert stuck["failing"] == ["worker"]
    assert stuck["checks"]["worker"]["detail"].startswith("no heartbeat for ")


async def test_readiness_fails_while_slack_refuses_the_token_and_recovers(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    await readiness_becomes(bot, 200)
    caplog.set_level(logging.INFO, logger="bot.readiness")
    bot.slack.tokens.discard(DEFAULT_TOKEN)

    await bot.carapulse.slack_auth.refresh()
    revoked = await readiness_becomes(bot, 503)
    bot.slack.tokens.add(DEFAULT_TOKEN)
    await bot.carapulse.slack_auth.refresh()
    await readiness_becomes(bot, 200)

    assert revoked["failing"] == ["slack"]
    # Polled every 50 ms, but logged once when it broke and once when it mended.
    changes = [
        r.getMessage() for r in caplog.records if r.name == "bot.readiness" and "ready" in r.getMessage()
    ]
    assert changes == [
        "not ready: slack: auth.test failed: invalid_auth; check SLACK_BOT_TOKEN",
        "ready: every check passes",
    ]
    assert revoked["checks"]["slack"]["detail"] == "auth.test failed: invalid_auth; check SLACK_BOT_TOKEN"
