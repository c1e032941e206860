"""OpenAI's Responses API with function calls. Nothing is stored at OpenAI (`store: false`): each
request carries the whole conversation, as chat completions do."""

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


def connect(connection: Connection) -> OpenAIResponses:
    return OpenAIResponses(sdk_client(connection), connection)


class OpenAIResponses:
    def __init__(self, sdk: openai.AsyncOpenAI, connection: Connection) -> None:
        self._sdk = sdk
        self._connection = connection

    async def send(self, exchange: Exchange) -> Reply:
        with provider_errors(self._connection, openai, openai.OpenAIError):
            response = await self._sdk.responses.create(
                model=self._connection.model,
                instructions=exchange.system,
                input=_items(exchange),  # type: ignore[arg-type]
                tools=[
                    {
                        "type": "function",
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                        "strict": False,
                    }
                    for t in exchange.tools
                ],
                tool_choice={"type": "function", "name": exchange.force} if exchange.force else "required",
                max_output_tokens=exchange.max_tokens,
                store=False,
            )
        try:
            return _reply(response)
        except (AttributeError, TypeError) as exc:
            raise ModelUnavailable("answered with something that is not a response") from exc

    async def aclose(self) -> None:
        await self._sdk.close()


def _items(exchange: Exchange) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for message in exchange.messages:
        if isinstance(message, UserTurn):
            items.append({"role": "user", "content": message.text})
        elif isinstance(message, AssistantTurn):
            if message.reply.text:
                items.append({"role": "assistant", "content": message.reply.text})
            items += [
                {"type": "function_call", "call_id": c.id, "name": c.name, "arguments": c.raw}
                for c in message.reply.calls
            ]
        elif isinstance(message, ToolResults):
            items += [
                {"type": "function_call_output", "call_id": i, "output": out} for i, out in message.results
            ]
    return items


def _reply(response: Any) -> Reply:
    calls, texts = [], []
    for item in response.output or []:
        if item.type == "function_call":
            calls.append(parsed_call(item.call_id, item.name, item.arguments or ""))
        elif item.type == "message":
            texts += [part.text for part in item.content or [] if part.type == "output_text"]
    usage = response.usage
    return Reply(
        calls=calls,
        text="\n".join(texts),
        usage=Usage(usage.input_tokens, usage.output_tokens) if usage else Usage(),
        model=response.model or "",
    )
