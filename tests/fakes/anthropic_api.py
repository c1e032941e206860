"""A fake Anthropic Messages API (`POST /v1/messages`) as the official `anthropic` SDK talks to it
through its `base_url` (`fake.url`).

Answers and errors have Anthropic's shapes: `message` objects with `text` and `tool_use` content
blocks, `stop_reason`, `usage` with the cache fields, `request-id` headers, and error bodies
`{"type": "error", "error": {"type", "message"}, "request_id"}` (429 `rate_limit_error` with
`retry-after`, 529 `overloaded_error`, 500 `api_error`, 401 `authentication_error`). Requests are
checked as Anthropic checks them: the key (`x-api-key`, or a bearer token as SDK 2.x sends it),
`anthropic-version`, `max_tokens`, alternating roles, tool names, and `tool_result` blocks that
answer exactly the `tool_use` blocks before them.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from tests.fakes.model_api import TOOL_NAME, Answer, BadRequest, Failure, FakeModelApi, Usage, output_tokens

_FAILURES: dict[str, tuple[int, str, str]] = {
    "rate_limited": (
        429,
        "rate_limit_error",
        "This request would exceed the rate limit for your organization of 50 requests per minute. "
        "For details, refer to: https://docs.claude.com/en/api/rate-limits.",
    ),
    "server_error": (500, "api_error", "Internal server error"),
    "overloaded": (529, "overloaded_error", "Overloaded"),
    "unauthorized": (401, "authentication_error", "invalid x-api-key"),
}


class FakeAnthropic(FakeModelApi):
    provider = "anthropic"

    def routes(self) -> list[web.RouteDef]:
        return [self.endpoint("/v1/messages", _check_messages, self._message)]

    @property
    def base_url(self) -> str:
        return self.url

    def check_auth(self, request: web.Request) -> web.StreamResponse | None:
        # The API takes the key as `x-api-key` or, as SDK 2.x sends it, as a bearer token.
        scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
        given = request.headers.get("x-api-key") or (bearer if scheme == "Bearer" else "")
        if given != self.api_key:
            status, kind, message = _FAILURES["unauthorized"]
            return self.error_response(status, kind, message)
        if not request.headers.get("anthropic-version"):
            return self.error_response(400, "invalid_request_error", "anthropic-version: header is required")
        return None

    def error_response(
        self,
        status: int,
        kind: str,
        message: str,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> web.StreamResponse:
        request_id = self.next_id("req_")
        body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id}
        return web.json_response(body, status=status, headers={"request-id": request_id, **(headers or {})})

    def failure_response(self, failure: Failure) -> web.StreamResponse:
        status, kind, message = _FAILURES[failure.kind]
        headers = {}
        if failure.retry_after is not None:
            headers = {
                "retry-after": failure.retry_after,
                "anthropic-ratelimit-requests-limit": "50",
                "anthropic-ratelimit-requests-remaining": "0",
            }
        return self.error_response(status, kind, message, headers=headers)

    def answer_headers(self) -> dict[str, str]:
        return {"request-id": self.next_id("req_")}

    def _message(self, body: dict[str, Any], answer: Answer, usage: Usage) -> dict[str, Any]:
        content: list[dict[str, Any]] = [{"type": "text", "text": answer.text}] if answer.text else []
        for call in answer.calls:
            if isinstance(call.arguments, str):
                raise ValueError("Anthropic sends tool input as a JSON object, never as text")
            content.append(
                {
                    "type": "tool_use",
                    "id": self.next_id("toolu_01"),
                    "name": call.name,
                    "input": call.arguments,
                }
            )
        usage.output_tokens = output_tokens(content)
        return {
            "id": self.next_id("msg_01"),
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": "tool_use" if answer.calls else "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": usage.input_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": usage.output_tokens,
                "service_tier": "standard",
            },
        }


def _check_messages(body: dict[str, Any]) -> None:
    for name in ("model", "max_tokens", "messages"):
        if name not in body:
            raise BadRequest(f"{name}: Field required")
    for number, tool in enumerate(body.get("tools", [])):
        if not re.match(TOOL_NAME, str(tool.get("name", ""))):
            raise BadRequest(f"tools.{number}.custom.name: String should match pattern '{TOOL_NAME}'")
        if (tool.get("input_schema") or {}).get("type") != "object":
            raise BadRequest(f"tools.{number}.custom.input_schema.type: Input should be 'object'")
    choice = body.get("tool_choice") or {}
    if choice.get("type") == "tool" and choice.get("name") not in {t["name"] for t in body.get("tools", [])}:
        raise BadRequest(f"tool_choice.tool.name: Tool '{choice.get('name')}' not found in tools")
    _check_turns(body["messages"])


def _check_turns(messages: list[dict[str, Any]]) -> None:
    previous_role, open_uses = "", set[str]()
    for number, message in enumerate(messages):
        role = message.get("role")
        if number == 0 and role != "user":
            raise BadRequest('messages: first message must use the "user" role')
        if role == previous_role:
            raise BadRequest(
                f'messages: roles must alternate between "user" and "assistant", but found multiple "{role}" '
                "roles in a row"
            )
        blocks = message["content"] if isinstance(message["content"], list) else []
        answered = {block["tool_use_id"] for block in blocks if block.get("type") == "tool_result"}
        if answered - open_uses:
            raise BadRequest(
                f"messages.{number}.content.0: unexpected `tool_use_id` found in `tool_result` blocks: "
                f"{', '.join(sorted(answered - open_uses))}. Each `tool_result` block must have a "
                "corresponding `tool_use` block in the previous message."
            )
        if open_uses - answered:
            raise BadRequest(
                f"messages.{number - 1}: `tool_use` ids were found without `tool_result` blocks immediately "
                f"after: {', '.join(sorted(open_uses - answered))}. Each `tool_use` block must have a "
                "corresponding `tool_result` block in the next message."
            )
        open_uses = {block["id"] for block in blocks if block.get("type") == "tool_use"}
        previous_role = role
