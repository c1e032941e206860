"""A running playground and a client of its page's JSON API, as the page's script uses it."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.playground import stage
from bot.playground.slack.web_api import FakeSlack
from bot.playground.stage import Playground


@dataclass
class PageClient:
    playground: Playground
    session: aiohttp.ClientSession

    async def post(self, path: str, body: dict[str, Any], **headers: str) -> tuple[int, Any]:
        async with self.session.post(
            self.playground.url + path,
            data=json.dumps(body),
            headers={"Content-Type": "application/json", **headers},
        ) as response:
            text = await response.text()
            return response.status, _decoded(text)

    async def state(self, user: str) -> dict[str, Any]:
        async with self.session.get(self.playground.url + "/api/state", params={"user": user}) as response:
            assert response.status == 200, await response.text()
            return dict(await response.json())

    async def wait_for_state(self, user: str, condition: Any, timeout: float = 30) -> dict[str, Any]:  # noqa: ASYNC109
        """The user's snapshot once `condition(snapshot)` holds, re-read after every call the bot makes."""
        slack = self.playground.slack
        while True:
            # Measured before reading, so a call made meanwhile is not waited for in vain.
            size = _record_size(slack)
            state = await self.state(user)
            if condition(state):
                return state
            await slack.wait_until(functools.partial(_grown, slack, size), timeout=timeout)


def _record_size(slack: FakeSlack) -> int:
    return len(slack.calls) + len(slack.responses)


def _grown(slack: FakeSlack, size: int) -> bool:
    return _record_size(slack) != size


def _decoded(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


@pytest.fixture
async def playground(tmp_path: Path) -> AsyncIterator[Playground]:
    async with stage.running(directory=tmp_path) as running:
        yield running
        assert running.slack.violations == []


@pytest.fixture
async def page(playground: Playground) -> AsyncIterator[PageClient]:
    async with aiohttp.ClientSession() as session:
        yield PageClient(playground, session)
