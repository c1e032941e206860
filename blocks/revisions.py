"""Plan versions on the card and the dialog that edits a plan."""

from __future__ import annotations

import json
from typing import Any

from blocks import ids
from blocks.text import escape, plain, section, slack_date, user
from blocks.workflows import form_modal
from bot.domain import PlanView, WorkflowInfo

INTENT_MAX_LENGTH = 3000


def plan_ref_value(plan_id: int, version: int, *, confirm: bool = False) -> str:
    """A card button's value: the plan and the version the card shows (`<plan_id>:<version>`), and
    for an Approve that asks for a typed confirmation, `:confirm`, so the click opens the dialog."""
    return f"{plan_id}:{version}" + (":confirm" if confirm else "")


def revision_blocks(view: PlanView) -> list[dict[str, Any]]:
    """From v2 on: who edited the plan, what changed against the version before, and whose
    approvals of that version are void."""
    revision = view.revision
    if revision is None:
        return []
    current, previous = revision.version, revision.version - 1
    edited = f"edited by {user(revision.edited_by)} {slack_date(revision.edited_at)}"
    lines = [
        f":pencil2: *v{current}*: {edited}. Changed against v{previous}:",
        *(f"• {escape(change)}" for change in revision.changes),
    ]
    if revision.voided_approvers:
        approvers = ", ".join(user(user_id) for user_id in revision.voided_approvers)
        lines.append(f":warning: Approvals of v{previous} by {approvers} are void; v{current} needs its own.")
    return [section("\n".join(lines), block_id=ids.PLAN_REVISION_BLOCK)]


def workflow_edit_modal(info: WorkflowInfo, view: PlanView, *, channel_id: str) -> dict[str, Any]:
    """The workflow's form with the plan's inputs filled in (`info` carries them as defaults)."""
    return form_modal(
        info,
        callback_id=ids.PLAN_EDIT_MODAL,
        metadata=_metadata(view, channel_id, workflow=info.ref.name),
        title=f"Edit plan #{view.id}",
        submit="Re-plan",
        intro=_intro(view),
    )


def intent_edit_modal(view: PlanView, *, channel_id: str) -> dict[str, Any]:
    """The request's text, to change and plan again."""
    return {
        "type": "modal",
        "callback_id": ids.PLAN_EDIT_MODAL,
        "private_metadata": _metadata_json(view, channel_id, workflow=None),
        "title": plain(f"Edit plan #{view.id}", 24),
        "submit": plain("Re-plan", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            section(_intro(view)),
            {
                "type": "input",
                "block_id": ids.EDIT_INTENT_BLOCK,
                "label": plain("What should the plan do?", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.EDIT_INTENT_INPUT,
                    "initial_value": view.intent[:INTENT_MAX_LENGTH],
                    "max_length": INTENT_MAX_LENGTH,
                },
            },
        ],
    }


def _intro(view: PlanView) -> str:
    return (
        f"You are editing *{escape(view.summary)}* (v{view.version}). Saving plans it again as "
        f"v{view.version + 1}: the policy decides it afresh and every approval of v{view.version} is void."
    )


def _metadata(view: PlanView, channel_id: str, *, workflow: str | None) -> dict[str, Any]:
    return {"plan_id": view.id, "version": view.version, "channel_id": channel_id, "workflow": workflow}


def _metadata_json(view: PlanView, channel_id: str, *, workflow: str | None) -> str:
    return json.dumps(_metadata(view, channel_id, workflow=workflow))
