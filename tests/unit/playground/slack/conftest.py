"""The fake Slack and a slack_sdk client pointed at it, for the fake's own tests."""

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.playground.slack.web_api import DEFAULT_TOKEN, FakeSlack


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=DEFAULT_TOKEN, base_url=slack.api_url)
