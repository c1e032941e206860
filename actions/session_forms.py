"""Change sessions beyond the slash command: the message shortcut that declares a thread a session
(slash commands cannot be typed in threads), the start and members modals (their fields checked
inside the ack, refusals shown beside them), and the Members and End buttons on a session's message."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from actions import fields, forms, payloads, surfaces
from actions.errors import reported
from actions.fields import FieldError
from actions.sessions import end_and_post, open_members_modal, post_here, start_modal
from blocks import ids
from blocks.sessions import members_changed, role_block, session_started
from blocks.text import section
from bot import change_sessions, session_ops
from bot.change_sessions import RosterError
from bot.domain import SessionRole
from bot.errors import UserError
from bot.operations import Runtime


def register(app: AsyncApp, *, runtime: Runtime) -> None:
    @app.shortcut(ids.SESSION_SHORTCUT)
    async def handle_session_from_message(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts") or message.get("ts") or body.get("message_ts")
        channel_id = (body.get("channel") or {}).get("id", "")
        view = start_modal(actor=payloads.interaction_actor(body), channel_id=channel_id, thread_ts=thread_ts)
        # Not queued behind other follow-up work: the trigger_id is good for 3 seconds only.
        runtime.supervisor.spawn(
            client.views_open(trigger_id=body["trigger_id"], view=view), name="session-modal"
        )

    forms.register(
        app,
        runtime,
        ids.SESSION_START_MODAL,
        read=_start_fields,
        act=_start,
        doing="starting the session",
    )
    forms.register(
        app, runtime, ids.SESSION_MEMBERS_MODAL, read=_roster, act=_save_members, doing="saving the members"
    )

    @app.action(ids.SESSION_MEMBERS)
    async def handle_session_members(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        await ack()
        actor, trigger_id = payloads.interaction_actor(body), body["trigger_id"]

        async def open_modal() -> None:
            session_id = _session_id(payloads.clicked(body)[1])
            await open_members_modal(
                runtime, client, actor=actor, session_id=session_id, trigger_id=trigger_id
            )

        say = surfaces.replier(runtime, body, respond, client)
        # The trigger_id lasts 3 seconds: this does not wait its turn behind other follow-up work.
        runtime.supervisor.spawn(
            reported(open_modal, say, doing="opening the members"), name="session-members"
        )

    @app.action(ids.SESSION_END)
    async def handle_session_end(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        await ack()
        actor = payloads.interaction_actor(body)

        async def end() -> None:
            await end_and_post(
                runtime, client, actor=actor, session_id=_session_id(payloads.clicked(body)[1])
            )

        say = surfaces.replier(runtime, body, respond, client)
        runtime.after_ack.submit(reported(end, say, doing="ending the session"), name="session-end")


async def _start(submission: forms.Submission, fields_read: tuple[str, dict[str, SessionRole]]) -> None:
    name, members = fields_read
    context = submission.context
    started = await session_ops.start(
        submission.runtime,
        actor=submission.actor,
        name=name,
        channel_id=str(context.get("channel_id") or ""),
        thread_ts=context.get("thread_ts") or None,
        members=members,
    )
    await post_here(submission.client, started, *session_started(started))


async def _save_members(submission: forms.Submission, members: dict[str, SessionRole]) -> None:
    session_id = _session_id(str(submission.context.get("session_id") or ""))
    changed, change = await session_ops.set_members(
        submission.runtime, actor=submission.actor, session_id=session_id, members=members
    )
    text = members_changed(changed, change.joined, change.left)
    await post_here(submission.client, changed, text, [section(text)])


def _start_fields(view: dict[str, Any]) -> tuple[str, dict[str, SessionRole]]:
    """The name and the roster, every refusal shown beside its field at once."""
    errors: dict[str, str] = {}
    for read in (_name, _roster):
        try:
            read(view)
        except FieldError as exc:
            errors.update(exc.errors)
    if errors:
        raise FieldError(errors)
    return _name(view), _roster(view)


def _name(view: dict[str, Any]) -> str:
    return fields.checked(view, ids.SESSION_NAME_BLOCK, change_sessions.check_name)


def _roster(view: dict[str, Any]) -> dict[str, SessionRole]:
    """The members picked per role; FieldError beside the role that is wrong."""
    picked = {role: fields.users(view, role_block(role)) for role in SessionRole}
    try:
        return change_sessions.roster(picked)
    except RosterError as exc:
        raise FieldError.at(role_block(exc.role), exc.message) from None


def _session_id(raw: str) -> int:
    try:
        return payloads.positive_id(raw, "a session")
    except UserError:
        raise UserError("This session's button or form is out of date; use `/carapulse session`.") from None
