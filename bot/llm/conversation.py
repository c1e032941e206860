"""A conversation with a model in terms of no provider: what is sent (a system prompt, turns, the
tools it may call) and what comes back (tool calls, text, tokens). Each client translates it to its
wire format (clients.py), so planning and investigation are written once."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call; `parameters` is the JSON Schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    """One call the model made. `arguments` is None when `raw` is not a JSON object (a model that
    wrote broken JSON), so the caller can say so rather than guess."""

    id: str
    name: str
    arguments: dict[str, Any] | None
    raw: str


def parsed_call(call_id: str, name: str, raw: str) -> ToolCall:
    """A call whose arguments came as JSON text (OpenAI's wire formats)."""
    try:
        arguments = json.loads(raw)
    except ValueError:
        arguments = None
    return ToolCall(call_id, name, arguments if isinstance(arguments, dict) else None, raw)


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class Reply:
    """What the model answered; `model` is the model as the provider named it in its answer."""

    calls: Sequence[ToolCall]
    text: str
    usage: Usage
    model: str


@dataclass(frozen=True)
class UserTurn:
    text: str


@dataclass(frozen=True)
class AssistantTurn:
    """The model's earlier reply, sent back so it sees its own calls next to their results."""

    reply: Reply


@dataclass(frozen=True)
class ToolResults:
    """The result of each call of the turn before, by call id, in the order they were made."""

    results: Sequence[tuple[str, str]]


Message = UserTurn | AssistantTurn | ToolResults


@dataclass(frozen=True)
class Exchange:
    """One request. `force` names the one tool the model must call; None lets it pick any (but it
    must call one)."""

    system: str
    messages: Sequence[Message]
    tools: Sequence[ToolSpec]
    force: str | None = None
    max_tokens: int = 4096


class ModelUnavailable(Exception):
    """The provider could not give an answer: down, timed out, refused the request, or answered
    with something that is not an answer. `reason` is one line for the card or the thread."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ModelClient(Protocol):
    """One provider's wire format behind `send`; every failure becomes ModelUnavailable."""

    async def send(self, exchange: Exchange) -> Reply: ...

    async def aclose(self) -> None: ...
