"""Modal submissions: the rejection reason."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from actions import payloads
from actions.errors import reporting
from blocks import ids
from bot import operations
from bot.domain import Actor
from bot.operations import Runtime


def register(app: AsyncApp, *, runtime: Runtime) -> None:
    @app.view(ids.REJECT_MODAL)
    async def handle_plan_reject_modal(ack: Any, body: dict[str, Any], client: Any) -> None:
        view = body["view"]
        reason = payloads.input_value(view, ids.REJECT_REASON_BLOCK, ids.REJECT_REASON_INPUT).strip()
        if not reason:
            await ack(
                response_action="errors",
                errors={ids.REJECT_REASON_BLOCK: "Give a reason; it is shown on the plan card."},
            )
            return
        card = payloads.card_context(view)
        await ack()
        actor = payloads.interaction_actor(body)
        runtime.supervisor.spawn(
            _reject(runtime, client, actor, card, reason), name=f"plan-reject-{card.plan_id}"
        )


async def _reject(
    runtime: Runtime, client: Any, actor: Actor, card: payloads.CardContext, reason: str
) -> None:
    async def say(message: str) -> None:
        await client.chat_postEphemeral(channel=card.channel_id, user=actor.user_id, text=message)

    async with reporting(say, doing="rejecting the plan"):
        await operations.reject(runtime, actor=actor, plan_id=card.plan_id, reason=reason)
