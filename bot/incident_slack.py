"""Slack output for incidents: where an incident's message goes (its service's channel, the default
one, or a channel of its own for the severities that get one), and posting, editing and replying."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from blocks.incident import incident_message, incident_text, notice
from blocks.text import literal
from bot.domain import IncidentView
from bot.incident_settings import IncidentSettings

log = logging.getLogger(__name__)

CHANNEL_NAME_MAX = 80
_NOT_CHANNEL_CHARACTERS = re.compile(r"[^a-z0-9_-]+")


@dataclass(frozen=True)
class Route:
    """The channel an incident belongs to, and the name of its own channel if it gets one."""

    channel_id: str
    own_channel: str | None = None


@dataclass(frozen=True)
class Posted:
    channel_id: str
    ts: str
    own_channel: bool


def route(view: IncidentView, settings: IncidentSettings, *, owners: str | None = None) -> Route:
    """The service's channel in INCIDENT_SERVICES, else `owners` (its owners' channel in the context
    graph), else INCIDENT_DEFAULT_CHANNEL; severity decides whether it gets a channel of its own."""
    service = settings.incident_services.get(view.service)
    channel_id = (service.channel if service else None) or owners or settings.incident_default_channel
    if channel_id is None:
        raise ValueError("INCIDENT_DEFAULT_CHANNEL is not set")  # start-up refuses that with hooks on
    if view.severity.lower() not in settings.incident_channel_severities:
        return Route(channel_id)
    slug = _NOT_CHANNEL_CHARACTERS.sub("-", (view.service or "unknown").lower()).strip("-") or "unknown"
    return Route(channel_id, f"inc-{view.started_at:%Y%m%d}-{slug}"[:CHANNEL_NAME_MAX])


class IncidentSlack:
    def __init__(self, *, client: AsyncWebClient, settings: IncidentSettings) -> None:
        self._client = client
        self._settings = settings

    async def post(self, view: IncidentView, *, where: Route, invite: Sequence[str] = ()) -> Posted:
        """Post the incident's message where it is routed; raises SlackApiError when Slack refuses.
        A channel of its own is created first, the people in `invite` asked in, and the service's
        channel told where the incident is."""
        channel_id = where.channel_id
        if where.own_channel:
            channel_id = await self._create_channel(where.own_channel, view.id)
            await self._invite(channel_id, invite)
        response = await self._client.chat_postMessage(
            channel=channel_id, text=incident_text(view), blocks=incident_message(view)
        )
        if where.own_channel:
            await self._point(where.channel_id, view, channel_id)
        return Posted(channel_id=response["channel"], ts=response["ts"], own_channel=bool(where.own_channel))

    async def update(self, view: IncidentView) -> None:
        if view.channel_id is None or view.ts is None:
            raise ValueError(f"incident {view.id} has no message yet")
        await self._client.chat_update(
            channel=view.channel_id, ts=view.ts, text=incident_text(view), blocks=incident_message(view)
        )

    async def reply(self, view: IncidentView, text: str, blocks: list[dict[str, Any]]) -> None:
        await self._client.chat_postMessage(
            channel=view.channel_id, thread_ts=view.ts, text=text, blocks=blocks
        )

    async def upload(self, view: IncidentView, *, content: bytes | str, filename: str, title: str) -> None:
        await self.upload_to(view.channel_id or "", view.ts, content=content, filename=filename, title=title)

    async def upload_to(
        self, channel_id: str, thread_ts: str | None, *, content: bytes | str, filename: str, title: str
    ) -> None:
        await self._client.files_upload_v2(
            channel=channel_id, thread_ts=thread_ts, content=content, filename=filename, title=title
        )

    async def user_by_email(self, email: str) -> str | None:
        try:
            response = await self._client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            log.warning("no Slack user for an on-call email: %s", exc.response.get("error"))
            return None
        return str(response["user"]["id"])

    async def _create_channel(self, name: str, incident_id: int) -> str:
        """A new channel named `name`, or `name-<id>` when the name is taken (a second incident of the
        service on one day)."""
        for candidate in (name, f"{name[: CHANNEL_NAME_MAX - 12]}-{incident_id}"):
            try:
                response = await self._client.conversations_create(name=candidate)
            except SlackApiError as exc:
                if exc.response.get("error") == "name_taken":
                    continue
                raise
            return str(response["channel"]["id"])
        raise SlackApiError("both incident channel names are taken", {"ok": False, "error": "name_taken"})

    async def _invite(self, channel_id: str, users: Sequence[str]) -> None:
        if not users:
            return
        try:
            await self._client.conversations_invite(channel=channel_id, users=",".join(users))
        except SlackApiError as exc:
            # The incident goes on without them; the thread and the log say who was not asked in.
            log.warning("could not invite %s to %s: %s", users, channel_id, exc.response.get("error"))

    async def _point(self, channel_id: str, view: IncidentView, own_channel: str) -> None:
        title = literal(view.title)
        text, blocks = notice(
            f":rotating_light: Incident #{view.id} {title} has its own channel: <#{own_channel}>"
        )
        try:
            await self._client.chat_postMessage(channel=channel_id, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.warning(
                "could not point %s to incident #%s: %s", channel_id, view.id, exc.response.get("error")
            )
