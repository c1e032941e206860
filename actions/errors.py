"""One place that turns errors into something the person in Slack sees.

Work after `ack()` runs in background tasks, so errors there are reported through `reporting`;
anything that escapes a listener itself reaches the Bolt error handler.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from slack_bolt.async_app import AsyncApp

from blocks.replies import error_blocks
from bot.errors import CarapulseError

log = logging.getLogger(__name__)

Say = Callable[[str], Awaitable[Any]]


@asynccontextmanager
async def reporting(say: Say, *, doing: str) -> AsyncIterator[None]:
    """Show a CarapulseError's own words; log anything else under a reference the user can quote."""
    try:
        yield
    except CarapulseError as exc:
        await say(exc.message)
    except Exception:
        await say(unexpected(doing))


def unexpected(doing: str) -> str:
    reference = uuid.uuid4().hex[:8]
    log.exception("unexpected error while %s (ref %s)", doing, reference)
    return f"Something went wrong while {doing} (ref `{reference}`); the error is logged."


def ephemeral_responder(respond: Any) -> Say:
    async def say(message: str) -> None:
        await respond(
            text=message,
            blocks=error_blocks(message),
            response_type="ephemeral",
            replace_original=False,
        )

    return say


def channel_ephemeral(client: Any, channel_id: str, user_id: str) -> Say:
    """Tell one person in a channel, for work that has no response_url (modal submissions)."""

    async def say(message: str) -> None:
        await client.chat_postEphemeral(channel=channel_id, user=user_id, text=message)

    return say


async def reported(work: Callable[[], Awaitable[Any]], say: Say, *, doing: str) -> None:
    async with reporting(say, doing=doing):
        await work()


def register(app: AsyncApp) -> None:
    @app.error
    async def handle_error(error: Exception, body: dict[str, Any], respond: Any) -> None:
        message = error.message if isinstance(error, CarapulseError) else unexpected("handling a request")
        if respond is not None and body.get("response_url"):
            await ephemeral_responder(respond)(message)
