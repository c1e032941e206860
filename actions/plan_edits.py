"""Edit on a plan card: the dialog with the plan's inputs (its workflow's form, or the request's
text), and its submission, which makes the next version of the plan. A wrong input is refused
beside its field; the re-planning runs after the ack and reports failures ephemerally."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp

from actions import payloads
from actions.errors import channel_ephemeral, ephemeral_responder, reported, reporting
from actions.modals import beside_fields
from blocks import ids
from blocks.revisions import intent_edit_modal, workflow_edit_modal
from bot import operations, plan_edits
from bot.domain import PlanDraft
from bot.errors import UserError
from bot.operations import Runtime, WorkflowStart
from bot.workflows.catalog import WorkflowRequest
from bot.workflows.forms import InvalidInputs


def register(app: AsyncApp, *, runtime: Runtime) -> None:
    @app.action(ids.PLAN_EDIT)
    async def handle_plan_edit(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        await ack()
        # Not queued behind other follow-up work: the click's trigger_id is good for 3 seconds only.
        runtime.supervisor.spawn(_open(runtime, body, respond, client), name=ids.PLAN_EDIT)

    @app.view(ids.PLAN_EDIT_MODAL)
    async def handle_plan_edit_modal(ack: Any, body: dict[str, Any], client: Any) -> None:
        view = body["view"]
        try:
            context = payloads.edit_context(view)
            change, intent = _change(runtime, view, context)
        except InvalidInputs as exc:
            await ack(response_action="errors", errors=beside_fields(exc.problems, _fields(view)))
            return
        except UserError as exc:
            await ack(response_action="errors", errors={_fields(view)[0]: exc.message})
            return
        await ack()
        actor = payloads.interaction_actor(body)
        editing = partial(
            plan_edits.edit,
            runtime,
            editor=actor,
            plan_id=context.plan_id,
            version=context.version,
            change=change,
            intent=intent,
        )
        say = channel_ephemeral(client, context.channel_id, actor.user_id)
        runtime.after_ack.submit(
            reported(editing, say, doing="editing the plan"), name=f"plan-edit-{context.plan_id}"
        )


async def _open(runtime: Runtime, body: dict[str, Any], respond: Any, client: Any) -> None:
    async with reporting(ephemeral_responder(respond), doing="opening the edit dialog"):
        ref = payloads.plan_ref_from_action(body)
        form = await plan_edits.open_edit(
            runtime, editor=payloads.interaction_actor(body), plan_id=ref.plan_id, version=ref.version
        )
        channel_id = (body.get("channel") or {}).get("id") or body["container"]["channel_id"]
        modal = (
            workflow_edit_modal(form.workflow, form.view, channel_id=channel_id)
            if form.workflow is not None
            else intent_edit_modal(form.view, channel_id=channel_id)
        )
        await client.views_open(trigger_id=body["trigger_id"], view=modal)


def _change(
    runtime: Runtime, view: dict[str, Any], context: payloads.EditContext
) -> tuple[PlanDraft | WorkflowStart, str]:
    """What the dialog asks for, checked as far as it can be without I/O, and its request's words."""
    if context.workflow is not None:
        request = WorkflowRequest(name=context.workflow, typed=payloads.form_values(view))
        start = operations.workflow_start(runtime, request)
        return start, plan_edits.form_intent(start)
    text = payloads.input_value(view, ids.EDIT_INTENT_BLOCK, ids.EDIT_INTENT_INPUT).strip()
    if not text:
        raise UserError("Say what the plan should do, e.g. `scale checkout to 5 in shop`.")
    return operations.understand(runtime, text), text


def _fields(view: dict[str, Any]) -> list[str]:
    blocks = [block["block_id"] for block in view.get("blocks") or [] if block.get("type") == "input"]
    return blocks or [ids.EDIT_INTENT_BLOCK]
