"""Approve on a card that asks for a typed confirmation: the dialog, and its submission. A wrong
word is refused beside the field; the right one approves through the same service as a click."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp

from actions import payloads
from actions.errors import channel_ephemeral, ephemeral_responder, reported, reporting
from blocks import ids
from blocks.confirmations import confirm_modal
from bot import operations
from bot.errors import UserError
from bot.operations import Runtime


def register(app: AsyncApp, *, runtime: Runtime) -> None:
    @app.view(ids.PLAN_CONFIRM_MODAL)
    async def handle_plan_confirm_modal(ack: Any, body: dict[str, Any], client: Any) -> None:
        view = body["view"]
        typed = payloads.input_value(view, ids.CONFIRM_BLOCK, ids.CONFIRM_INPUT).strip()
        try:
            context = payloads.confirm_context(view)
        except UserError as exc:
            await ack(response_action="errors", errors={ids.CONFIRM_BLOCK: exc.message})
            return
        if typed != context.expected:
            refusal = f"Type {context.expected} exactly to approve; nothing was approved."
            await ack(response_action="errors", errors={ids.CONFIRM_BLOCK: refusal})
            return
        await ack()
        actor = payloads.interaction_actor(body)
        approving = partial(
            operations.approve,
            runtime,
            approver=actor,
            plan_id=context.plan_id,
            version=context.version,
            confirmation=typed,
        )
        say = channel_ephemeral(client, context.channel_id, actor.user_id)
        runtime.after_ack.submit(
            reported(approving, say, doing="approving the plan"), name=f"plan-confirm-{context.plan_id}"
        )


async def open_dialog(runtime: Runtime, body: dict[str, Any], respond: Any, client: Any) -> None:
    """Check the approval could go through before asking for the word; open the dialog with the
    click's trigger (good for 3 seconds)."""
    async with reporting(ephemeral_responder(respond), doing="opening the approval dialog"):
        ref = payloads.plan_ref_from_action(body)
        view = await operations.check_can_approve(
            runtime, actor=payloads.interaction_actor(body), plan_id=ref.plan_id, version=ref.version
        )
        if not view.confirm_word:
            # Asked for typing when drawn, not any more: the click approves as it is.
            await operations.approve(
                runtime, approver=payloads.interaction_actor(body), plan_id=ref.plan_id, version=ref.version
            )
            return
        channel_id = (body.get("channel") or {}).get("id") or body["container"]["channel_id"]
        await client.views_open(
            trigger_id=body["trigger_id"], view=confirm_modal(view, channel_id=channel_id)
        )
