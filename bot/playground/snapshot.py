"""What the page shows one person, as JSON: the people, the channels with their messages (replies
carry `thread_ts`), the files shared in them, the person's ephemeral messages, open modals and Home tab.

Messages go out as the fake Slack stores them (text, blocks, attachments); the page renders them and
treats every string as untrusted.
"""

from __future__ import annotations

from typing import Any

from bot.playground import demo
from bot.playground.slack.state import BOT_NAME, BOT_USER_ID, Upload
from bot.playground.slack.web_api import FakeSlack
from bot.playground.surfaces import Surfaces

_MESSAGE_FIELDS = ("ts", "user", "text", "blocks", "attachments", "thread_ts", "reply_count", "bot_id")


def snapshot(slack: FakeSlack, surfaces: Surfaces, *, user: str, version: int) -> dict[str, Any]:
    workspace = slack.workspace
    files = _files_by_message(slack)
    channels = [c for c in workspace.channels.values() if c.kind in ("public_channel", "private_channel")]
    return {
        "version": version,
        "you": user,
        "bot": {"id": BOT_USER_ID, "name": BOT_NAME},
        "people": [{"id": p.id, "name": p.name, "part": p.part} for p in demo.PEOPLE],
        "names": {u.id: u.name for u in workspace.users.values()},
        "channels": [{"id": c.id, "name": c.name} for c in channels],
        "messages": {
            c.id: [_message(m, files.get((c.id, ts), []), surfaces) for ts, m in slack.messages[c.id].items()]
            for c in channels
        },
        "ephemerals": [e.to_page() for e in surfaces.ephemerals_of(user)],
        "modals": surfaces.modals_of(user),
        "home": slack.home_views.get(user),
    }


def shared_file(slack: FakeSlack, file_id: str) -> Upload | None:
    """A completed upload that was shared in a channel: only those are on the page."""
    upload = slack.workspace.uploads.get(file_id)
    if upload is None or not upload.completed or not upload.shares or upload.content is None:
        return None
    return upload


def _message(message: dict[str, Any], files: list[dict[str, Any]], surfaces: Surfaces) -> dict[str, Any]:
    shown = {key: message[key] for key in _MESSAGE_FIELDS if key in message}
    shown["at"] = surfaces.arrival(message["ts"])
    if files:
        shown["files"] = files
    return shown


def _files_by_message(slack: FakeSlack) -> dict[tuple[str, str], list[dict[str, Any]]]:
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for upload in slack.workspace.uploads.values():
        if shared_file(slack, upload.id) is None:
            continue
        entry = {
            "id": upload.id,
            "name": upload.filename,
            "title": upload.title or upload.filename,
            "size": upload.length,
            "image": _is_png(upload.content or b""),
        }
        for share in upload.shares:
            found.setdefault((share.channel, share.ts), []).append(entry)
    return found


def _is_png(content: bytes) -> bool:
    return content.startswith(b"\x89PNG\r\n\x1a\n")
