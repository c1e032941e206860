"""Where the outcome of a modal is told: in the channel it was opened from, or, for modals opened
from the App Home (no channel), as a notice at the top of the person's Home tab."""

from __future__ import annotations

from typing import Any

from actions.errors import Say, channel_ephemeral
from bot.domain import Actor
from bot.operations import Runtime


def teller(runtime: Runtime, client: Any, actor: Actor, channel_id: str) -> Say:
    if channel_id:
        return channel_ephemeral(client, channel_id, actor.user_id)

    async def on_home(message: str) -> None:
        if runtime.home is not None:
            runtime.home.notice(actor.team_id, actor.user_id, message)

    return on_home


def channel_of(body: dict[str, Any]) -> str:
    """The channel a slash command or an interaction came from; "" for the App Home and modals."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return str(channel or body.get("channel_id") or "")
