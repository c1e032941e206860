"""Raw Slack JSON in, typed values out: the only place listeners read payload fields."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from blocks.ids import WORKFLOW_INPUT
from bot.domain import Actor
from bot.errors import UserError


class CardContext(BaseModel):
    """Where a modal was opened from, carried through the view's private_metadata."""

    plan_id: int
    channel_id: str


class WorkflowFormContext(BaseModel):
    """Which workflow a start form is for and where its plan card goes (the view's private_metadata)."""

    workflow: str
    channel_id: str
    thread_ts: str | None = None


def command_actor(body: dict[str, Any]) -> Actor:
    return Actor(team_id=body["team_id"], user_id=body["user_id"])


def interaction_actor(body: dict[str, Any]) -> Actor:
    team_id = (body.get("team") or {}).get("id") or body["user"]["team_id"]
    return Actor(team_id=team_id, user_id=body["user"]["id"])


def plan_id_from_action(body: dict[str, Any]) -> int:
    return parse_plan_id(body["actions"][0].get("value", ""))


def parse_plan_id(raw: str) -> int:
    text = raw.strip().lstrip("#")
    if not text.isdigit() or int(text) <= 0:
        raise UserError(f"{raw.strip() or 'nothing'!s} is not a plan id; plan ids are numbers like 42.")
    return int(text)


def card_context(view: dict[str, Any]) -> CardContext:
    try:
        return CardContext.model_validate(json.loads(view.get("private_metadata") or "{}"))
    except (ValueError, ValidationError):
        raise UserError("This dialog has lost track of its plan; open it again from the card.") from None


def workflow_form_context(view: dict[str, Any]) -> WorkflowFormContext:
    try:
        return WorkflowFormContext.model_validate(json.loads(view.get("private_metadata") or "{}"))
    except (ValueError, ValidationError):
        raise UserError("This form has lost track of its workflow; start it again.") from None


def form_values(view: dict[str, Any]) -> dict[str, str | None]:
    """Each input block's value by block_id, as text: a typed or numeric value, or a chosen option's
    value; None when the input was left empty (Slack may leave such inputs out of the state)."""
    state = (view.get("state") or {}).get("values", {})
    values: dict[str, str | None] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input" or not block.get("block_id"):
            continue
        element = state.get(block["block_id"], {}).get(WORKFLOW_INPUT) or {}
        option = element.get("selected_option") or {}
        values[block["block_id"]] = element.get("value") if "value" in element else option.get("value")
    return values


def input_value(view: dict[str, Any], block_id: str, action_id: str) -> str:
    value = view["state"]["values"].get(block_id, {}).get(action_id, {}).get("value")
    return value or ""


def clicked(body: dict[str, Any]) -> tuple[str, str]:
    """The action_id and value of the button clicked."""
    action = body["actions"][0]
    return action["action_id"], str(action.get("value") or "")


def clicked_page(body: dict[str, Any]) -> dict[str, Any]:
    """What a paging button carries (a JSON object naming its list), its `page` a number from 0."""
    try:
        key = json.loads(clicked(body)[1] or "{}")
        page = int(key.get("page", 0))
    except (ValueError, TypeError, AttributeError):
        raise UserError("This button is out of date; open the list again.") from None
    if page < 0:
        raise UserError("This button is out of date; open the list again.")
    return {**key, "page": page}


def positive_id(raw: str, what: str) -> int:
    """`3` or `#3` as an id; UserError naming `what` otherwise."""
    text = raw.strip().lstrip("#")
    if not text.isdigit() or int(text) <= 0:
        raise UserError(f"{raw.strip()[:20] or 'nothing'} is not {what} id; ids are numbers like 3.")
    return int(text)
