"""The OpenAI SDK client both OpenAI wire formats share."""

from __future__ import annotations

import openai

from bot.llm.clients import Connection


def sdk_client(connection: Connection) -> openai.AsyncOpenAI:
    """Timeout and retries set here, explicitly, rather than left to the SDK's defaults (10 minutes)."""
    return openai.AsyncOpenAI(
        api_key=connection.api_key,
        base_url=connection.base_url or None,
        timeout=connection.timeout_seconds,
        max_retries=connection.max_retries,
    )
