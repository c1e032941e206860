"""Files for people: a direct message to send them to, and the files.upload v2 flow driven by hand
(files.getUploadURLExternal, the bytes, files.completeUploadExternal).

slack_sdk's `files_upload_v2` reads a file whole into memory first; an audit export can be large, so
the bytes are streamed from disk to the upload URL instead (aiohttp reads the file in chunks, off the
event loop), and every file of one delivery is shared in one message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UserError
from bot.slack_clients import SlackClients

UPLOAD_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class LocalFile:
    path: Path
    filename: str
    title: str


class SlackFiles:
    """Files go out with the token of the workspace they are for (`team_id`)."""

    def __init__(self, clients: SlackClients) -> None:
        self._clients = clients

    async def direct_channel(self, *, team_id: str, user_id: str) -> str:
        """The id of the bot's direct message with `user_id` (opened if need be)."""
        client = await self._clients.for_team(team_id)
        try:
            response = await client.conversations_open(users=user_id)
        except SlackApiError as exc:
            raise UserError(f"I cannot open a direct message with you ({_error(exc)}).") from exc
        return str(response["channel"]["id"])

    async def share(
        self,
        files: Sequence[LocalFile],
        *,
        team_id: str,
        channel_id: str,
        thread_ts: str | None = None,
        comment: str | None = None,
    ) -> None:
        """Upload each file, then share them all in one message in the channel (or thread)."""
        client = await self._clients.for_team(team_id)
        try:
            uploaded = [await self._upload(client, file) for file in files]
            await client.files_completeUploadExternal(
                files=uploaded, channel_id=channel_id, thread_ts=thread_ts, initial_comment=comment
            )
        except SlackApiError as exc:
            raise UserError(f"Slack refused the file ({_error(exc)}).") from exc

    async def _upload(self, client: AsyncWebClient, file: LocalFile) -> dict[str, str | None]:
        length = file.path.stat().st_size
        ticket = await client.files_getUploadURLExternal(filename=file.filename, length=length)
        timeout = aiohttp.ClientTimeout(total=UPLOAD_TIMEOUT_SECONDS)
        with file.path.open("rb") as content:
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.post(ticket["upload_url"], data=content) as response,
            ):
                if response.status != 200:
                    reason = (await response.text())[:200]
                    raise UserError(
                        f"Slack refused the bytes of {file.filename} ({response.status} {reason})."
                    )
        return {"id": str(ticket["file_id"]), "title": file.title}


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "unknown_error"))
