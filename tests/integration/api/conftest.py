"""A running bot with the API on, a token for it, and a small client speaking to it over HTTP."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.api import tokens
from bot.api.client import ServerEvent, server_events
from bot.playground.slack.state import OPS_CHANNEL, TEAM_ID
from tests.harness import RunningBot, running_bot

API_SETTINGS = {"API_CHANNEL": OPS_CHANNEL, "API_TEAM_ID": TEAM_ID}


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


@dataclass
class ApiBot:
    bot: RunningBot
    token: str

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> Answer:
        """`token` None uses the operator token; "" sends no Authorization header."""
        sent = {
            **({"Authorization": f"Bearer {token or self.token}"} if token != "" else {}),
            **(headers or {}),
        }
        async with (
            aiohttp.ClientSession() as session,
            # A stream, since aiohttp warns about large bytes bodies (the 413 test sends one).
            session.request(
                method,
                self.bot.url + path,
                json=json,
                data=None if data is None else io.BytesIO(data),
                headers=sent,
                params=params,
            ) as response,
        ):
            body = (
                await response.json()
                if response.content_type == "application/json"
                else await response.text()
            )
            return Answer(response.status, body)

    @asynccontextmanager
    async def events(self, plan_id: int) -> AsyncIterator[AsyncIterator[ServerEvent]]:
        """The plan's event stream, read as the CLI reads it."""
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        url = f"{self.bot.url}/api/v1/plans/{plan_id}/events"
        async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
            assert response.status == 200, await response.text()
            assert response.content_type == "text/event-stream"
            yield server_events(response.content)

    async def issue(self, name: str, roles: list[str]) -> str:
        async with self.bot.carapulse.runtime.sessions.begin() as session:
            issued = await tokens.create(
                session, team_id=TEAM_ID, name=name, roles=roles, created_by="cli:test"
            )
        return issued.token


@asynccontextmanager
async def started_api(database_url: str, tmp_path: Path, **settings: str) -> AsyncIterator[ApiBot]:
    """A bot with the API on and an operator token. Event streams reread every 600 s by default, so
    a test sees only what the wake-ups on each change deliver."""
    overrides = {**API_SETTINGS, "API_EVENTS_RECHECK_SECONDS": "600", **settings}
    async with running_bot(database_url=database_url, tmp_path=tmp_path, overrides=overrides) as bot:
        client = ApiBot(bot=bot, token="")
        client.token = await client.issue("deploy", ["operator"])
        yield client


@pytest.fixture
async def api(database_url: str, tmp_path: Path) -> AsyncIterator[ApiBot]:
    async with started_api(database_url, tmp_path) as client:
        yield client
