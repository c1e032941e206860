"""The one door to the model (bot/llm/model.py), through the real SDKs and the fake providers: what
leaves is redacted, the wait is bounded, retries are the SDK's as configured, and every request is
counted (tokens, cost) in the metrics and the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from bot.audit import AuditKind
from bot.db.engine import SessionFactory
from bot.db.models import AuditEvent
from bot.llm import configured
from bot.llm.conversation import Exchange, ModelUnavailable, ToolResults, ToolSpec, UserTurn
from bot.llm.model import Model
from bot.settings import load_settings
from tests.builders import ALICE
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.model_api import Failure, FakeModelApi, Stall, answer
from tests.fakes.openai_api import FakeOpenAI
from tools.common.redaction import Redactor

KEY = "sk-model-door-key"
TOOL = ToolSpec("lookup", "Look something up", {"type": "object", "properties": {}})
PRICES = {"gpt-4.1": {"input": 2.0, "output": 8.0}, "claude-sonnet-4-5": {"input": 3.0, "output": 15.0}}
PROVIDERS = {
    "openai": (FakeOpenAI, "gpt-4.1", "OPENAI_API_KEY"),
    "anthropic": (FakeAnthropic, "claude-sonnet-4-5", "ANTHROPIC_API_KEY"),
}


@asynccontextmanager
async def door(
    sessions: SessionFactory, provider: str, **settings: Any
) -> AsyncIterator[tuple[Model, FakeModelApi]]:
    fake_class, model_name, variable = PROVIDERS[provider]
    async with fake_class(api_key=KEY) as fake:
        given = {"planner_model": model_name, "planner_prices": PRICES, **settings}
        chosen = load_settings(
            slack_bot_token="xoxb-1", planner=provider, planner_base_url=fake.base_url, **given
        )
        redactor = Redactor.with_secrets([], [r"CANARY-[0-9]+"])
        model = configured.model(chosen, {variable: KEY}, sessions=sessions, redactor=redactor)
        assert model is not None
        try:
            yield model, fake
        finally:
            await model.aclose()


def exchange(text: str = "hello") -> Exchange:
    return Exchange(system="You plan. CANARY-1 stays: it is ours.", messages=[UserTurn(text)], tools=[TOOL])


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def model_requests(sessions: SessionFactory) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.kind == str(AuditKind.MODEL_REQUEST)).order_by(AuditEvent.id)
        )
        return [{"actor": row.actor_id, "team": row.team_id, **row.detail} for row in rows]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_each_request_counts_its_tokens_and_cost_in_metrics_and_audit(
    sessions: SessionFactory, provider: str
) -> None:
    async with door(sessions, provider) as (model, fake):
        name = model.ref.model
        before = {
            "requests": sample(
                "carapulse_model_requests_total", provider=provider, model=name, purpose="plan", outcome="ok"
            ),
            "input": sample("carapulse_model_tokens_total", provider=provider, model=name, direction="input"),
            "output": sample(
                "carapulse_model_tokens_total", provider=provider, model=name, direction="output"
            ),
            "cost": sample("carapulse_model_cost_usd_total", provider=provider, model=name),
        }
        fake.then(answer("lookup", {"q": "x"}))

        reply = await model.send(exchange(), actor=ALICE, purpose="plan")

        usage = fake.usages[0]
        assert (reply.usage.input_tokens, reply.usage.output_tokens) == (
            usage.input_tokens,
            usage.output_tokens,
        )
        price_in, price_out = (2.0, 8.0) if provider == "openai" else (3.0, 15.0)
        dollars = (usage.input_tokens * price_in + usage.output_tokens * price_out) / 1_000_000
        assert (
            sample(
                "carapulse_model_requests_total", provider=provider, model=name, purpose="plan", outcome="ok"
            )
            == before["requests"] + 1
        )
        tokens_in = sample("carapulse_model_tokens_total", provider=provider, model=name, direction="input")
        tokens_out = sample("carapulse_model_tokens_total", provider=provider, model=name, direction="output")
        assert tokens_in == before["input"] + usage.input_tokens
        assert tokens_out == before["output"] + usage.output_tokens
        assert sample("carapulse_model_cost_usd_total", provider=provider, model=name) == pytest.approx(
            before["cost"] + dollars
        )
        [event] = await model_requests(sessions)
        assert event["actor"] == ALICE.user_id and event["team"] == ALICE.team_id
        assert event["input_tokens"] == usage.input_tokens and event["output_tokens"] == usage.output_tokens
        assert event["cost_usd"] == pytest.approx(dollars)
        assert (event["provider"], event["model"], event["purpose"], event["outcome"]) == (
            provider,
            name,
            "plan",
            "ok",
        )
        assert event["answered_by"].startswith(name)


async def test_a_model_without_a_price_counts_tokens_but_no_cost(sessions: SessionFactory) -> None:
    async with door(sessions, "openai", planner_model="llama3.1:8b") as (model, fake):
        before = sample("carapulse_model_cost_usd_total", provider="openai", model="llama3.1:8b")
        fake.then(answer("lookup", {}))

        await model.send(exchange(), actor=ALICE, purpose="investigate")

        [event] = await model_requests(sessions)
        assert event["cost_usd"] is None and event["input_tokens"] > 0
        assert sample("carapulse_model_cost_usd_total", provider="openai", model="llama3.1:8b") == before


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_what_leaves_is_redacted_but_carapulse_own_prompt_is_sent_as_written(
    sessions: SessionFactory, provider: str
) -> None:
    async with door(sessions, provider) as (model, fake):
        fake.then(answer("lookup", {}))
        sent = exchange("user says CANARY-42 and password=hunter22")

        await model.send(sent, actor=ALICE, purpose="plan")

        received = fake.received.decode()
        assert "CANARY-42" not in received and "hunter22" not in received
        assert "user says [redacted] and password=[redacted]" in received
        assert "CANARY-1 stays: it is ours." in received
        results = ToolResults([("call_1", "log: CANARY-77")])
        assert model._redacted(results) == ToolResults([("call_1", "log: [redacted]")])


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_request_that_outlasts_its_budget_is_unavailable_and_audited(
    sessions: SessionFactory, provider: str
) -> None:
    async with door(sessions, provider, planner_timeout_seconds=0.5) as (model, fake):
        fake.then(Stall())

        with pytest.raises(ModelUnavailable, match=r"timed out after 0.5s"):
            await model.send(exchange(), actor=ALICE, purpose="plan")

        [event] = await model_requests(sessions)
        assert (event["outcome"], event["reason"], event["input_tokens"]) == (
            "unavailable",
            "timed out after 0.5s",
            0,
        )


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_the_sdk_retries_5xx_as_configured_and_not_beyond(
    sessions: SessionFactory, provider: str
) -> None:
    async with door(sessions, provider, planner_max_retries=1) as (model, fake):
        fake.then(
            Failure("server_error"), answer("lookup", {}), Failure("server_error"), Failure("overloaded")
        )

        await model.send(exchange(), actor=ALICE, purpose="plan")
        with pytest.raises(ModelUnavailable, match=r"answered 5\d\d: "):
            await model.send(exchange(), actor=ALICE, purpose="plan")

        assert len(fake.arrivals) == 4
        assert [event["outcome"] for event in await model_requests(sessions)] == ["ok", "unavailable"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_with_no_retries_a_rate_limit_is_reported_at_once(
    sessions: SessionFactory, provider: str
) -> None:
    async with door(sessions, provider, planner_max_retries=0) as (model, fake):
        fake.then(Failure("rate_limited", retry_after="30"))

        with pytest.raises(ModelUnavailable, match=r"rate limited \(429\) after 0 retries: "):
            await model.send(exchange(), actor=ALICE, purpose="plan")

        assert len(fake.arrivals) == 1
