"""What each person sees beside a channel's history: the messages only they can see (ephemeral ones),
their open modals, and their App Home tab.

Slack keeps these per person; the fake Slack records the calls that make them (chat.postEphemeral,
posts to a response_url, views.open and views.push), and this reads that record as it grows. To
know whose they are, every trigger_id and response_url the page hands the bot is remembered with
the person it was handed to, as Slack knows whose click or command made them.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.playground.slack.web_api import FakeSlack, RecordedCall, RecordedResponse


@dataclass
class Ephemeral:
    id: str
    user: str
    channel: str
    thread_ts: str | None
    text: str
    blocks: list[dict[str, Any]]
    at: float

    def to_page(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "thread_ts": self.thread_ts,
            "text": self.text,
            "blocks": self.blocks,
            "at": self.at,
        }


@dataclass(frozen=True)
class Handout:
    """A response_url handed to the bot for `user`'s command or click; `ephemeral` is the ephemeral
    message clicked, which the URL may replace or delete."""

    user: str
    channel: str
    thread_ts: str | None = None
    ephemeral: str | None = None


@dataclass
class _Seen:
    calls: int = 0
    responses: int = 0


@dataclass
class Surfaces:
    slack: FakeSlack
    clock: Callable[[], float] = time.time
    _seen: _Seen = field(default_factory=_Seen)
    _triggers: dict[str, str] = field(default_factory=dict)
    _hooks: dict[str, Handout] = field(default_factory=dict)
    _ephemerals: dict[str, Ephemeral] = field(default_factory=dict)
    # person -> the view ids of their open modals, the topmost last
    _modals: dict[str, list[str]] = field(default_factory=dict)
    # views the bot answered a submission with (response_action update or push), by view id
    _answered_views: dict[str, dict[str, Any]] = field(default_factory=dict)
    _arrivals: dict[str, float] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def handed_out(self, payload: Mapping[str, Any], handout: Handout) -> None:
        """Remember whose the payload's trigger_id and response_url are."""
        if trigger := payload.get("trigger_id"):
            self._triggers[str(trigger)] = handout.user
        if url := payload.get("response_url"):
            self._hooks[str(url)] = handout

    def whisper(
        self,
        *,
        user: str,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> Ephemeral:
        """A message only `user` sees, as Slack shows the answers to their commands and clicks."""
        ephemeral = Ephemeral(
            f"E{next(self._ids)}", user, channel, thread_ts, text, list(blocks or []), self.clock()
        )
        self._ephemerals[ephemeral.id] = ephemeral
        return ephemeral

    def ephemeral(self, user: str, ephemeral_id: str) -> Ephemeral:
        found = self._ephemerals.get(ephemeral_id)
        if found is None or found.user != user:
            raise LookupError(f"no ephemeral message {ephemeral_id} for {user}")
        return found

    def dismiss(self, user: str, ephemeral_id: str) -> None:
        self._ephemerals.pop(self.ephemeral(user, ephemeral_id).id)

    def ephemerals_of(self, user: str) -> list[Ephemeral]:
        return [e for e in self._ephemerals.values() if e.user == user]

    def modals_of(self, user: str) -> list[dict[str, Any]]:
        return [view for view_id in self._modals.get(user, []) if (view := self.view(view_id))]

    def view(self, view_id: str) -> dict[str, Any] | None:
        return self.slack.views.get(view_id) or self._answered_views.get(view_id)

    def close_modal(self, user: str, view_id: str) -> None:
        """Close `view_id` and every modal pushed above it."""
        stack = self._modals.get(user, [])
        if view_id in stack:
            del stack[stack.index(view_id) :]

    def close_all_modals(self, user: str) -> None:
        self._modals.pop(user, None)

    def answer_view(self, user: str, view_id: str, view: dict[str, Any], *, push: bool) -> None:
        """The bot answered a submission of `view_id` with `view`: replace that modal, or push it."""
        new_id = f"V0PG{next(self._ids):07d}" if push else view_id
        root = (self.view(view_id) or {}).get("root_view_id", view_id)
        self._answered_views[new_id] = {**view, "id": new_id, "root_view_id": root}
        self.slack.views.pop(new_id, None)
        stack = self._modals.setdefault(user, [])
        if push:
            stack.append(new_id)

    def arrival(self, ts: str) -> float:
        """When the page first saw the message at `ts`: the fake's ts counts up from a fixed origin, so
        runs repeat, and says nothing about the time."""
        return self._arrivals.setdefault(ts, self.clock())

    def catch_up(self) -> None:
        """Read the calls and response_url posts recorded since the last time."""
        calls, responses = self.slack.calls, self.slack.responses
        for call in calls[self._seen.calls :]:
            self._take_call(call)
        self._seen.calls = len(calls)
        for response in responses[self._seen.responses :]:
            self._take_response(response)
        self._seen.responses = len(responses)

    @property
    def record_size(self) -> tuple[int, int]:
        return len(self.slack.calls), len(self.slack.responses)

    def _take_call(self, call: RecordedCall) -> None:
        if not call.ok:
            return
        args = call.args
        if call.method == "chat.postEphemeral":
            self.whisper(
                user=args["user"],
                channel=str(call.args["channel"]),
                text=args.get("text") or "",
                blocks=args.get("blocks"),
                thread_ts=args.get("thread_ts"),
            )
        elif call.method in ("views.open", "views.push"):
            user = self._triggers.get(str(args.get("trigger_id")))
            if user is not None:
                stack = self._modals.setdefault(user, [])
                if call.method == "views.open":
                    stack.clear()
                stack.append(call.response["view"]["id"])

    def _take_response(self, response: RecordedResponse) -> None:
        handout = self._hooks.get(response.url)
        body = response.body
        if handout is None or response.status != 200 or not isinstance(body, dict):
            return
        clicked = self._ephemerals.get(handout.ephemeral or "")
        if clicked is not None and _truthy(body.get("delete_original")):
            self._ephemerals.pop(clicked.id)
        elif clicked is not None and _truthy(body.get("replace_original")):
            clicked.text, clicked.blocks = body.get("text") or "", list(body.get("blocks") or [])
        elif _truthy(body.get("replace_original")) or _truthy(body.get("delete_original")):
            return  # the fake applied it to the stored message
        elif body.get("response_type") != "in_channel":
            self.whisper(
                user=handout.user,
                channel=handout.channel,
                text=body.get("text") or "",
                blocks=body.get("blocks"),
                thread_ts=handout.thread_ts,
            )


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
