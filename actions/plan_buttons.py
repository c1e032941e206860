"""The plan card's buttons: Approve, Dry run and Cancel act on the plan; Retry step, Skip step and Roll
back decide for an interrupted or cancelled one; Reject and Break glass open a reason modal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from actions import confirmations, payloads, surfaces
from actions.errors import Say, reporting
from actions.payloads import PlanRef
from blocks import ids
from blocks.modals import break_glass_modal, reject_modal
from bot import operations
from bot.domain import Actor, PlanView, Resolution
from bot.errors import UserError
from bot.operations import Runtime
from bot.resolutions import RESOLUTION_LABELS

PlanOperation = Callable[[Runtime, Actor, PlanRef], Awaitable[Any]]

# action_id → (what the user sees it doing if it fails, the operation it runs)
_PLAN_BUTTONS: dict[str, tuple[str, PlanOperation]] = {
    ids.PLAN_APPROVE: (
        "approving the plan",
        lambda runtime, actor, ref: operations.approve(
            runtime, approver=actor, plan_id=ref.plan_id, version=ref.version
        ),
    ),
    ids.PLAN_DRY_RUN: (
        "rehearsing the plan",
        lambda runtime, actor, ref: operations.dry_run(runtime, actor=actor, plan_id=ref.plan_id),
    ),
    ids.PLAN_CANCEL: (
        "cancelling the plan",
        lambda runtime, actor, ref: operations.cancel(runtime, actor=actor, plan_id=ref.plan_id),
    ),
    **{
        action_id: (
            f"choosing to {RESOLUTION_LABELS[resolution]}",
            lambda runtime, actor, ref, resolution=resolution: operations.resolve(
                runtime, actor=actor, plan_id=ref.plan_id, resolution=resolution
            ),
        )
        for action_id, resolution in (
            (ids.PLAN_RETRY_STEP, Resolution.RETRY),
            (ids.PLAN_SKIP_STEP, Resolution.SKIP),
            (ids.PLAN_ROLL_BACK, Resolution.ROLL_BACK),
        )
    },
}


def register(app: AsyncApp, *, runtime: Runtime) -> None:
    for action_id, (doing, operation) in _PLAN_BUTTONS.items():
        app.action(action_id)(_plan_button(runtime, action_id, doing, operation))

    for action_id, (doing, check, modal) in _MODAL_BUTTONS.items():
        app.action(action_id)(_modal_button(runtime, action_id, doing, check, modal))


def _plan_button(
    runtime: Runtime, action_id: str, doing: str, operation: PlanOperation
) -> Callable[..., Awaitable[None]]:
    async def handle_plan_button(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        await ack()
        if action_id == ids.PLAN_APPROVE and _asks_for_typing(body):
            # Not queued behind other follow-up work: the click's trigger_id is good for 3 seconds.
            opening = confirmations.open_dialog(runtime, body, respond, client)
            runtime.supervisor.spawn(opening, name=ids.PLAN_CONFIRM_MODAL)
            return
        say = surfaces.replier(runtime, body, respond, client)
        runtime.after_ack.submit(_run(runtime, body, say, doing, operation), name=action_id)

    return handle_plan_button


def _asks_for_typing(body: dict[str, Any]) -> bool:
    try:
        return payloads.plan_ref_from_action(body).confirm
    except UserError:
        return False  # the run that follows says what is wrong with the value


async def _run(
    runtime: Runtime, body: dict[str, Any], say: Say, doing: str, operation: PlanOperation
) -> None:
    async with reporting(say, doing=doing):
        await operation(runtime, payloads.interaction_actor(body), payloads.plan_ref_from_action(body))


ModalCheck = Callable[..., Awaitable[PlanView]]
ModalBuilder = Callable[[PlanView, str], dict[str, Any]]

# action_id → (what the user sees it doing if it fails, the check before the modal opens, the modal)
_MODAL_BUTTONS: dict[str, tuple[str, ModalCheck, ModalBuilder]] = {
    ids.PLAN_REJECT: (
        "opening the reject dialog",
        operations.check_can_reject,
        lambda view, channel_id: reject_modal(plan_id=view.id, channel_id=channel_id, summary=view.summary),
    ),
    ids.PLAN_BREAK_GLASS: (
        "opening the break-glass dialog",
        operations.check_can_break_glass,
        lambda view, channel_id: break_glass_modal(
            plan_id=view.id, channel_id=channel_id, summary=view.summary, reasons=view.decision.reasons
        ),
    ),
}


def _modal_button(
    runtime: Runtime, action_id: str, doing: str, check: ModalCheck, modal: ModalBuilder
) -> Callable[..., Awaitable[None]]:
    """Ack at once, check the plan and the clicker, then open the modal with the click's trigger."""

    async def handle_modal_button(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        await ack()
        opening = _open_modal(runtime, body, respond, client, doing, check, modal)
        # Not queued behind other follow-up work: the click's trigger_id is good for 3 seconds only.
        runtime.supervisor.spawn(opening, name=action_id)

    return handle_modal_button


async def _open_modal(
    runtime: Runtime,
    body: dict[str, Any],
    respond: Any,
    client: Any,
    doing: str,
    check: ModalCheck,
    modal: ModalBuilder,
) -> None:
    async with reporting(surfaces.replier(runtime, body, respond, client), doing=doing):
        view = await check(
            runtime, actor=payloads.interaction_actor(body), plan_id=payloads.plan_id_from_action(body)
        )
        # "" on the App Home: what the modal leads to is then told on the tab.
        await client.views_open(trigger_id=body["trigger_id"], view=modal(view, surfaces.channel_of(body)))
