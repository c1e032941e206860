"""Modals: asking for the reason behind a rejection or a break-glass."""

from __future__ import annotations

import json
from typing import Any

from blocks import ids
from blocks.text import escape, plain, truncate

REASON_MAX_LENGTH = 2000


def reject_modal(*, plan_id: int, channel_id: str, summary: str) -> dict[str, Any]:
    return _reason_modal(
        callback_id=ids.REJECT_MODAL,
        plan_id=plan_id,
        channel_id=channel_id,
        title=f"Reject plan #{plan_id}",
        submit="Reject",
        intro=f"You are rejecting *{escape(summary)}*.",
        label="Why? The reason is shown on the plan card.",
    )


def break_glass_modal(*, plan_id: int, channel_id: str, summary: str, reasons: list[str]) -> dict[str, Any]:
    standing = "\n".join(f"• {escape(r)}" for r in reasons) or "• nothing"
    return _reason_modal(
        callback_id=ids.BREAK_GLASS_MODAL,
        plan_id=plan_id,
        channel_id=channel_id,
        title=f"Break glass #{plan_id}",
        submit="Break glass",
        intro=(
            f":rotating_light: You are forcing *{escape(summary)}* to run with the approvals it has, "
            f"overriding:\n{standing}\nThe security channel is told, and it is audited."
        ),
        label="Why can this not wait? Your reason goes to the security channel.",
    )


def _reason_modal(
    *, callback_id: str, plan_id: int, channel_id: str, title: str, submit: str, intro: str, label: str
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps({"plan_id": plan_id, "channel_id": channel_id}),
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Back", 24),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": truncate(intro, 3000)}},
            {
                "type": "input",
                "block_id": ids.REASON_BLOCK,
                "label": plain(label, 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.REASON_INPUT,
                    "multiline": True,
                    "max_length": REASON_MAX_LENGTH,
                },
            },
        ],
    }
