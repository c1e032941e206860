"""The fake Slack's side of files.upload v2: upload tickets, the bytes POSTed to them, file objects.

The flow slack_sdk's `files_upload_v2` drives: files.getUploadURLExternal opens an `Upload` with an
upload_url on this fake, the client POSTs the bytes there (raw or multipart), and
files.completeUploadExternal completes it and shares it in channels. The Web API handlers live in
slack_methods.py; this module keeps what they and the upload endpoint share.
"""

import base64
import mimetypes
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any

from aiohttp import web

from bot.playground.slack.state import BOT_USER_ID, TEAM_DOMAIN, TEAM_ID, SlackError, Upload, Workspace

# From the method docs: alt_txt holds up to 1000 characters, a snippet up to 1 MB.
_ALT_TXT_MAX = 1000
_SNIPPET_MAX_BYTES = 1024 * 1024
# Where channel kinds are listed in a file object.
_SHARE_LISTS = {"public_channel": "channels", "private_channel": "groups", "mpim": "groups", "im": "ims"}


class UploadRefused(Exception):
    """The upload endpoint's plain-text answer to bytes it will not take, and what was wrong."""

    def __init__(self, status: int, body: str, problem: str) -> None:
        super().__init__(problem)
        self.status = status
        self.body = body
        self.problem = problem


@dataclass(frozen=True)
class UploadedFile:
    """A completed upload where it was shared (channel, thread and message are None if it stayed
    private); a file shared in several channels appears once per channel."""

    id: str
    name: str
    title: str
    content: bytes
    channel: str | None
    thread_ts: str | None
    message_ts: str | None
    initial_comment: str | None


def open_upload(workspace: Workspace, args: dict[str, Any]) -> Upload:
    """files.getUploadURLExternal: check the declared file and hand out a ticket for its bytes."""
    length = _length(args["length"])
    alt_txt, snippet_type = args.get("alt_txt"), args.get("snippet_type")
    if alt_txt and len(alt_txt) > _ALT_TXT_MAX:
        raise SlackError("alt_txt_too_large")
    if snippet_type and length > _SNIPPET_MAX_BYTES:
        raise SlackError("snippet_too_large")
    file_id = f"F0{workspace.next_id():09d}"
    ticket = base64.urlsafe_b64encode(f"{TEAM_ID}:{file_id}:{workspace.next_id():08x}".encode())
    upload = Upload(
        id=file_id,
        filename=args["filename"],
        length=length,
        path=f"/upload/v1/{ticket.decode().rstrip('=')}",
        created=int(Decimal(workspace.next_ts())),
        snippet_type=snippet_type,
        alt_txt=alt_txt,
    )
    workspace.uploads[file_id] = upload
    return upload


async def read_upload_body(request: web.Request) -> bytes:
    """The file's bytes: the raw body (as slack_sdk sends them) or the first file part of a
    multipart form (as `curl -F filename=@file` does)."""
    if request.content_type != "multipart/form-data":
        return await request.read()
    form = await request.post()
    part = next((value for value in form.values() if isinstance(value, web.FileField)), None)
    return b"" if part is None else part.file.read()


def receive_upload(workspace: Workspace, path: str, content: bytes) -> str:
    """Store the bytes for the ticket at `path` and return files.slack.com's answer text."""
    upload = next((u for u in workspace.uploads.values() if u.path == path and not u.completed), None)
    if upload is None:
        # Slack does not document its answer to a forged or used ticket; a 404 is the fake's choice.
        raise UploadRefused(404, "Not Found", "no open upload ticket at this URL")
    if len(content) != upload.length:
        # What files.slack.com answers when the bytes differ from `length` (slack-go/slack#1491).
        problem = f"{len(content)} bytes arrived, files.getUploadURLExternal declared length {upload.length}"
        raise UploadRefused(500, "internal error: s3_upload", problem)
    upload.content = content
    return f"OK - {len(content)}"


def completable_uploads(workspace: Workspace, files: Any) -> list[tuple[Upload, str]]:
    """The uploads the `files` argument names, with their titles; all of them or an error."""
    if not isinstance(files, list) or not files:
        raise SlackError("invalid_arguments", messages=["files must be a non-empty JSON array"])
    chosen = []
    for index, entry in enumerate(files):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise SlackError("invalid_arguments", messages=[f"files[{index}] needs a string id"])
        upload = workspace.uploads.get(entry["id"])
        if upload is None or upload.content is None or upload.completed:
            raise SlackError("file_not_found")
        chosen.append((upload, entry.get("title") or upload.filename))
    return chosen


def file_object(workspace: Workspace, upload: Upload) -> dict[str, Any]:
    """A file object as Slack renders it, listing the shares recorded so far."""
    name = upload.filename
    lists: dict[str, list[str]] = {"channels": [], "groups": [], "ims": []}
    shares: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for share in upload.shares:
        channel = workspace.channels[share.channel]
        lists[_SHARE_LISTS[channel.kind]].append(channel.id)
        visibility = "public" if channel.kind == "public_channel" else "private"
        entry: dict[str, Any] = {
            "ts": share.ts,
            "channel_name": channel.name,
            "team_id": TEAM_ID,
            "share_user_id": BOT_USER_ID,
        }
        if share.thread_ts:
            entry["thread_ts"] = share.thread_ts
        shares.setdefault(visibility, {}).setdefault(channel.id, []).append(entry)
    private_url = f"https://files.slack.com/files-pri/{TEAM_ID}-{upload.id}/{name}"
    return {
        "id": upload.id,
        "created": upload.created,
        "timestamp": upload.created,
        "name": name,
        "title": upload.title or name,
        "mimetype": mimetypes.guess_type(name)[0] or "application/octet-stream",
        "filetype": upload.snippet_type or PurePosixPath(name).suffix.lstrip(".").lower() or "binary",
        "user": BOT_USER_ID,
        "user_team": TEAM_ID,
        "editable": upload.snippet_type is not None,
        "size": upload.length,
        "mode": "snippet" if upload.snippet_type else "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": bool(shares.get("public")),
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "url_private": private_url,
        "url_private_download": f"https://files.slack.com/files-pri/{TEAM_ID}-{upload.id}/download/{name}",
        "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/{upload.id}/{name}",
        "file_access": "visible",
        "comments_count": 0,
        **lists,
        "shares": shares,
    }


def uploaded_files(workspace: Workspace) -> list[UploadedFile]:
    found = []
    for upload in workspace.uploads.values():
        if not upload.completed or upload.content is None:
            continue
        places = upload.shares or [None]
        for share in places:
            found.append(
                UploadedFile(
                    id=upload.id,
                    name=upload.filename,
                    title=upload.title or upload.filename,
                    content=upload.content,
                    channel=share.channel if share else None,
                    thread_ts=share.thread_ts if share else None,
                    message_ts=share.ts if share else None,
                    initial_comment=upload.initial_comment,
                )
            )
    return found


def _length(value: Any) -> int:
    try:
        length = int(str(value))
    except ValueError:
        raise SlackError(
            "invalid_arguments", messages=[f"length must be an integer, got {value!r}"]
        ) from None
    if length == 0:
        raise SlackError("missing_argument")
    if length < 0:
        raise SlackError("invalid_arguments", messages=[f"length must be positive, got {length}"])
    return length
