"""Raw Slack JSON in, typed values out: the only place listeners read payload fields."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from blocks.ids import WORKFLOW_INPUT
from bot.domain import Actor
from bot.errors import UserError
from bot.mentions import Mention


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


def mention(body: dict[str, Any]) -> Mention | None:
    """An app_mention event, with the bot's own mention taken out of the text; None for an event that
    lacks who, where or when (nothing can be answered, so nothing is)."""
    event = body.get("event") or {}
    fields = (
        body.get("team_id") or event.get("team"),
        event.get("user"),
        event.get("channel"),
        event.get("ts"),
    )
    if not all(isinstance(value, str) and value for value in fields):
        return None
    team_id, user_id, channel_id, ts = fields
    text = event.get("text") if isinstance(event.get("text"), str) else ""
    for authorization in body.get("authorizations") or []:
        if isinstance(authorization, dict) and authorization.get("user_id"):
            text = text.replace(f"<@{authorization['user_id']}>", " ")
    thread_ts = event.get("thread_ts") if isinstance(event.get("thread_ts"), str) else None
    return Mention(
        requester=Actor(team_id=team_id, user_id=user_id),
        channel_id=channel_id,
        ts=ts,
        thread_ts=thread_ts,
        text=" ".join(text.split()),
    )


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
