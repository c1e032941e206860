"""A Slack thread as context for a planner: every message (paged with conversations.replies) as a
data item naming its author, the root and the latest kept when the thread is long."""

from __future__ import annotations

from typing import Any

from bot.planning_context import ContextItem

PAGE_SIZE = 200
MAX_PAGES = 10
# The root says what the thread is about; the latest say where it stands.
KEPT_LATEST = 50


async def read(client: Any, *, channel: str, thread_ts: str, leave_out: str) -> list[ContextItem]:
    """The thread's messages as context, without the message `leave_out` (the mention itself)."""
    messages: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await client.conversations_replies(
            channel=channel, ts=thread_ts, limit=PAGE_SIZE, cursor=cursor
        )
        messages += page.get("messages") or []
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    said = [message for message in messages if message.get("ts") != leave_out and message.get("text")]
    kept = said if len(said) <= KEPT_LATEST + 1 else [said[0], *said[-KEPT_LATEST:]]
    return [ContextItem(f"thread message by {_author(message)}", message["text"]) for message in kept]


def _author(message: dict[str, Any]) -> str:
    if message.get("user"):
        return f"<@{message['user']}>"
    return f"bot {message.get('bot_id') or message.get('username') or 'unknown'}"
