"""The dialog that asks an approver to type a word before a high-risk plan in production is
approved."""

from __future__ import annotations

import json
from typing import Any

from blocks import ids
from blocks.text import escape, plain, section
from bot.domain import PlanView


def confirm_modal(view: PlanView, *, channel_id: str) -> dict[str, Any]:
    word = view.confirm_word
    metadata = {"plan_id": view.id, "version": view.version, "channel_id": channel_id, "expected": word}
    steps = "\n".join(f"• `{escape(step.action)}`: {escape(step.description)}" for step in view.steps[:10])
    return {
        "type": "modal",
        "callback_id": ids.PLAN_CONFIRM_MODAL,
        "private_metadata": json.dumps(metadata),
        "title": plain(f"Approve plan #{view.id}", 24),
        "submit": plain("Approve", 24),
        "close": plain("Back", 24),
        "blocks": [
            section(
                f":warning: *{escape(view.summary)}* (v{view.version}) is *high risk* in "
                f"*{escape(view.target.environment)}*, a production environment:\n{steps}"
            ),
            {
                "type": "input",
                "block_id": ids.CONFIRM_BLOCK,
                "label": plain(f"Type {word} to approve", 2000),
                "element": {"type": "plain_text_input", "action_id": ids.CONFIRM_INPUT, "max_length": 255},
            },
        ],
    }
