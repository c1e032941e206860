"""What the fake Slack remembers: the workspace (channels, users, messages, views) and planned faults.

Ids and timestamps come from counters, so runs are repeatable: ts values start at
`1767225600.000100` (the plan card ts of the example payloads) and grow by 100 µs each.
"""

import itertools
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

TEAM_ID = "T0123ABCDEF"
TEAM_DOMAIN = "acme-sre"
APP_ID = "A0123CARAPL"
BOT_USER_ID = "U0123BOTUSR"
BOT_ID = "B0123BOTID1"
BOT_NAME = "carapulse"
ALICE = "U0123ALICE1"
BOB = "U0123BOBBY2"
OPS_CHANNEL = "C0123OPSCHN"
HOME_DM = "D0123HOMEDM"

_TS_ORIGIN_US = 1_767_225_600 * 1_000_000
_TS_STEP_US = 100


class SlackError(Exception):
    """A Web API error answer: `{"ok": false, "error": code}` with this HTTP status and headers.

    `messages` become `response_metadata.messages` ("[ERROR] ..." lines), as Slack explains
    argument and block errors.
    """

    def __init__(
        self,
        code: str,
        *,
        status: int = 200,
        messages: Iterable[str] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.messages = [f"[ERROR] {line}" for line in messages]
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.code}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


@dataclass
class User:
    id: str
    name: str
    is_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "deleted": False,
            "real_name": self.name.title(),
            "tz": "Etc/UTC",
            "tz_offset": 0,
            "is_bot": self.is_bot,
            "is_admin": False,
            "is_app_user": False,
            "updated": 1767000000,
            "profile": {
                "real_name": self.name.title(),
                "display_name": self.name,
                "email": None if self.is_bot else f"{self.name}@{TEAM_DOMAIN}.example.com",
                "team": TEAM_ID,
            },
        }


CHANNEL_KINDS = ("public_channel", "private_channel", "im", "mpim")


@dataclass
class Channel:
    id: str
    name: str
    members: list[str]
    kind: str = "public_channel"
    im_user: str | None = None

    def to_api(self) -> dict[str, Any]:
        kind = self.kind
        data: dict[str, Any] = {
            "id": self.id,
            "created": 1767000000,
            "is_archived": False,
            "is_channel": kind in ("public_channel", "private_channel"),
            "is_group": False,
            "is_im": kind == "im",
            "is_mpim": kind == "mpim",
            "is_private": kind != "public_channel",
            "is_member": BOT_USER_ID in self.members,
            "context_team_id": TEAM_ID,
        }
        if kind == "im":
            data["user"] = self.im_user
        else:
            data.update(name=self.name, name_normalized=self.name, num_members=len(self.members))
        return data


@dataclass
class Hook:
    """A response_url handed out to a request, and the message it may replace."""

    kind: str
    channel: str | None
    message_ts: str | None
    uses: int = 0


@dataclass
class Usergroup:
    """A user group (a "subteam" in Slack's errors); a disabled one keeps its members."""

    id: str
    handle: str
    name: str
    users: list[str]
    enabled: bool = True


@dataclass(frozen=True)
class FileShare:
    """Where files.completeUploadExternal shared a file: the message holding it."""

    channel: str
    ts: str
    thread_ts: str | None


@dataclass
class Upload:
    """A file from files.getUploadURLExternal on: `content` arrives with the POST to `path`, then
    files.completeUploadExternal completes it (once) and shares it."""

    id: str
    filename: str
    length: int
    path: str
    created: int
    snippet_type: str | None = None
    alt_txt: str | None = None
    content: bytes | None = None
    title: str | None = None
    initial_comment: str | None = None
    completed: bool = False
    shares: list[FileShare] = field(default_factory=list)


@dataclass
class Workspace:
    users: dict[str, User] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    # channel id -> message ts -> message, in posting order (ts order).
    messages: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    home_views: dict[str, dict[str, Any]] = field(default_factory=dict)
    hooks: dict[str, Hook] = field(default_factory=dict)
    # trigger_id -> when it was issued (time.monotonic()); used ones move to used_trigger_ids.
    trigger_ids: dict[str, float] = field(default_factory=dict)
    used_trigger_ids: set[str] = field(default_factory=set)
    usergroups: dict[str, Usergroup] = field(default_factory=dict)
    # file id -> upload, from files.getUploadURLExternal on.
    uploads: dict[str, Upload] = field(default_factory=dict)
    # Where the fake serves, so upload_urls point back at it; set when the server starts.
    base_url: str = ""
    # apps.connections.open tickets not yet used to open a Socket Mode connection.
    socket_tickets: set[str] = field(default_factory=set)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _stamps: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def default(cls) -> "Workspace":
        workspace = cls()
        for user in (User(ALICE, "alice"), User(BOB, "bob"), User(BOT_USER_ID, BOT_NAME, True)):
            workspace.users[user.id] = user
        workspace.add_channel(OPS_CHANNEL, "ops-changes")
        workspace.add_channel(HOME_DM, ALICE, members=[ALICE, BOT_USER_ID], kind="im", im_user=ALICE)
        return workspace

    def next_id(self) -> int:
        return next(self._ids)

    def next_ts(self) -> str:
        micros = _TS_ORIGIN_US + next(self._stamps) * _TS_STEP_US
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        members: Iterable[str] | None = None,
        kind: str = "public_channel",
        im_user: str | None = None,
    ) -> Channel:
        if kind not in CHANNEL_KINDS:
            raise ValueError(f"channel kind must be one of {CHANNEL_KINDS}, got {kind!r}")
        everyone = list(self.users) if members is None else list(members)
        channel = Channel(channel_id, name, everyone, kind, im_user)
        self.channels[channel_id] = channel
        self.messages.setdefault(channel_id, {})
        return channel

    def channel(self, channel_id: str) -> Channel:
        """Resolve a channel id, or a user id to the bot's DM with that user (as Slack does)."""
        if channel_id in self.users:
            return self.open_dm([channel_id])
        if channel_id not in self.channels:
            raise SlackError("channel_not_found")
        return self.channels[channel_id]

    def open_dm(self, user_ids: list[str]) -> Channel:
        for user_id in user_ids:
            if user_id not in self.users:
                raise SlackError("user_not_found")
        members = sorted({*user_ids, BOT_USER_ID})
        for channel in self.channels.values():
            if channel.kind in ("im", "mpim") and sorted(channel.members) == members:
                return channel
        if len(user_ids) == 1:
            channel_id = f"D0{self.next_id():09d}"
            user_id = user_ids[0]
            return self.add_channel(channel_id, user_id, members=members, kind="im", im_user=user_id)
        name = "mpdm-" + "--".join(self.users[u].name for u in user_ids) + "-1"
        return self.add_channel(f"G0{self.next_id():09d}", name, members=members, kind="mpim")

    def message(self, channel_id: str, ts: str) -> dict[str, Any]:
        message = self.messages[self.channel(channel_id).id].get(ts)
        if message is None:
            raise SlackError("message_not_found")
        return message

    def store_message(self, channel_id: str, message: dict[str, Any]) -> dict[str, Any]:
        message["ts"] = self.next_ts()
        self.messages[channel_id][message["ts"]] = message
        parent = self.messages[channel_id].get(message.get("thread_ts", ""))
        if parent is not None and parent is not message:
            _count_reply(parent, message)
        return message

    def issue_trigger_id(self) -> str:
        n = self.next_id()
        trigger_id = f"70123{n:08d}.1234567890123.{n:032x}"
        self.trigger_ids[trigger_id] = time.monotonic()
        return trigger_id

    def exchange_trigger_id(self, trigger_id: str, valid_seconds: float) -> None:
        if trigger_id in self.used_trigger_ids:
            raise SlackError("exchanged_trigger_id")
        if trigger_id not in self.trigger_ids:
            raise SlackError("invalid_trigger_id")
        if time.monotonic() - self.trigger_ids.pop(trigger_id) > valid_seconds:
            raise SlackError("expired_trigger_id")
        self.used_trigger_ids.add(trigger_id)


@dataclass(frozen=True)
class Fault:
    status: int
    error: str
    retry_after: int | None = None

    def to_error(self) -> SlackError:
        headers = {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}
        return SlackError(self.error, status=self.status, headers=headers)


@dataclass
class _RandomFaults:
    rate: float
    rng: random.Random
    retry_after: int


class FaultPlan:
    """Errors to answer instead of running a method: queued ones first, then random ones."""

    def __init__(self) -> None:
        self._queued: dict[str, list[Fault]] = {}
        self._random: dict[str, _RandomFaults] = {}

    def queue(self, method: str, fault: Fault, times: int) -> None:
        self._queued.setdefault(method, []).extend([fault] * times)

    def randomly(self, method: str, *, rate: float, seed: int | None, retry_after: int) -> None:
        self._random[method] = _RandomFaults(rate, random.Random(seed), retry_after)

    def take(self, method: str) -> Fault | None:
        queued = self._queued.get(method)
        if queued:
            return queued.pop(0)
        plan = self._random.get(method)
        if plan is None or plan.rng.random() >= plan.rate:
            return None
        if plan.rng.random() < 0.5:
            return Fault(429, "ratelimited", plan.retry_after)
        return Fault(500, "internal_error")


def _count_reply(parent: dict[str, Any], reply: dict[str, Any]) -> None:
    parent["thread_ts"] = parent["ts"]
    parent["reply_count"] = parent.get("reply_count", 0) + 1
    reply_users = parent.setdefault("reply_users", [])
    if reply["user"] not in reply_users:
        reply_users.append(reply["user"])
    parent["reply_users_count"] = len(reply_users)
    parent["latest_reply"] = reply["ts"]
