"""Raw Slack JSON in, typed values out: the only place listeners read payload fields."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from blocks.ids import WORKFLOW_INPUT
from bot.domain import Actor
from bot.errors import UserError
from bot.mentions import Mention


class CardContext(BaseModel):
    """Where a modal was opened from, carried through the view's private_metadata."""

    plan_id: int
    channel_id: str
    version: int | None = None


class ConfirmContext(CardContext):
    """A typed-confirmation dialog: the plan, the version it shows, and the word to type."""

    version: int
    expected: str


class EditContext(CardContext):
    """An edit dialog: the plan, the version it shows, and the workflow whose form it is (None: the
    request's text)."""

    version: int
    workflow: str | None = None


@dataclass(frozen=True)
class PlanRef:
    """A card button's value: the plan, and the version the card showed (None: not said)."""

    plan_id: int
    version: int | None
    confirm: bool = False
    """The card asked for a typed confirmation: the click opens the dialog that takes it."""


ContextT = TypeVar("ContextT", bound=CardContext)


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
    return plan_ref_from_action(body).plan_id


def plan_ref_from_action(body: dict[str, Any]) -> PlanRef:
    """`42:3` (plan 42 as v3 showed it), `42:3:confirm` (its Approve asks for a typed confirmation)
    or `42` (a card drawn before plans had versions)."""
    raw = body["actions"][0].get("value", "")
    plan, colon, rest = raw.partition(":")
    version, flagged, flag = rest.partition(":")
    if colon and not (version.isdigit() and int(version) > 0 and flag == ("confirm" if flagged else "")):
        raise UserError(f"{raw!r} is not a plan button's value; use the buttons on the plan card.")
    return PlanRef(parse_plan_id(plan), int(version) if version else None, confirm=flag == "confirm")


def parse_plan_id(raw: str) -> int:
    text = raw.strip().lstrip("#")
    if not text.isdigit() or int(text) <= 0:
        raise UserError(f"{raw.strip() or 'nothing'!s} is not a plan id; plan ids are numbers like 42.")
    return int(text)


def card_context(view: dict[str, Any]) -> CardContext:
    return _card_context(CardContext, view)


def edit_context(view: dict[str, Any]) -> EditContext:
    return _card_context(EditContext, view)


def confirm_context(view: dict[str, Any]) -> ConfirmContext:
    return _card_context(ConfirmContext, view)


def _card_context(model: type[ContextT], view: dict[str, Any]) -> ContextT:
    try:
        return model.model_validate(json.loads(view.get("private_metadata") or "{}"))
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


def incident_id_from_action(body: dict[str, Any]) -> int:
    return parse_incident_id(body["actions"][0].get("value", ""))


def parse_incident_id(raw: str) -> int:
    text = raw.strip().lstrip("#")
    if not text.isdigit() or int(text) <= 0:
        raise UserError(
            f"{raw.strip() or 'nothing'!s} is not an incident id; incident ids are numbers like 7."
        )
    return int(text)


def clicked_thread(body: dict[str, Any]) -> tuple[str, str]:
    """The channel of a clicked message and the thread it is in (or starts)."""
    message = body.get("message") or {}
    channel_id = (body.get("channel") or {}).get("id") or body["container"]["channel_id"]
    return channel_id, message.get("thread_ts") or message.get("ts") or body["container"]["message_ts"]


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
