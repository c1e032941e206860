"""The fake OpenAI and Anthropic APIs refuse what the real ones refuse, with their status and
wording, as the official SDKs see it."""

from __future__ import annotations

import re
from typing import Any

import anthropic
import openai
import pytest

from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.model_api import Failure, answer
from tests.fakes.openai_api import FakeOpenAI

KEY = "sk-test-key"
TOOL = {
    "name": "lookup",
    "description": "Look something up",
    "parameters": {"type": "object", "properties": {}},
}
CHAT_TOOLS = [{"type": "function", "function": TOOL}]


def _openai(fake: FakeOpenAI, key: str = KEY) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=key, base_url=fake.base_url, max_retries=0)


def _anthropic(fake: FakeAnthropic, key: str = KEY) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key=key, base_url=fake.base_url, max_retries=0)


@pytest.mark.parametrize(
    ("messages", "tools", "error"),
    [
        (
            [{"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "call_1", "content": "x"}],
            CHAT_TOOLS,
            "messages with role 'tool' must be a response to a preceeding message with 'tool_calls'",
        ),
        (
            [
                {"role": "user", "content": "hi"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "lookup", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "user", "content": "and?"},
            ],
            CHAT_TOOLS,
            "The following tool_call_ids did not have response messages: call_1",
        ),
        (
            [{"role": "user", "content": "hi"}],
            [{"type": "function", "function": {**TOOL, "name": "kubernetes.list_pods"}}],
            "Invalid 'tools[0].function.name': string does not match pattern",
        ),
    ],
    ids=["result-without-call", "call-without-result", "dotted-tool-name"],
)
async def test_fake_chat_completions_refuse_what_openai_refuses(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]], error: str
) -> None:
    async with FakeOpenAI(api_key=KEY) as fake:
        with pytest.raises(openai.BadRequestError, match=re.escape(error)) as raised:
            async with _openai(fake) as client:
                await client.chat.completions.create(model="gpt-4.1", messages=messages, tools=tools)  # type: ignore[arg-type]

    assert raised.value.status_code == 400
    assert raised.value.type == "invalid_request_error"


async def test_fake_responses_api_refuses_an_output_for_no_call() -> None:
    items = [
        {"role": "user", "content": "hi"},
        {"type": "function_call_output", "call_id": "call_9", "output": "x"},
    ]
    async with FakeOpenAI(api_key=KEY) as fake:
        with pytest.raises(
            openai.BadRequestError, match="No tool call found for function call output with call_id call_9"
        ):
            async with _openai(fake) as client:
                await client.responses.create(model="gpt-4.1", input=items)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("messages", "tools", "error"),
    [
        (
            [
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "x"}],
                }
            ],
            [],
            "unexpected `tool_use_id` found in `tool_result` blocks: toolu_1",
        ),
        (
            [
                {"role": "user", "content": "hi"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}],
                },
                {"role": "user", "content": "and?"},
            ],
            [],
            "`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1",
        ),
        (
            [{"role": "user", "content": "hi"}, {"role": "user", "content": "again"}],
            [],
            "roles must alternate",
        ),
        (
            [{"role": "user", "content": "hi"}],
            [{"name": "kubernetes.list_pods", "description": "d", "input_schema": {"type": "object"}}],
            "tools.0.custom.name: String should match pattern",
        ),
    ],
    ids=["result-without-use", "use-without-result", "two-user-turns", "dotted-tool-name"],
)
async def test_fake_messages_api_refuses_what_anthropic_refuses(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]], error: str
) -> None:
    async with FakeAnthropic(api_key=KEY) as fake:
        with pytest.raises(anthropic.BadRequestError, match=re.escape(error)) as raised:
            async with _anthropic(fake) as client:
                await client.messages.create(
                    model="claude-sonnet-4-5", max_tokens=100, messages=messages, tools=tools
                )  # type: ignore[arg-type]

    assert raised.value.type == "invalid_request_error"


async def test_fakes_refuse_a_wrong_key_with_their_own_error() -> None:
    async with FakeOpenAI(api_key=KEY) as openai_fake, FakeAnthropic(api_key=KEY) as anthropic_fake:
        with pytest.raises(openai.AuthenticationError, match="Incorrect API key provided"):
            async with _openai(openai_fake, "sk-wrong") as client:
                await client.chat.completions.create(
                    model="gpt-4.1", messages=[{"role": "user", "content": "hi"}]
                )
        with pytest.raises(anthropic.AuthenticationError, match="invalid x-api-key"):
            async with _anthropic(anthropic_fake, "sk-wrong") as client:
                await client.messages.create(
                    model="claude-sonnet-4-5", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
                )


async def test_fakes_answer_a_rate_limit_with_retry_after_and_their_error_body() -> None:
    async with FakeOpenAI(api_key=KEY) as openai_fake, FakeAnthropic(api_key=KEY) as anthropic_fake:
        openai_fake.then(Failure("rate_limited", retry_after="7"))
        anthropic_fake.then(Failure("rate_limited", retry_after="7"))
        with pytest.raises(openai.RateLimitError) as openai_raised:
            async with _openai(openai_fake) as client:
                await client.chat.completions.create(
                    model="gpt-4.1", messages=[{"role": "user", "content": "hi"}]
                )
        with pytest.raises(anthropic.RateLimitError) as anthropic_raised:
            async with _anthropic(anthropic_fake) as client:
                await client.messages.create(
                    model="claude-sonnet-4-5", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
                )

    assert openai_raised.value.response.headers["retry-after"] == "7"
    assert openai_raised.value.code == "rate_limit_exceeded"
    assert anthropic_raised.value.response.headers["retry-after"] == "7"
    assert anthropic_raised.value.type == "rate_limit_error"


async def test_fakes_report_the_tokens_of_each_answer_in_their_usage_fields() -> None:
    async with FakeOpenAI(api_key=KEY) as openai_fake, FakeAnthropic(api_key=KEY) as anthropic_fake:
        openai_fake.then(answer("lookup", {"q": "x"}))
        anthropic_fake.then(answer("lookup", {"q": "x"}))
        async with _openai(openai_fake) as client:
            completion = await client.chat.completions.create(
                model="gpt-4.1",
                messages=[{"role": "user", "content": "hi"}],
                tools=CHAT_TOOLS,  # type: ignore[list-item]
            )
        async with _anthropic(anthropic_fake) as client:
            message = await client.messages.create(
                model="claude-sonnet-4-5", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
            )

    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (
        openai_fake.usages[0].input_tokens,
        openai_fake.usages[0].output_tokens,
    )
    assert completion.choices[0].message.tool_calls[0].function.arguments == '{"q": "x"}'  # type: ignore[index,union-attr]
    assert (message.usage.input_tokens, message.usage.output_tokens) == (
        anthropic_fake.usages[0].input_tokens,
        anthropic_fake.usages[0].output_tokens,
    )
    assert message.content[0].type == "tool_use" and message.content[0].input == {"q": "x"}  # type: ignore[union-attr]
