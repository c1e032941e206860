"""Reading the fields of this feature's modals: each field is checked by the service's own check, and
a refusal is shown under its field (`response_action: errors`) before anything is stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from actions import payloads
from blocks import ids
from bot.errors import UserError

T = TypeVar("T")


class FieldError(UserError):
    """Input refused in fields of a modal; Slack shows each message under its block."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors

    @classmethod
    def at(cls, block_id: str, message: str) -> FieldError:
        return cls({block_id: message})


def text(view: dict[str, Any], block_id: str) -> str:
    return payloads.input_value(view, block_id, ids.FIELD_INPUT)


def channel(view: dict[str, Any], metadata: dict[str, Any]) -> str:
    """The channel a modal's plan card goes to: the one it was opened in, else the one chosen in
    its channel field; FieldError when neither is there."""
    chosen = (view.get("state") or {}).get("values", {}).get(ids.CHANNEL_BLOCK, {}).get(ids.FIELD_INPUT, {})
    found = str(metadata.get("channel_id") or chosen.get("selected_conversation") or "")
    if not found:
        raise FieldError.at(ids.CHANNEL_BLOCK, "Choose the channel where the plan card goes.")
    return found


def checked(view: dict[str, Any], block_id: str, check: Callable[[str], T]) -> T:
    """The field's text as `check` reads it; its UserError becomes a FieldError for that field."""
    try:
        return check(text(view, block_id))
    except UserError as exc:
        raise FieldError.at(block_id, exc.message) from None


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """What the modal carries in private_metadata (a JSON object), or nothing."""
    try:
        value = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def users(view: dict[str, Any], block_id: str) -> list[str]:
    """The people picked in a users_select (one) or multi_users_select block; [] when none."""
    element = (view.get("state") or {}).get("values", {}).get(block_id, {}).get(ids.FIELD_INPUT) or {}
    picked = element.get("selected_users") or [element.get("selected_user")]
    return [user_id for user_id in picked if isinstance(user_id, str) and user_id]
