"""What escalation says: the ping to the approvers and the page notice in a plan's thread, the
approval window on the card, and the reason an expired plan gives."""

from __future__ import annotations

from typing import Any

from blocks.text import duration, escape, section, slack_date
from bot.domain import PlanView


def ping_reply(view: PlanView, *, usergroup: str) -> tuple[str, list[dict[str, Any]]]:
    who = f"<!subteam^{usergroup}>" if usergroup else "Approvers"
    missing = view.approvals_missing
    text = f"Plan #{view.id} needs {missing} more approval{'s' if missing != 1 else ''}"
    lines = [
        f":mega: {who}: plan #{view.id} (*{escape(view.summary)}*, v{view.version}) is waiting for "
        f"{missing} more approval{'s' if missing != 1 else ''}.",
        *window_lines(view),
    ]
    return text, [section("\n".join(lines))]


def page_reply(view: PlanView) -> tuple[str, list[dict[str, Any]]]:
    text = f"Plan #{view.id}: on-call paged through PagerDuty"
    lines = [
        f":rotating_light: Nobody has approved plan #{view.id} yet: on-call was paged through PagerDuty.",
        *window_lines(view),
    ]
    return text, [section("\n".join(lines))]


def window_lines(view: PlanView) -> list[str]:
    """The approval window and the escalation so far, for a plan that waits."""
    lines = [
        f":mega: Approvers pinged {slack_date(e.at)}."
        if e.step == "ping"
        else f":rotating_light: On-call paged through PagerDuty {slack_date(e.at)}."
        for e in view.escalations
    ]
    if view.approval_closes_at is not None:
        closes = view.approval_closes_at
        lines.append(
            f":alarm_clock: The approval window closes {slack_date(closes, '{ago}')} "
            f"({slack_date(closes)}); the plan expires then unless it is approved."
        )
    return lines


def expired_reason(version: int, window_seconds: float) -> str:
    return (
        f"Nobody let v{version} run within its approval window ({duration(window_seconds)}); "
        "the plan expired and nothing ran. Ask again if it is still needed."
    )
