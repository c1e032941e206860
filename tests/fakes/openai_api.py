"""A fake OpenAI API: chat completions with tool calls (`POST /v1/chat/completions`) and the Responses
API with function calls (`POST /v1/responses`), as the official `openai` SDK talks to them through
its `base_url` (`{fake.url}/v1`).

Answers and errors have OpenAI's shapes: `chat.completion` objects with `tool_calls` and
`finish_reason`, `response` objects with `function_call` output items, `usage` in each format's own
field names, `{"error": {"message", "type", "param", "code"}}` bodies, `x-request-id` headers, and 429s
with `retry-after` and the rate-limit headers. Requests are checked as OpenAI checks them: the bearer
key, the required fields, tool names, and tool results that answer exactly the calls before them.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from aiohttp import web

from tests.fakes.model_api import (
    TOOL_NAME,
    Answer,
    BadRequest,
    Failure,
    FakeModelApi,
    Usage,
    output_tokens,
)

_FAILURES: dict[str, tuple[int, str, str, str | None]] = {
    "rate_limited": (
        429,
        "requests",
        "Rate limit reached for gpt-4.1 in organization org-fake on requests per min (RPM): Limit 500, "
        "Used 500, Requested 1. Please try again in 1s. Visit "
        "https://platform.openai.com/account/rate-limits to learn more.",
        "rate_limit_exceeded",
    ),
    "server_error": (
        500,
        "server_error",
        "The server had an error while processing your request. Sorry about that!",
        None,
    ),
    "overloaded": (503, "server_error", "The engine is currently overloaded, please try again later.", None),
    "unauthorized": (
        401,
        "invalid_request_error",
        "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
        "invalid_api_key",
    ),
}


class FakeOpenAI(FakeModelApi):
    provider = "openai"

    def routes(self) -> list[web.RouteDef]:
        return [
            self.endpoint("/v1/chat/completions", _check_chat, self._chat_completion),
            self.endpoint("/v1/responses", _check_responses, self._response),
        ]

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def check_auth(self, request: web.Request) -> web.StreamResponse | None:
        if request.headers.get("Authorization") == f"Bearer {self.api_key}":
            return None
        status, kind, message, code = _FAILURES["unauthorized"]
        return self.error_response(status, kind, message, code=code)

    def error_response(
        self,
        status: int,
        kind: str,
        message: str,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        *,
        code: str | None = None,
    ) -> web.StreamResponse:
        body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
        return web.json_response(body, status=status, headers={**self.answer_headers(), **(headers or {})})

    def failure_response(self, failure: Failure) -> web.StreamResponse:
        status, kind, message, code = _FAILURES[failure.kind]
        headers = {}
        if failure.retry_after is not None:
            headers = {
                "retry-after": failure.retry_after,
                "x-ratelimit-limit-requests": "500",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": f"{failure.retry_after}s",
            }
        return self.error_response(status, kind, message, headers=headers, code=code)

    def answer_headers(self) -> dict[str, str]:
        return {"x-request-id": self.next_id("req_"), "openai-processing-ms": "412"}

    def _chat_completion(self, body: dict[str, Any], answer: Answer, usage: Usage) -> dict[str, Any]:
        calls = [
            {
                "id": self.next_id("call_"),
                "type": "function",
                "function": {"name": call.name, "arguments": _arguments(call.arguments)},
            }
            for call in answer.calls
        ]
        message = {
            "role": "assistant",
            "content": answer.text or None,
            "refusal": None,
            "annotations": [],
            **({"tool_calls": calls} if calls else {}),
        }
        usage.output_tokens = output_tokens(message)
        return {
            "id": self.next_id("chatcmpl-"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": _dated(body["model"]),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "tool_calls" if calls else "stop",
                }
            ],
            "usage": {
                "prompt_tokens": usage.input_tokens,
                "completion_tokens": usage.output_tokens,
                "total_tokens": usage.input_tokens + usage.output_tokens,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
            },
            "service_tier": "default",
            "system_fingerprint": "fp_fake0001",
        }

    def _response(self, body: dict[str, Any], answer: Answer, usage: Usage) -> dict[str, Any]:
        output: list[dict[str, Any]] = []
        if answer.text:
            output.append(
                {
                    "type": "message",
                    "id": self.next_id("msg_"),
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": answer.text, "annotations": []}],
                }
            )
        output += [
            {
                "type": "function_call",
                "id": self.next_id("fc_"),
                "call_id": self.next_id("call_"),
                "name": call.name,
                "arguments": _arguments(call.arguments),
                "status": "completed",
            }
            for call in answer.calls
        ]
        usage.output_tokens = output_tokens(output)
        return {
            "id": self.next_id("resp_"),
            "object": "response",
            "created_at": int(time.time()),
            "status": "completed",
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "model": _dated(body["model"]),
            "output": output,
            "parallel_tool_calls": True,
            "previous_response_id": None,
            "reasoning": {"effort": None, "summary": None},
            "store": body.get("store", True),
            "temperature": 1.0,
            "text": {"format": {"type": "text"}},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools", []),
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": {
                "input_tokens": usage.input_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": usage.output_tokens,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": usage.input_tokens + usage.output_tokens,
            },
            "user": None,
            "metadata": {},
        }


def _check_chat(body: dict[str, Any]) -> None:
    _require(body, "model", "messages")
    names = _tool_names(
        [tool.get("function", {}) for tool in body.get("tools", [])], "tools[{}].function.name"
    )
    _check_choice(body.get("tool_choice"), names, nested=True)
    pending: set[str] = set()
    for number, message in enumerate(body["messages"]):
        role = message.get("role")
        if role not in ("system", "developer", "user", "assistant", "tool"):
            raise BadRequest(
                f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', …", "role"
            )
        if role == "tool":
            if message.get("tool_call_id") not in pending:
                raise BadRequest(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                    "with 'tool_calls'.",
                    f"messages.[{number}].role",
                )
            pending.discard(message["tool_call_id"])
            continue
        if pending:
            raise BadRequest(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to "
                "each 'tool_call_id'. The following tool_call_ids did not have response messages: "
                + ", ".join(sorted(pending)),
                f"messages.[{number}].role",
            )
        pending = {call["id"] for call in message.get("tool_calls") or []}


def _check_responses(body: dict[str, Any]) -> None:
    _require(body, "model", "input")
    names = _tool_names(body.get("tools", []), "tools[{}].name")
    _check_choice(body.get("tool_choice"), names, nested=False)
    called: set[str] = set()
    for item in body["input"]:
        if item.get("type") == "function_call":
            called.add(item["call_id"])
        elif item.get("type") == "function_call_output" and item.get("call_id") not in called:
            raise BadRequest(
                f"No tool call found for function call output with call_id {item.get('call_id')}."
            )


def _require(body: dict[str, Any], *names: str) -> None:
    for name in names:
        if not body.get(name):
            raise BadRequest(f"Missing required parameter: '{name}'.", name)


def _tool_names(tools: list[dict[str, Any]], where: str) -> set[str]:
    for number, tool in enumerate(tools):
        if not re.match(TOOL_NAME, str(tool.get("name", ""))):
            raise BadRequest(
                f"Invalid '{where.format(number)}': string does not match pattern. Expected a string that "
                "matches the pattern '^[a-zA-Z0-9_-]+$'.",
                where.format(number),
            )
    return {tool["name"] for tool in tools}


def _check_choice(choice: Any, names: set[str], *, nested: bool) -> None:
    if choice is None or choice in ("auto", "none", "required"):
        return
    name = (choice.get("function") or {}).get("name") if nested else choice.get("name")
    if name not in names:
        raise BadRequest(f"Tool choice '{name}' not found in 'tools' parameter.", "tool_choice")


def _arguments(arguments: dict[str, Any] | str) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def _dated(model: str) -> str:
    """OpenAI answers with the dated snapshot of the model asked for."""
    return f"{model}-2025-04-14"
