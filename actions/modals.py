"""Modal submissions: the reason for a rejection or a break-glass, and the form that starts a
workflow. A blank reason or a wrong input is refused inside the modal, beside its field; otherwise
the work runs after the ack and reports failures ephemerally."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp

from actions import payloads, surfaces
from actions.errors import channel_ephemeral, reported, reporting
from blocks import ids
from bot import operations
from bot.domain import Actor
from bot.errors import UserError
from bot.operations import Runtime
from bot.workflows.catalog import WorkflowRequest
from bot.workflows.forms import InvalidInputs

ReasonOperation = Callable[[Runtime, Actor, int, str], Awaitable[Any]]

# callback_id → (what a blank reason is told, what the user sees it doing if it fails, the operation)
_REASON_MODALS: dict[str, tuple[str, str, ReasonOperation]] = {
    ids.REJECT_MODAL: (
        "Give a reason; it is shown on the plan card.",
        "rejecting the plan",
        lambda runtime, actor, plan_id, reason: operations.reject(
            runtime, actor=actor, plan_id=plan_id, reason=reason
        ),
    ),
    ids.BREAK_GLASS_MODAL: (
        "Give a reason; it goes to the security channel and the audit log.",
        "breaking glass",
        lambda runtime, actor, plan_id, reason: operations.break_glass_plan(
            runtime, actor=actor, plan_id=plan_id, reason=reason
        ),
    ),
}


def register(app: AsyncApp, *, runtime: Runtime) -> None:
    for callback_id, (blank, doing, operation) in _REASON_MODALS.items():
        app.view(callback_id)(_reason_submission(runtime, callback_id, blank, doing, operation))


def _reason_submission(
    runtime: Runtime, callback_id: str, blank: str, doing: str, operation: ReasonOperation
) -> Callable[..., Awaitable[None]]:
    async def handle_reason_modal(ack: Any, body: dict[str, Any], client: Any) -> None:
        view = body["view"]
        reason = payloads.input_value(view, ids.REASON_BLOCK, ids.REASON_INPUT).strip()
        if not reason:
            await ack(response_action="errors", errors={ids.REASON_BLOCK: blank})
            return
        try:
            card = payloads.card_context(view)
        except UserError as exc:
            await ack(response_action="errors", errors={ids.REASON_BLOCK: exc.message})
            return
        await ack()
        actor = payloads.interaction_actor(body)
        runtime.after_ack.submit(
            _submit(runtime, client, actor, card, reason, doing, operation),
            name=f"{callback_id}-{card.plan_id}",
        )

    return handle_reason_modal


async def _submit(
    runtime: Runtime,
    client: Any,
    actor: Actor,
    card: payloads.CardContext,
    reason: str,
    doing: str,
    operation: ReasonOperation,
) -> None:
    async with reporting(surfaces.teller(runtime, client, actor, card.channel_id), doing=doing):
        await operation(runtime, actor, card.plan_id, reason)


def register_workflow_form(app: AsyncApp, *, runtime: Runtime) -> None:
    @app.view(ids.WORKFLOW_START_MODAL)
    async def handle_workflow_start_modal(ack: Any, body: dict[str, Any], client: Any) -> None:
        view = body["view"]
        form = payloads.workflow_form_context(view)
        typed = payloads.form_values(view)
        try:
            start = operations.workflow_start(runtime, WorkflowRequest(name=form.workflow, typed=typed))
        except InvalidInputs as exc:
            await ack(response_action="errors", errors=beside_fields(exc.problems, list(typed)))
            return
        await ack()
        actor = payloads.interaction_actor(body)
        intent = f"workflow start {form.workflow} (form)"
        planning = partial(
            operations.start_workflow,
            runtime,
            requester=actor,
            channel_id=form.channel_id,
            thread_ts=form.thread_ts,
            start=start,
            intent=intent,
            source_key=f"view:{view['id']}",
        )
        say = channel_ephemeral(client, form.channel_id, actor.user_id)
        runtime.after_ack.submit(
            reported(planning, say, doing="planning the workflow"), name=f"workflow-{form.workflow}"
        )


def beside_fields(problems: dict[str, str], fields: list[str]) -> dict[str, str]:
    """Slack shows an error under the block it names; a problem with no field of its own (one
    between inputs) goes under the first field."""
    errors: dict[str, str] = {}
    for name, message in problems.items():
        block = name if name in fields else fields[0]
        errors[block] = f"{errors[block]}; {message}" if block in errors else message
    return errors
