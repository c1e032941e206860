"""PLAN_RATE_LIMIT through Slack: a person past the limit is told when to ask again, others are not
held back, the window moves on, requests at once cannot overshoot it, and a repeated delivery of a
request already let in is not refused."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.db.models import Plan
from bot.playground.slack.state import ALICE, BOB
from tests.harness import RunningBot, running_bot
from tests.integration.api.conftest import started_api

ASK = "scale checkout to 3 in shop"


@pytest.fixture
async def bot(database_url: str, tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(
        database_url=database_url,
        tmp_path=tmp_path,
        overrides={
            "PLAN_RATE_LIMIT": "2/minute",
            "ROLES": json.dumps({ALICE: ["operator"], BOB: ["operator"]}),
        },
    ) as running:
        yield running


async def _plans_of(bot: RunningBot, user: str) -> int:
    async with bot.carapulse.runtime.sessions() as session:
        query = select(func.count()).select_from(Plan).where(Plan.requester_id == user)
        return int(await session.scalar(query) or 0)


async def _ask(bot: RunningBot, user: str) -> None:
    assert (await bot.driver.slash_command(ASK, user=user)).status == 200


async def _refusals(bot: RunningBot, count: int) -> list[str]:
    texts = await bot.slack.wait_until(
        lambda: (
            (found := [str(r.body) for r in bot.slack.responses if "Ask again" in str(r.body)])
            and len(found) >= count
            and found
        )
    )
    return texts


async def test_past_the_limit_a_person_is_told_when_to_ask_again(bot: RunningBot) -> None:
    for _ in range(2):
        await _ask(bot, ALICE)
    await bot.slack.wait_until(lambda: len(bot.slack.calls_to("chat.postMessage")) >= 2)

    await _ask(bot, ALICE)
    (refusal,) = await _refusals(bot, 1)
    assert "You have asked for 2 plans recently" in refusal
    assert "2 per minute, PLAN_RATE_LIMIT" in refusal
    assert "'response_type': 'ephemeral'" in refusal
    assert await _plans_of(bot, ALICE) == 2

    # Someone else still may.
    await _ask(bot, BOB)
    await bot.slack.wait_until(lambda: len(bot.slack.calls_to("chat.postMessage")) >= 3)
    assert await _plans_of(bot, BOB) == 1


async def test_once_the_window_has_moved_on_the_person_may_ask_again(bot: RunningBot) -> None:
    for _ in range(2):
        await _ask(bot, ALICE)
    await bot.slack.wait_until(lambda: len(bot.slack.calls_to("chat.postMessage")) >= 2)
    async with bot.carapulse.runtime.sessions.begin() as session:
        for plan in await session.scalars(select(Plan)):
            plan.created_at -= timedelta(seconds=61)

    await _ask(bot, ALICE)
    await bot.slack.wait_until(lambda: len(bot.slack.calls_to("chat.postMessage")) >= 3)
    assert await _plans_of(bot, ALICE) == 3


async def test_requests_at_once_cannot_overshoot_the_limit(bot: RunningBot) -> None:
    answers = await asyncio.gather(*(bot.driver.slash_command(ASK, user=ALICE) for _ in range(5)))
    assert {answer.status for answer in answers} == {200}

    await _refusals(bot, 3)
    await bot.carapulse.runtime.supervisor.drain()
    assert await _plans_of(bot, ALICE) == 2


async def test_a_repeated_delivery_of_a_request_let_in_is_not_refused(bot: RunningBot) -> None:
    await _ask(bot, ALICE)
    second = bot.driver.slash_command_request(ASK, user=ALICE)
    await second.send()
    await bot.slack.wait_until(lambda: len(bot.slack.calls_to("chat.postMessage")) >= 2)

    await second.send()
    await bot.carapulse.runtime.supervisor.drain()
    assert not [r for r in bot.slack.responses if "Ask again" in str(r.body)]
    assert await _plans_of(bot, ALICE) == 2


async def test_the_api_answers_429_past_the_limit(database_url: str, tmp_path: Path) -> None:
    scale = {"workflow": "scale_service", "inputs": {"name": "checkout", "namespace": "shop", "count": 5}}
    async with started_api(database_url, tmp_path, PLAN_RATE_LIMIT="1/hour") as api:
        assert (await api.call("POST", "/api/v1/plans", json=scale)).status == 201
        refused = await api.call("POST", "/api/v1/plans", json=scale)
    assert refused.status == 429
    assert refused.body["error"] == "rate_limited"
    assert "1 per hour, PLAN_RATE_LIMIT" in refused.body["message"]
