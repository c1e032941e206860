"""Chat completions with tool calls: OpenAI's classic wire format, and the one OpenAI-compatible
servers (vLLM, Ollama, LiteLLM) speak."""

from __future__ import annotations

from typing import Any

import openai

from bot.llm.clients import Connection, provider_errors
from bot.llm.conversation import (
    AssistantTurn,
    Exchange,
    ModelUnavailable,
    Reply,
    ToolResults,
    Usage,
    UserTurn,
    parsed_call,
)
from bot.llm.openai_sdk import sdk_client


def connect(connection: Connection) -> OpenAIChat:
    return OpenAIChat(sdk_client(connection), connection)


class OpenAIChat:
    def __init__(self, sdk: openai.AsyncOpenAI, connection: Connection) -> None:
        self._sdk = sdk
        self._connection = connection

    async def send(self, exchange: Exchange) -> Reply:
        with provider_errors(self._connection, openai, openai.OpenAIError):
            completion = await self._sdk.chat.completions.create(
                model=self._connection.model,
                messages=_messages(exchange),  # type: ignore[arg-type]
                tools=_tools(exchange),  # type: ignore[arg-type]
                tool_choice=_tool_choice(exchange),  # type: ignore[arg-type]
                max_completion_tokens=exchange.max_tokens,
            )
        try:
            return _reply(completion)
        except (AttributeError, IndexError, TypeError) as exc:
            raise ModelUnavailable("answered with something that is not a chat completion") from exc

    async def aclose(self) -> None:
        await self._sdk.close()


def _messages(exchange: Exchange) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": exchange.system}]
    for message in exchange.messages:
        if isinstance(message, UserTurn):
            messages.append({"role": "user", "content": message.text})
        elif isinstance(message, AssistantTurn):
            calls = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.raw}}
                for c in message.reply.calls
            ]
            messages.append({"role": "assistant", "content": message.reply.text or None, "tool_calls": calls})
        elif isinstance(message, ToolResults):
            messages += [{"role": "tool", "tool_call_id": i, "content": text} for i, text in message.results]
    return messages


def _tools(exchange: Exchange) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
        }
        for t in exchange.tools
    ]


def _tool_choice(exchange: Exchange) -> str | dict[str, Any]:
    if exchange.force is None:
        return "required"
    return {"type": "function", "function": {"name": exchange.force}}


def _reply(completion: Any) -> Reply:
    message = completion.choices[0].message
    calls = [
        parsed_call(call.id, call.function.name, call.function.arguments or "")
        for call in message.tool_calls or []
        if call.type == "function"
    ]
    usage = completion.usage
    return Reply(
        calls=calls,
        text=message.content or "",
        usage=Usage(usage.prompt_tokens, usage.completion_tokens) if usage else Usage(),
        model=completion.model or "",
    )
