"""A running bot with the API on, a token for it, and a small client speaking to it over HTTP."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.api import tokens
from tests.fakes.slack_state import OPS_CHANNEL, TEAM_ID
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
            ) as response,
        ):
            body = (
                await response.json()
                if response.content_type == "application/json"
                else await response.text()
            )
            return Answer(response.status, body)

    async def issue(self, name: str, roles: list[str]) -> str:
        async with self.bot.carapulse.runtime.sessions.begin() as session:
            issued = await tokens.create(
                session, team_id=TEAM_ID, name=name, roles=roles, created_by="cli:test"
            )
        return issued.token


@pytest.fixture
async def api(database_url: str, tmp_path: Path) -> AsyncIterator[ApiBot]:
    async with running_bot(database_url=database_url, tmp_path=tmp_path, overrides=API_SETTINGS) as bot:
        client = ApiBot(bot=bot, token="")
        client.token = await client.issue("deploy", ["operator"])
        yield client
