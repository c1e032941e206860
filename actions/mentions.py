"""`@carapulse` mentioned in a channel or thread: ack at once, then read the thread and answer in it
with findings or a plan card."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from actions import payloads, threads
from actions.errors import Say, reporting
from blocks.findings import findings_reply
from blocks.replies import error_blocks
from bot import mentions
from bot.domain import Findings
from bot.mentions import Mention
from bot.operations import Runtime

log = logging.getLogger(__name__)


def register(app: AsyncApp, *, runtime: Runtime) -> None:
    @app.event("app_mention")
    async def handle_app_mention(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        mention = payloads.mention(body)
        if mention is None:
            return
        runtime.after_ack.submit(_answer(runtime, client, mention), name=f"mention-{mention.ts}")


async def _answer(runtime: Runtime, client: Any, mention: Mention) -> None:
    async with reporting(_whisper(client, mention), doing="answering your mention"):
        thread = []
        if mention.thread_ts is not None:
            thread = await threads.read(
                client, channel=mention.channel_id, thread_ts=mention.thread_ts, leave_out=mention.ts
            )
        answered = await mentions.answer(runtime, mention=mention, thread=thread)
        if isinstance(answered, Findings):
            text, blocks = findings_reply(answered)
            await client.chat_postMessage(
                channel=mention.channel_id, thread_ts=mention.reply_ts, text=text, blocks=blocks
            )


def _whisper(client: Any, mention: Mention) -> Say:
    """Errors go to the person who asked, in the thread, seen by them only. When Slack refuses even
    that (the channel is gone, the bot was removed), there is nobody left to tell: it is logged."""

    async def say(message: str) -> None:
        try:
            await client.chat_postEphemeral(
                channel=mention.channel_id,
                user=mention.requester.user_id,
                thread_ts=mention.reply_ts,
                text=message,
                blocks=error_blocks(message),
            )
        except SlackApiError as exc:
            log.warning("could not answer a mention in %s: %s", mention.channel_id, exc.response.get("error"))

    return say
