"""Bots that plan with a model: the fake provider of each wire format, the settings that point the
bot at it, and the answers the scenario tests script."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.planning_context import ContextItem, ContextQuery
from bot.playground.slack.state import ALICE, BOT_USER_ID, OPS_CHANNEL, TEAM_ID
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.model_api import FakeModelApi
from tests.fakes.openai_api import FakeOpenAI
from tests.harness import RunningBot, running_bot

API_KEY = "sk-fake-planner-key-0001"


@dataclass(frozen=True)
class Dialect:
    """One wire format: the provider, its PLANNER_API (OpenAI only) and the model asked for."""

    name: str
    provider: str
    api: str
    model: str
    fake_class: type[FakeOpenAI] | type[FakeAnthropic]
    key_variable: str

    def fake(self) -> FakeModelApi:
        return self.fake_class(api_key=API_KEY)

    def settings(self, fake: FakeModelApi) -> dict[str, str]:
        return {
            "PLANNER": self.provider,
            "PLANNER_MODEL": self.model,
            "PLANNER_API": self.api,
            "PLANNER_BASE_URL": fake.base_url,
            self.key_variable: API_KEY,
            "PLANNER_TIMEOUT_SECONDS": "20",
            "PLANNER_MAX_RETRIES": "2",
        }

    @property
    def label(self) -> str:
        return f"{self.provider} ({self.model})"


CHAT = Dialect("openai-chat", "openai", "chat", "gpt-4.1", FakeOpenAI, "OPENAI_API_KEY")
RESPONSES = Dialect("openai-responses", "openai", "responses", "gpt-4.1", FakeOpenAI, "OPENAI_API_KEY")
MESSAGES = Dialect(
    "anthropic-messages", "anthropic", "chat", "claude-sonnet-4-5", FakeAnthropic, "ANTHROPIC_API_KEY"
)
DIALECTS = [CHAT, RESPONSES, MESSAGES]


@dataclass
class PlanningBot:
    bot: RunningBot
    api: FakeModelApi
    dialect: Dialect


@asynccontextmanager
async def planning_bot(
    database_url: str,
    tmp_path: Path,
    dialect: Dialect,
    *,
    context: Sequence[ContextItem] = (),
    **overrides: str,
) -> AsyncIterator[PlanningBot]:
    """`context` is what a context provider finds for every request."""
    async with dialect.fake() as api:
        settings = {**dialect.settings(api), **overrides}
        providers = [FixedContext(context)] if context else []
        async with running_bot(
            database_url=database_url, tmp_path=tmp_path, overrides=settings, context_providers=providers
        ) as bot:
            yield PlanningBot(bot, api, dialect)
        assert api.violations == [], api.violations


class FixedContext:
    """A PlanningContextProvider that finds the same items for every query, and records the queries."""

    def __init__(self, items: Sequence[ContextItem]) -> None:
        self.items = list(items)
        self.queries: list[ContextQuery] = []

    async def gather(self, query: ContextQuery, *, limit: int) -> Sequence[ContextItem]:
        self.queries.append(query)
        return self.items[:limit]


def restart_plan(**changes: Any) -> dict[str, Any]:
    """A propose_plan answer: restart shop/checkout, then wait for its rollout."""
    ref = {"namespace": "shop", "name": "checkout"}
    plan = {
        "summary": "Restart checkout and wait for its rollout",
        "target": {"namespace": "shop", "kind": "Deployment", "name": "checkout"},
        "steps": [
            {
                "stage": "act",
                "action": "kubernetes.rollout_restart",
                "args": ref,
                "description": "Restart pods",
            },
            {
                "stage": "verify",
                "action": "kubernetes.rollout_status",
                "args": ref,
                "description": "Rolled out?",
            },
        ],
        "rollback": "Nothing to undo: a restart changes no spec",
    }
    return {**plan, **changes}


async def ephemeral(bot: RunningBot, expected: str) -> str:
    """Wait for an answer to the requester's response_url containing `expected`; its text."""

    def said() -> str | None:
        texts = [str((r.body or {}).get("text", "")) for r in bot.slack.responses]
        return next((text for text in texts if expected in text), None)

    return await bot.slack.wait_until(said)


async def mention(bot: RunningBot, text: str, *, thread_ts: str | None = None, user: str = ALICE) -> str:
    """Write `@carapulse <text>` in the ops channel (in a thread when `thread_ts`) as Slack stores it,
    deliver its app_mention event, and return the mention's ts."""
    said = f"<@{BOT_USER_ID}> {text}"
    ts = bot.slack.add_message(OPS_CHANNEL, said, user=user, thread_ts=thread_ts)
    event = {
        "type": "app_mention",
        "user": user,
        "text": said,
        "channel": OPS_CHANNEL,
        "ts": ts,
        "team": TEAM_ID,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    response = await bot.driver.event(event)
    assert response.status == 200
    return ts


async def thread_reply(bot: RunningBot, thread_ts: str, expected: str) -> dict[str, Any]:
    """The bot's message in the thread that contains `expected`, once posted."""

    def posted() -> dict[str, Any] | None:
        for message in bot.slack.messages.get(OPS_CHANNEL, {}).values():
            if message.get("thread_ts") == thread_ts and message.get("bot_id") and expected in str(message):
                return message
        return None

    return await bot.slack.wait_until(posted)
