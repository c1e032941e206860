"""The pieces every modal of notes, runbooks, playbooks and schedules is made of: the modal itself,
a text input, a button, and the paging buttons of a list."""

from __future__ import annotations

import json
import re
from typing import Any

from blocks import ids
from blocks.text import BUTTON_TEXT_MAX, plain, truncate

TITLE_MAX = 24
TEXT_INPUT_MAX = 3000


def modal(
    *,
    callback_id: str,
    title: str,
    blocks: list[dict[str, Any]],
    submit: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, TITLE_MAX),
        "close": plain("Cancel" if submit else "Close", TITLE_MAX),
        "blocks": blocks,
    }
    if submit:
        view["submit"] = plain(submit, TITLE_MAX)
    if metadata:
        view["private_metadata"] = json.dumps(metadata)
    return view


def text_input(
    block_id: str,
    label: str,
    *,
    initial: str | None = None,
    multiline: bool = False,
    max_length: int = TEXT_INPUT_MAX,
    optional: bool = False,
    hint: str = "",
    placeholder: str = "",
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.FIELD_INPUT,
        "multiline": multiline,
        "max_length": max_length,
    }
    if initial:
        element["initial_value"] = truncate(initial, max_length)
    if placeholder:
        element["placeholder"] = plain(placeholder, 150)
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "optional": optional,
        "element": element,
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def button(label: str, action_id: str, value: str = "", *, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": plain(label, BUTTON_TEXT_MAX),
    }
    if value:
        element["value"] = value[:2000]
    if style:
        element["style"] = style
    return element


def pager_clicks(action_id: str) -> re.Pattern[str]:
    """Matches the action_ids of the buttons `pager(action_id, …)` makes, for a listener."""
    return re.compile(rf"^{re.escape(action_id)}_(previous|next)$")


def pager(action_id: str, *, number: int, has_more: bool, key: dict[str, Any]) -> list[dict[str, Any]]:
    """Previous/Next buttons for page `number` (from 0) of a list; each button's value is `key`
    with the page it leads to, as JSON. None when everything fits on one page."""
    buttons = []
    if number > 0:
        buttons.append(button("◀ Previous", action_id + "_previous", json.dumps({**key, "page": number - 1})))
    if has_more:
        buttons.append(button("Next ▶", action_id + "_next", json.dumps({**key, "page": number + 1})))
    return buttons


def channel_input(label: str = "Post the plan card in") -> dict[str, Any]:
    """For modals opened where there is no channel (the App Home): where the card goes."""
    return {
        "type": "input",
        "block_id": ids.CHANNEL_BLOCK,
        "label": plain(label, 2000),
        "element": {
            "type": "conversations_select",
            "action_id": ids.FIELD_INPUT,
            "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        },
    }
