"""Where the outcome of a modal is told: in the channel it was opened from, or, for modals opened
from the App Home (no channel), as a notice at the top of the person's Home tab."""

from __future__ import annotations

from typing import Any

from actions import payloads
from actions.commands import Invocation, Work
from actions.errors import Say, channel_ephemeral, ephemeral_responder, reporting
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


def home_changed(runtime: Runtime, team_id: str) -> None:
    """Something the workspace's App Home tabs show changed (a schedule, a runbook, a note...)."""
    if runtime.home is not None:
        runtime.home.team_changed(team_id)


def replier(runtime: Runtime, body: dict[str, Any], respond: Any, client: Any) -> Say:
    """Where a command or click is answered: ephemerally through its response_url, or (the App
    Home, which has none) at the top of the person's tab."""
    if body.get("response_url"):
        return ephemeral_responder(respond)
    return teller(runtime, client, payloads.interaction_actor(body), "")


async def run(work: Work, invocation: Invocation, *, doing: str) -> None:
    """Do a command's or click's work, telling the person what went wrong, wherever they are."""
    say = replier(invocation.runtime, invocation.body, invocation.respond, invocation.client)
    async with reporting(say, doing=doing):
        await work(invocation)
