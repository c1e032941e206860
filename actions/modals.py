"""Modal submissions: the reason for a rejection or a break-glass. A blank reason is refused inside
the modal; otherwise the operation runs after the ack and reports failures ephemerally."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from actions import payloads
from actions.errors import reporting
from blocks import ids
from bot import operations
from bot.domain import Actor
from bot.errors import UserError
from bot.operations import Runtime

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
        runtime.supervisor.spawn(
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
    async def say(message: str) -> None:
        await client.chat_postEphemeral(channel=card.channel_id, user=actor.user_id, text=message)

    async with reporting(say, doing=doing):
        await operation(runtime, actor, card.plan_id, reason)
