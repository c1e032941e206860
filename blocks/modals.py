"""Modals: asking for a rejection reason."""

from __future__ import annotations

import json
from typing import Any

from blocks import ids
from blocks.text import escape, plain, truncate

REASON_MAX_LENGTH = 2000


def reject_modal(*, plan_id: int, channel_id: str, summary: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ids.REJECT_MODAL,
        "private_metadata": json.dumps({"plan_id": plan_id, "channel_id": channel_id}),
        "title": plain(f"Reject plan #{plan_id}", 24),
        "submit": plain("Reject", 24),
        "close": plain("Back", 24),
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"You are rejecting *{truncate(escape(summary), 2900)}*."},
            },
            {
                "type": "input",
                "block_id": ids.REJECT_REASON_BLOCK,
                "label": plain("Why? The reason is shown on the plan card.", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.REJECT_REASON_INPUT,
                    "multiline": True,
                    "max_length": REASON_MAX_LENGTH,
                },
            },
        ],
    }
