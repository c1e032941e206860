"""Sends the bot signed requests as Slack does, over real HTTP, built from
bot/playground/specs/slack/payloads/.

Each `*_request` method builds a `SignedRequest` (body fixed, fresh trigger_id/ts/event_id,
response_url on the fake); `send()` signs it with a fresh timestamp, so sending it twice is a
duplicate delivery. The plain methods (`slash_command`, ...) build and send once. The
`*_fields`/`*_payload` methods give the body as data, for tests that break it before sending
it with `form_request`, `interactive_request`, `json_request` or `raw_request`.
"""

import copy
import hashlib
import hmac
import io
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.playground.slack.bodies import FORM, JSON, form_body, interactive_body, json_body
from bot.playground.slack.specs import load_spec
from bot.playground.slack.state import ALICE, BOB, OPS_CHANNEL, TEAM_ID
from bot.playground.slack.web_api import FakeSlack

DEFAULT_PATH = "/slack/events"


@dataclass(frozen=True)
class BotResponse:
    status: int
    headers: Mapping[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


class SignedRequest:
    """A body fixed when built, sent byte for byte; each `send()` signs it anew. `body` (decoded)
    and `headers()` also serve tests that hand the request to `app.async_dispatch` without HTTP.
    Without a `content_type` the request carries no Content-Type header at all."""

    def __init__(self, url: str, body: bytes, content_type: str | None, secret: str) -> None:
        self.url = url
        self.body = body
        self.content_type = content_type
        self.secret = secret

    async def send(
        self,
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: int | None = None,
        secret: str | None = None,
        replace_headers: Mapping[str, str | None] | None = None,
    ) -> BotResponse:
        """POST the body, signed at `timestamp` (default now) with `secret` (default the app's).

        `retry_num` adds X-Slack-Retry-Num/X-Slack-Retry-Reason as on an Events API retry.
        `replace_headers` overrides headers after signing (None drops one), to forge a request.
        """
        headers = self.headers(timestamp=timestamp, secret=secret)
        if retry_num is not None:
            headers.update({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason})
        for name, value in (replace_headers or {}).items():
            headers.pop(name, None)
            if value is not None:
                headers[name] = value
        async with (
            aiohttp.ClientSession(skip_auto_headers=["Content-Type"]) as session,
            # A stream, since aiohttp warns about large bytes bodies (the 413 tests send one).
            session.post(self.url, data=io.BytesIO(self.body), headers=headers) as response,
        ):
            return BotResponse(response.status, dict(response.headers), await response.text())

    def headers(self, *, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        common = load_spec("payloads/headers.json")["common"]
        content_type = {} if self.content_type is None else {"Content-Type": self.content_type}
        return {
            "User-Agent": common["User-Agent"],
            "Accept": common["Accept"],
            **content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature(secret or self.secret, stamp, self.body),
        }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature over the exact bytes sent. slack_sdk's signer decodes the body as UTF-8
    first, so it cannot sign the invalid bytes some tests send on purpose."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackDriver:
    def __init__(
        self, base_url: str, signing_secret: str, fake: FakeSlack, *, path: str = DEFAULT_PATH
    ) -> None:
        self.url = base_url.rstrip("/") + path
        self.signing_secret = signing_secret
        self.fake = fake

    async def slash_command(
        self, text: str, *, user: str = ALICE, channel: str = OPS_CHANNEL, **overrides: str
    ) -> BotResponse:
        return await self.slash_command_request(text, user=user, channel=channel, **overrides).send()

    async def block_action(
        self,
        action_id: str,
        value: str,
        *,
        user: str = BOB,
        channel: str = OPS_CHANNEL,
        message_ts: str | None = None,
    ) -> BotResponse:
        request = self.block_action_request(
            action_id, value, user=user, channel=channel, message_ts=message_ts
        )
        return await request.send()

    async def view_submission(
        self,
        callback_id: str,
        values: dict[str, Any],
        private_metadata: str | None = None,
        *,
        user: str = BOB,
    ) -> BotResponse:
        request = self.view_submission_request(callback_id, values, private_metadata, user=user)
        return await request.send()

    async def event(self, event: dict[str, Any]) -> BotResponse:
        return await self.event_request(event).send()

    def slash_command_request(
        self, text: str, *, user: str = ALICE, channel: str = OPS_CHANNEL, **overrides: str
    ) -> SignedRequest:
        return self.form_request(self.slash_command_fields(text, user=user, channel=channel, **overrides))

    def slash_command_fields(
        self, text: str, *, user: str = ALICE, channel: str = OPS_CHANNEL, **overrides: str
    ) -> dict[str, str]:
        """`overrides` replace any form field (`command`, `team_id`, ...)."""
        fields: dict[str, str] = load_spec("payloads/slash_command.form.json")
        fields.update(
            text=text,
            user_id=user,
            user_name=self._user_name(user),
            channel_id=channel,
            channel_name=self._channel_name(channel),
            trigger_id=self.fake.issue_trigger_id(),
            response_url=self.fake.response_url("commands", channel=channel),
        )
        fields.update(overrides)
        return fields

    def block_action_request(
        self,
        action_id: str,
        value: str,
        *,
        user: str = BOB,
        channel: str = OPS_CHANNEL,
        message_ts: str | None = None,
    ) -> SignedRequest:
        payload = self.block_action_payload(
            action_id, value, user=user, channel=channel, message_ts=message_ts
        )
        return self.interactive_request(payload)

    def block_action_payload(
        self,
        action_id: str,
        value: str,
        *,
        user: str = BOB,
        channel: str = OPS_CHANNEL,
        message_ts: str | None = None,
    ) -> dict[str, Any]:
        """A button click on a message in `channel`.

        The message is the one the fake stores at `message_ts`; without `message_ts`, the newest
        stored message holding a button `action_id`. When the fake stores no such message, the
        example message of block_actions.json stands in (its ts set to `message_ts` if given).
        """
        payload = load_spec("payloads/block_actions.json")
        message = self._clicked_message(payload["message"], channel, action_id, message_ts)
        button = find_element(message, action_id) or payload["actions"][0]
        payload.update(
            user=self._user(user),
            container={**payload["container"], "channel_id": channel, "message_ts": message["ts"]},
            channel={"id": channel, "name": self._channel_name(channel)},
            message=message,
            trigger_id=self.fake.issue_trigger_id(),
            response_url=self.fake.response_url("actions", channel=channel, message_ts=message["ts"]),
            actions=[_clicked(button, action_id, value, self.fake.next_ts())],
        )
        return payload

    def view_submission_request(
        self,
        callback_id: str,
        values: dict[str, Any],
        private_metadata: str | None = None,
        *,
        user: str = BOB,
    ) -> SignedRequest:
        return self.interactive_request(
            self.view_submission_payload(callback_id, values, private_metadata, user=user)
        )

    def view_submission_payload(
        self,
        callback_id: str,
        values: dict[str, Any],
        private_metadata: str | None = None,
        *,
        user: str = BOB,
    ) -> dict[str, Any]:
        """Submits the newest modal the fake opened with `callback_id` (else the example modal).

        `values` is Slack's `view.state.values` ({block_id: {action_id: {...}}}); without
        `private_metadata` the view's own is sent back.
        """
        payload = load_spec("payloads/view_submission.json")
        opened = [v for v in self.fake.views.values() if v["callback_id"] == callback_id]
        view = copy.deepcopy(opened[-1]) if opened else payload["view"]
        view.update(callback_id=callback_id, state={"values": values})
        if private_metadata is not None:
            view["private_metadata"] = private_metadata
        payload.update(user=self._user(user), view=view, trigger_id=self.fake.issue_trigger_id())
        return payload

    async def message_shortcut(
        self, callback_id: str, *, channel: str = OPS_CHANNEL, message_ts: str, user: str = ALICE
    ) -> BotResponse:
        return await self.interactive_request(
            self.message_shortcut_payload(callback_id, channel=channel, message_ts=message_ts, user=user)
        ).send()

    def message_shortcut_payload(
        self, callback_id: str, *, channel: str = OPS_CHANNEL, message_ts: str, user: str = ALICE
    ) -> dict[str, Any]:
        """A message shortcut on the message the fake stores at `message_ts` in `channel`."""
        payload = load_spec("payloads/message_action.json")
        message = copy.deepcopy(self.fake.messages[channel][message_ts])
        payload.update(
            callback_id=callback_id,
            user=self._user(user),
            channel={"id": channel, "name": self._channel_name(channel)},
            message=message,
            message_ts=message_ts,
            trigger_id=self.fake.issue_trigger_id(),
            response_url=self.fake.response_url("actions", channel=channel),
            action_ts=self.fake.next_ts(),
        )
        return payload

    async def home_action(self, action_id: str, value: str, *, user: str = ALICE) -> BotResponse:
        """A button click in `user`'s App Home tab, on the view the fake last had published for them."""
        payload = load_spec("payloads/block_actions_home.json")
        view = copy.deepcopy(self.fake.home_views[user])
        button = find_element(view, action_id) or payload["actions"][0]
        payload.update(
            user=self._user(user),
            container={"type": "view", "view_id": view["id"]},
            view=view,
            trigger_id=self.fake.issue_trigger_id(),
            actions=[_clicked(button, action_id, value, self.fake.next_ts())],
        )
        return await self.interactive_request(payload).send()

    async def home_opened(self, *, user: str = ALICE) -> BotResponse:
        event = load_spec("payloads/app_home_opened.json")["event"]
        event.update(user=user, event_ts=self.fake.next_ts())
        if user in self.fake.home_views:
            event["view"] = copy.deepcopy(self.fake.home_views[user])
        else:
            event.pop("view")
        return await self.event(event)

    def event_request(self, event: dict[str, Any]) -> SignedRequest:
        return self.json_request(self.event_envelope(event))

    def event_envelope(self, event: dict[str, Any]) -> dict[str, Any]:
        """Wraps `event` in an event_callback envelope with a fresh event_id.

        A message-like event without `ts` gets a fresh one; `event_ts` defaults to it.
        """
        envelope = load_spec("payloads/app_mention.json")
        event = dict(event)
        if event.get("type") in ("message", "app_mention"):
            event.setdefault("ts", self.fake.next_ts())
        event.setdefault("event_ts", event.get("ts") or self.fake.next_ts())
        envelope.update(
            event=event,
            event_id=f"Ev0{self.fake.workspace.next_id():09d}",
            event_time=int(time.time()),
        )
        return envelope

    def form_request(self, fields: Mapping[str, str]) -> SignedRequest:
        return self.raw_request(form_body(fields), FORM)

    def interactive_request(self, payload: Any) -> SignedRequest:
        return self.raw_request(interactive_body(payload), FORM)

    def json_request(self, value: Any) -> SignedRequest:
        return self.raw_request(json_body(value), JSON)

    def raw_request(self, body: bytes, content_type: str | None) -> SignedRequest:
        """Exactly these bytes, signed as Slack signs; `content_type=None` sends no Content-Type."""
        return SignedRequest(self.url, body, content_type, self.signing_secret)

    def _clicked_message(
        self, example: dict[str, Any], channel: str, action_id: str, message_ts: str | None
    ) -> dict[str, Any]:
        stored = self.fake.messages.get(channel, {})
        if message_ts is None:
            with_button = [m for m in stored.values() if find_element(m, action_id)]
            return copy.deepcopy(with_button[-1]) if with_button else example
        if message_ts in stored:
            return copy.deepcopy(stored[message_ts])
        return {**example, "ts": message_ts}

    def _user(self, user_id: str) -> dict[str, str]:
        name = self._user_name(user_id)
        return {"id": user_id, "username": name, "name": name, "team_id": TEAM_ID}

    def _user_name(self, user_id: str) -> str:
        user = self.fake.workspace.users.get(user_id)
        if user is None:
            raise LookupError(f"user {user_id} is unknown to the fake; add it with fake.add_user()")
        return user.name

    def _channel_name(self, channel_id: str) -> str:
        channel = self.fake.workspace.channels.get(channel_id)
        if channel is None:
            raise LookupError(f"channel {channel_id} is unknown to the fake; add it with fake.add_channel()")
        return {"im": "directmessage", "mpim": "privategroup"}.get(channel.kind, channel.name)


def find_element(message: dict[str, Any], action_id: str) -> dict[str, Any] | None:
    """The element `action_id` among a message's or view's blocks, with its block_id, or None."""
    for block in message.get("blocks", []):
        elements = [*block.get("elements", []), block.get("accessory") or {}]
        for element in elements:
            if element.get("action_id") == action_id:
                return {**element, "block_id": block.get("block_id", "")}
    return None


def _clicked(button: dict[str, Any], action_id: str, value: str, action_ts: str) -> dict[str, Any]:
    action = {key: button[key] for key in ("block_id", "text", "style", "type") if key in button}
    return {**action, "action_id": action_id, "value": value, "action_ts": action_ts}
