"""Sends the bot what SlackDriver sends (the same payloads, built from bot/playground/specs/slack/payloads/),
as Slack does in Socket Mode: in envelopes over the fake's WebSocket connections, each answered by an
ack. Each method returns the ack's payload (None when the ack carries none)."""

from typing import Any

from bot.playground.slack.driver import SlackDriver
from bot.playground.slack.state import ALICE, BOB, OPS_CHANNEL
from bot.playground.slack.web_api import FakeSlack

SLASH_COMMANDS, INTERACTIVE, EVENTS_API = "slash_commands", "interactive", "events_api"


class SocketDriver:
    def __init__(self, fake: FakeSlack) -> None:
        # Only its payload builders are used: nothing goes over HTTP, so it needs no URL or secret.
        self._payloads = SlackDriver("", "", fake)
        self._server = fake.socket_mode

    async def slash_command(
        self, text: str, *, user: str = ALICE, channel: str = OPS_CHANNEL, **overrides: str
    ) -> dict[str, Any] | None:
        """The command's form fields as a JSON object, as Socket Mode carries them."""
        fields = self._payloads.slash_command_fields(text, user=user, channel=channel, **overrides)
        return await self._server.deliver(SLASH_COMMANDS, fields, accepts_response_payload=True)

    async def block_action(
        self,
        action_id: str,
        value: str,
        *,
        user: str = BOB,
        channel: str = OPS_CHANNEL,
        message_ts: str | None = None,
    ) -> dict[str, Any] | None:
        payload = self._payloads.block_action_payload(
            action_id, value, user=user, channel=channel, message_ts=message_ts
        )
        return await self._server.deliver(INTERACTIVE, payload)

    async def view_submission(
        self,
        callback_id: str,
        values: dict[str, Any],
        private_metadata: str | None = None,
        *,
        user: str = BOB,
    ) -> dict[str, Any] | None:
        """A modal's submission; its ack may carry `response_action` (errors, update, push, clear)."""
        payload = self._payloads.view_submission_payload(callback_id, values, private_metadata, user=user)
        return await self._server.deliver(INTERACTIVE, payload, accepts_response_payload=True)

    async def event(self, event: dict[str, Any], *, retry_attempt: int = 0) -> dict[str, Any] | None:
        """An Events API event in its event_callback wrapper; `retry_attempt` > 0 is Slack's retry."""
        envelope = self._payloads.event_envelope(event)
        retry_reason = "timeout" if retry_attempt else ""
        return await self._server.deliver(
            EVENTS_API, envelope, retry_attempt=retry_attempt, retry_reason=retry_reason
        )
