"""What a person does on the page, sent to the bot as Slack sends it: signed slash commands, messages
and mentions, button clicks in messages, ephemeral messages and the App Home tab, modal submissions.

Each request is built by the test suite's driver (bot/playground/slack/driver.py) from Slack's example
payloads, so the bot cannot tell the page from Slack. What Slack itself would show the person (an
ack's text, a refused request, a modal's errors) goes to their surfaces.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

from bot.playground.feed import Feed
from bot.playground.slack.driver import BotResponse, SignedRequest, SlackDriver, find_element
from bot.playground.slack.state import BOT_NAME, BOT_USER_ID
from bot.playground.slack.web_api import FakeSlack
from bot.playground.surfaces import Handout, Surfaces

COMMAND = "/carapulse"
_MENTION = re.compile(r"(?<![<\w])@([a-z0-9._-]+)", re.IGNORECASE)


class GestureRefused(ValueError):
    """The page sent something no Slack client could (an unknown message, button or view)."""


@dataclass(frozen=True)
class Submitted:
    """How a modal submission ended: closed, or still open with `errors` by block id."""

    closed: bool
    errors: dict[str, str]


class Gestures:
    def __init__(self, *, slack: FakeSlack, driver: SlackDriver, surfaces: Surfaces, feed: Feed) -> None:
        self.slack = slack
        self.driver = driver
        self.surfaces = surfaces
        self.feed = feed

    async def say(self, *, user: str, channel: str, text: str, thread_ts: str | None = None) -> None:
        """A slash command (in the channel, as Slack runs them), or a message that may mention people."""
        self._channel(channel)
        text = text.strip()
        if not text:
            raise GestureRefused("the message is empty")
        if text.startswith("/"):
            await self._command(user=user, channel=channel, text=text)
        else:
            await self._message(user=user, channel=channel, text=text, thread_ts=thread_ts)
        self.feed.bump()

    async def click(self, *, user: str, channel: str, message_ts: str, action_id: str, value: str) -> None:
        message = self._channel(channel).get(message_ts)
        if message is None or not find_element(message, action_id):
            raise GestureRefused(f"message {message_ts} has no element {action_id!r}")
        payload = self.driver.block_action_payload(
            action_id, value, user=user, channel=channel, message_ts=message_ts
        )
        thread = message.get("thread_ts") if message.get("thread_ts") != message_ts else None
        await self._send(
            self.driver.interactive_request(payload), payload, Handout(user, channel, thread), user
        )

    async def click_ephemeral(self, *, user: str, ephemeral_id: str, action_id: str, value: str) -> None:
        try:
            clicked = self.surfaces.ephemeral(user, ephemeral_id)
        except LookupError as exc:
            raise GestureRefused(str(exc)) from None
        button = find_element({"blocks": clicked.blocks}, action_id)
        if button is None:
            raise GestureRefused(f"ephemeral message {ephemeral_id} has no element {action_id!r}")
        payload = self.driver.block_action_payload(action_id, value, user=user, channel=clicked.channel)
        ts = self.slack.next_ts()
        # Slack sends no message with a click on an ephemeral one; the container says what it was.
        payload.pop("message", None)
        payload["container"] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": clicked.channel,
            "is_ephemeral": True,
        }
        payload["actions"][0]["block_id"] = button.get("block_id", "")
        handout = Handout(user, clicked.channel, clicked.thread_ts, ephemeral=ephemeral_id)
        await self._send(self.driver.interactive_request(payload), payload, handout, user)

    async def click_home(self, *, user: str, action_id: str, value: str) -> None:
        home = self.slack.home_views.get(user)
        if home is None or not find_element(home, action_id):
            raise GestureRefused(f"the Home tab of {user} has no element {action_id!r}")
        self._expect_ok(await self.driver.home_action(action_id, value, user=user), user, None)
        self.feed.bump()

    async def open_home(self, *, user: str) -> None:
        self._expect_ok(await self.driver.home_opened(user=user), user, None)
        self.feed.bump()

    async def submit(self, *, user: str, view_id: str, values: dict[str, Any]) -> Submitted:
        view = self._open_modal(user, view_id)
        payload = self.driver.view_submission_payload(view["callback_id"], values, user=user)
        payload["view"] = {**copy.deepcopy(view), "state": {"values": values}}
        self.surfaces.handed_out(payload, Handout(user, ""))
        answer = await self.driver.interactive_request(payload).send()
        submitted = self._after_submission(user, view_id, answer)
        self.feed.bump()
        return submitted

    def close(self, *, user: str, view_id: str) -> None:
        """The person closed a modal (the bot hears of it only when the view asks with notify_on_close,
        which Carapulse's modals do not)."""
        self._open_modal(user, view_id)
        self.surfaces.close_modal(user, view_id)
        self.feed.bump()

    async def _command(self, *, user: str, channel: str, text: str) -> None:
        command, _, rest = text.partition(" ")
        if command != COMMAND:
            self.surfaces.whisper(
                user=user,
                channel=channel,
                text=f"{command} is not a valid command here: the playground's app has {COMMAND} only.",
            )
            return
        fields = self.driver.slash_command_fields(rest.strip(), user=user, channel=channel)
        await self._send(self.driver.form_request(fields), fields, Handout(user, channel), user)

    async def _message(self, *, user: str, channel: str, text: str, thread_ts: str | None) -> None:
        text = self._mentions(_escaped(text))
        if thread_ts is not None and thread_ts not in self._channel(channel):
            raise GestureRefused(f"no message {thread_ts} to reply to in {channel}")
        ts = self.slack.add_message(channel, text, user=user, thread_ts=thread_ts)
        if f"<@{BOT_USER_ID}>" not in text:
            return
        event: dict[str, Any] = {
            "type": "app_mention",
            "user": user,
            "text": text,
            "channel": channel,
            "ts": ts,
        }
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
        envelope = self.driver.event_envelope(event)
        envelope["event"].update(team=self.slack.workspace.users[user].to_api()["team_id"])
        self._expect_ok(await self.driver.json_request(envelope).send(), user, channel)

    def _mentions(self, text: str) -> str:
        """`@carapulse` and `@bob` typed as Slack's composer turns them into mentions."""
        names = {u.name: u.id for u in self.slack.workspace.users.values()}
        names[BOT_NAME] = BOT_USER_ID
        return _MENTION.sub(lambda m: f"<@{names[m[1]]}>" if m[1] in names else m[0], text)

    async def _send(
        self, request: SignedRequest, payload: dict[str, Any], handout: Handout, user: str
    ) -> None:
        self.surfaces.handed_out(payload, handout)
        answer = self._expect_ok(await request.send(), user, handout.channel)
        body = _json(answer)
        if isinstance(body, dict) and (body.get("text") or body.get("blocks")):
            # An ack with a message: Slack shows it to the person alone.
            self.surfaces.whisper(
                user=user,
                channel=handout.channel,
                text=body.get("text") or "",
                blocks=body.get("blocks"),
                thread_ts=handout.thread_ts,
            )
        self.feed.bump()

    def _expect_ok(self, answer: BotResponse, user: str, channel: str | None) -> BotResponse:
        if answer.status != 200 and channel:
            self.surfaces.whisper(
                user=user,
                channel=channel,
                text=f"Carapulse answered HTTP {answer.status}: {answer.body[:300]}",
            )
        return answer

    def _after_submission(self, user: str, view_id: str, answer: BotResponse) -> Submitted:
        body = _json(answer)
        action = body.get("response_action") if isinstance(body, dict) else None
        if answer.status != 200:
            return Submitted(False, {"": f"Carapulse answered HTTP {answer.status}"})
        if action == "errors":
            return Submitted(False, {str(k): str(v) for k, v in (body.get("errors") or {}).items()})
        if action in ("update", "push") and isinstance(body.get("view"), dict):
            self.surfaces.answer_view(user, view_id, body["view"], push=action == "push")
            return Submitted(False, {})
        if action == "clear":
            self.surfaces.close_all_modals(user)
        else:
            self.surfaces.close_modal(user, view_id)
        return Submitted(True, {})

    def _open_modal(self, user: str, view_id: str) -> dict[str, Any]:
        view = next((v for v in self.surfaces.modals_of(user) if v["id"] == view_id), None)
        if view is None:
            raise GestureRefused(f"{user} has no open modal {view_id}")
        return view

    def _channel(self, channel: str) -> dict[str, dict[str, Any]]:
        if channel not in self.slack.workspace.channels:
            raise GestureRefused(f"no channel {channel}")
        return self.slack.messages[channel]


def _escaped(text: str) -> str:
    """What Slack's composer sends for typed text: &, < and > escaped, so nothing typed is markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _json(answer: BotResponse) -> Any:
    if not answer.body.strip():
        return None
    try:
        return answer.json()
    except json.JSONDecodeError:
        return None
