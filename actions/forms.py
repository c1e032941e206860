"""One way the modals of notes, runbooks, playbooks, schedules and change sessions are submitted:
their fields are read and checked inside the ack (a refusal shown beside its field, nothing stored),
then the work runs after the ack and its outcome is told where the modal came from
(actions/surfaces.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncApp

from actions import fields, payloads, surfaces
from actions.errors import Say, reported
from actions.fields import FieldError
from bot.domain import Actor
from bot.operations import Runtime

T = TypeVar("T")


@dataclass(frozen=True)
class Submission:
    """A modal submitted: by whom, what it carried (private_metadata), where to tell them, and the
    Web API client of their workspace (for work that posts where the modal was opened)."""

    runtime: Runtime
    actor: Actor
    context: dict[str, Any]
    say: Say
    view_id: str
    client: Any


def register(
    app: AsyncApp,
    runtime: Runtime,
    callback_id: str,
    *,
    read: Callable[[dict[str, Any]], T],
    act: Callable[[Submission, T], Awaitable[None]],
    doing: str,
) -> None:
    """`read(view)` raises FieldError for what is wrong; `act(submission, what read returned)`."""

    async def handle_form(ack: Any, body: dict[str, Any], client: Any) -> None:
        view = body["view"]
        try:
            value = read(view)
        except FieldError as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        await ack()
        actor, context = payloads.interaction_actor(body), fields.metadata(view)
        say = surfaces.teller(runtime, client, actor, str(context.get("channel_id") or ""))
        submission = Submission(runtime, actor, context, say, view["id"], client)
        runtime.after_ack.submit(
            reported(partial(act, submission, value), say, doing=doing), name=callback_id
        )

    app.view(callback_id)(handle_form)
