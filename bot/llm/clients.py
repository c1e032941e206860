"""Which wire format talks to the configured model, and the SDK loaded only when it is first needed.

Importing `openai` takes about 1 s of CPU and `anthropic` about 2.5 s here, and a deployment that
plans with the rules never needs either: the adapter module (which imports its SDK) is loaded on the
first request, in a thread, so the event loop keeps answering Slack meanwhile.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

from bot.llm.conversation import Exchange, ModelClient, ModelUnavailable, Reply

Api = Literal["chat", "responses", "messages"]

_ADAPTERS: dict[Api, str] = {
    "chat": "bot.llm.openai_chat",
    "responses": "bot.llm.openai_responses",
    "messages": "bot.llm.anthropic_messages",
}


@dataclass(frozen=True)
class Connection:
    """How to reach the model. `timeout_seconds` bounds each attempt and `max_retries` is handed to
    the SDK, which retries connection errors, 408, 409, 429 and 5xx with exponential backoff,
    waiting what a `retry-after` header asks (up to a minute)."""

    api: Api
    model: str
    api_key: str
    base_url: str | None
    timeout_seconds: float
    max_retries: int


class LazyClient:
    """A ModelClient that imports its adapter and SDK, and connects, on the first `send`."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._client: ModelClient | None = None
        self._lock = asyncio.Lock()

    async def send(self, exchange: Exchange) -> Reply:
        return await (self._client or await self._connect()).send(exchange)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def _connect(self) -> ModelClient:
        async with self._lock:
            if self._client is None:
                adapter = await asyncio.to_thread(importlib.import_module, _ADAPTERS[self.connection.api])
                self._client = adapter.connect(self.connection)
        return self._client


@contextmanager
def provider_errors(connection: Connection, sdk: ModuleType, base: type[Exception]) -> Iterator[None]:
    """Around an SDK call: its errors (`base` and below) and an answer whose body is not even JSON
    become ModelUnavailable."""
    try:
        yield
    except base as exc:
        raise _unavailable(exc, connection, sdk) from exc
    except json.JSONDecodeError as exc:
        raise ModelUnavailable("answered with a body that is not JSON") from exc


def _unavailable(exc: Exception, connection: Connection, sdk: ModuleType) -> ModelUnavailable:
    """One line for a request that failed after the SDK's own retries: what the provider said, never
    the request (which holds the prompt). Both SDKs name their errors alike, so `sdk` is either."""
    if isinstance(exc, sdk.APITimeoutError):
        return ModelUnavailable(f"timed out after {connection.timeout_seconds:g}s")
    if isinstance(exc, sdk.APIStatusError):
        message = getattr(exc, "api_message", None) or _error_message(exc.body, exc.message)
        if exc.status_code == 429:
            return ModelUnavailable(f"rate limited (429) after {connection.max_retries} retries: {message}")
        return ModelUnavailable(f"answered {exc.status_code}: {message}")
    if isinstance(exc, sdk.APIConnectionError):
        return ModelUnavailable(f"could not be reached: {exc.message}")
    return ModelUnavailable(f"failed: {exc}")


def _error_message(body: object, fallback: str) -> str:
    """The `message` of an error body (`{"error": {"message"}}`, or the `error` object alone)."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
    return fallback
