"""Anthropic's Messages API with tool_use blocks."""

from __future__ import annotations

import json
from typing import Any

import anthropic

from bot.llm.clients import Connection, provider_errors
from bot.llm.conversation import (
    AssistantTurn,
    Exchange,
    ModelUnavailable,
    Reply,
    ToolCall,
    ToolResults,
    Usage,
    UserTurn,
)


def connect(connection: Connection) -> AnthropicMessages:
    sdk = anthropic.AsyncAnthropic(
        api_key=connection.api_key,
        base_url=connection.base_url or None,
        timeout=connection.timeout_seconds,
        max_retries=connection.max_retries,
    )
    return AnthropicMessages(sdk, connection)


class AnthropicMessages:
    def __init__(self, sdk: anthropic.AsyncAnthropic, connection: Connection) -> None:
        self._sdk = sdk
        self._connection = connection

    async def send(self, exchange: Exchange) -> Reply:
        with provider_errors(self._connection, anthropic, anthropic.AnthropicError):
            message = await self._sdk.messages.create(
                model=self._connection.model,
                system=exchange.system,
                messages=_messages(exchange),  # type: ignore[arg-type]
                tools=[
                    {"name": t.name, "description": t.description, "input_schema": t.parameters}  # type: ignore[misc]
                    for t in exchange.tools
                ],
                tool_choice={"type": "tool", "name": exchange.force} if exchange.force else {"type": "any"},
                max_tokens=exchange.max_tokens,
            )
        try:
            return _reply(message)
        except (AttributeError, TypeError) as exc:
            raise ModelUnavailable("answered with something that is not a message") from exc

    async def aclose(self) -> None:
        await self._sdk.close()


def _messages(exchange: Exchange) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for message in exchange.messages:
        if isinstance(message, UserTurn):
            messages.append({"role": "user", "content": message.text})
        elif isinstance(message, AssistantTurn):
            text = [{"type": "text", "text": message.reply.text}] if message.reply.text else []
            uses = [
                {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments or {}}
                for c in message.reply.calls
            ]
            messages.append({"role": "assistant", "content": [*text, *uses]})
        elif isinstance(message, ToolResults):
            results = [
                {"type": "tool_result", "tool_use_id": i, "content": out} for i, out in message.results
            ]
            messages.append({"role": "user", "content": results})
    return messages


def _reply(message: Any) -> Reply:
    calls, texts = [], []
    for block in message.content or []:
        if block.type == "tool_use":
            given = block.input
            arguments = given if isinstance(given, dict) else None
            raw = given if isinstance(given, str) else json.dumps(given)
            calls.append(ToolCall(block.id, block.name, arguments, raw))
        elif block.type == "text":
            texts.append(block.text)
    usage = message.usage
    return Reply(
        calls=calls,
        text="\n".join(texts),
        usage=Usage(usage.input_tokens, usage.output_tokens) if usage else Usage(),
        model=message.model or "",
    )
