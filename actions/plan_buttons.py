"""The plan card's buttons: Approve, Reject (opens the reason modal), Dry run and Cancel."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from actions import payloads
from actions.errors import ephemeral_responder, reporting
from blocks import ids
from blocks.modals import reject_modal
from bot import operations
from bot.operations import Runtime


def register(app: AsyncApp, *, runtime: Runtime) -> None:
    @app.action(ids.PLAN_APPROVE)
    async def handle_plan_approve(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        runtime.supervisor.spawn(_approve(runtime, body, respond), name="plan-approve")

    @app.action(ids.PLAN_REJECT)
    async def handle_plan_reject(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        await ack()
        runtime.supervisor.spawn(_open_reject_modal(runtime, body, respond, client), name="plan-reject")

    @app.action(ids.PLAN_DRY_RUN)
    async def handle_plan_dry_run(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        runtime.supervisor.spawn(_dry_run(runtime, body, respond), name="plan-dry-run")

    @app.action(ids.PLAN_CANCEL)
    async def handle_plan_cancel(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        runtime.supervisor.spawn(_cancel(runtime, body, respond), name="plan-cancel")


async def _approve(runtime: Runtime, body: dict[str, Any], respond: Any) -> None:
    async with reporting(ephemeral_responder(respond), doing="approving the plan"):
        await operations.approve(
            runtime,
            approver=payloads.interaction_actor(body),
            plan_id=payloads.plan_id_from_action(body),
        )


async def _dry_run(runtime: Runtime, body: dict[str, Any], respond: Any) -> None:
    async with reporting(ephemeral_responder(respond), doing="rehearsing the plan"):
        await operations.dry_run(
            runtime,
            actor=payloads.interaction_actor(body),
            plan_id=payloads.plan_id_from_action(body),
        )


async def _cancel(runtime: Runtime, body: dict[str, Any], respond: Any) -> None:
    async with reporting(ephemeral_responder(respond), doing="cancelling the plan"):
        await operations.cancel(
            runtime,
            actor=payloads.interaction_actor(body),
            plan_id=payloads.plan_id_from_action(body),
        )


async def _open_reject_modal(runtime: Runtime, body: dict[str, Any], respond: Any, client: Any) -> None:
    async with reporting(ephemeral_responder(respond), doing="opening the reject dialog"):
        view = await operations.check_can_reject(
            runtime,
            actor=payloads.interaction_actor(body),
            plan_id=payloads.plan_id_from_action(body),
        )
        channel_id = (body.get("channel") or {}).get("id") or body["container"]["channel_id"]
        await client.views_open(
            trigger_id=body["trigger_id"],
            view=reject_modal(plan_id=view.id, channel_id=channel_id, summary=view.summary),
        )
