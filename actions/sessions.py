"""`/carapulse session …`: start a change session in this channel (caller as lead, or through the
start modal), show it, set its members, end it and post its timeline. The modals, the message
shortcut and the session message's buttons live in actions/session_forms.py."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from blocks import ids
from blocks.sessions import session_modal, session_started, session_status, timeline_messages
from bot import change_sessions, session_ops
from bot.domain import Actor, SessionRole, SessionView
from bot.errors import UserError
from bot.operations import Runtime

if TYPE_CHECKING:
    from actions.commands import Invocation, Work

COMMAND = "/carapulse"
USAGE = (
    f"Use `{COMMAND} session` (what is open here), `session start <name>` (you lead it), "
    "`session start` (a form to pick its members), `session members` or `session end`."
)


def prepare(runtime: Runtime, argument: str) -> tuple[Work, bool]:
    """Read the subcommand's words (raises UserError inside the ack); the work to do after it, and
    whether it opens a modal."""
    verb, _, rest = argument.strip().partition(" ")
    verb, rest = verb.lower(), rest.strip()
    if verb in ("", "status") and not rest:
        return _status, False
    if verb == "start":
        if not rest:
            return _open_start_modal, True
        return partial(_start, name=change_sessions.check_name(rest)), False
    if verb in ("members", "add"):
        if rest:
            raise UserError(
                f"Pick people in the form, so Slack names them for sure: `{COMMAND} session members`."
            )
        return _open_members_modal, True
    if verb == "end" and not rest:
        return _end, False
    raise UserError(USAGE)


async def post_here(client: Any, view: SessionView, text: str, blocks: list[dict[str, Any]]) -> None:
    """Post in the session's channel or thread; UserError saying why when Slack refuses."""
    try:
        await client.chat_postMessage(
            channel=view.channel_id, thread_ts=view.thread_ts, text=text, blocks=blocks
        )
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown_error")
        raise UserError(
            f"The session “{view.name}” is recorded, but Slack refused my message there ({error}). "
            "Invite me with `/invite @Carapulse`."
        ) from exc


async def end_and_post(runtime: Runtime, client: Any, *, actor: Actor, session_id: int) -> None:
    """End the session and post its timeline where it was, in as many messages as it takes."""
    ended = await session_ops.end(runtime, actor=actor, session_id=session_id)
    for text, blocks in timeline_messages(ended.view, ended.timeline):
        await post_here(client, ended.view, text, blocks)


def start_modal(*, actor: Actor, channel_id: str, thread_ts: str | None) -> dict[str, Any]:
    return session_modal(
        callback_id=ids.SESSION_START_MODAL,
        metadata={"channel_id": channel_id, "thread_ts": thread_ts},
        members={actor.user_id: SessionRole.LEAD},
        name="",
    )


async def _status(invocation: Invocation) -> None:
    view = await session_ops.here(invocation.runtime, actor=invocation.actor, **_place(invocation))
    text, blocks = session_status(view)
    await invocation.respond(response_type="ephemeral", text=text, blocks=blocks)


async def _start(invocation: Invocation, *, name: str) -> None:
    view = await session_ops.start(
        invocation.runtime, actor=invocation.actor, name=name, **_place(invocation)
    )
    await post_here(invocation.client, view, *session_started(view))


async def _end(invocation: Invocation) -> None:
    runtime, actor = invocation.runtime, invocation.actor
    view = await session_ops.here(runtime, actor=actor, **_place(invocation))
    await end_and_post(runtime, invocation.client, actor=actor, session_id=view.id)


async def _open_start_modal(invocation: Invocation) -> None:
    view = start_modal(actor=invocation.actor, **_place(invocation))
    await invocation.client.views_open(trigger_id=invocation.body["trigger_id"], view=view)


async def _open_members_modal(invocation: Invocation) -> None:
    runtime, actor = invocation.runtime, invocation.actor
    here = await session_ops.here(runtime, actor=actor, **_place(invocation))
    await open_members_modal(
        runtime, invocation.client, actor=actor, session_id=here.id, trigger_id=invocation.body["trigger_id"]
    )


async def open_members_modal(
    runtime: Runtime, client: Any, *, actor: Actor, session_id: int, trigger_id: str
) -> None:
    """The members modal of a session `actor` may change (raises PolicyDenied otherwise)."""
    view = await session_ops.editable(runtime, actor=actor, session_id=session_id)
    modal = session_modal(
        callback_id=ids.SESSION_MEMBERS_MODAL,
        metadata={"session_id": view.id, "channel_id": view.channel_id},
        members={member.user_id: member.role for member in view.members},
    )
    await client.views_open(trigger_id=trigger_id, view=modal)


def _place(invocation: Invocation) -> dict[str, Any]:
    body = invocation.body
    return {"channel_id": body["channel_id"], "thread_ts": body.get("thread_ts") or None}
